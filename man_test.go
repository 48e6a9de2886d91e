package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/manpage"
)

// manPath is the generated man page the packages install. It is kept in
// step with the CLI definition by TestManPage; regenerate it with
// `go test . -run TestManPage -update`.
const manPath = "doc/sshport.1"

func renderManPage() []byte {
	app := newApp(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, prober: checker.Static{}})
	app.Setup() // adds --help and --version as the running binary has them
	return manpage.Render(app, manpage.Page{
		Section: "1",
		Source:  "sshport",
		Manual:  "User Commands",
		Extra: []manpage.Section{
			{Title: "Environment", Items: []manpage.Item{
				{Tag: "NO_COLOR", Text: "when set (to anything), the report is never coloured; otherwise colour is used only when standard output is a terminal."},
			}},
			{Title: "Files", Items: []manpage.Item{
				{Tag: "/etc/ssh/sshd_config", Text: "sshd's main configuration, the default of --config; its Include files are read as sshd reads them."},
				{Tag: "FILE.sshport-YYYYMMDDTHHMMSS", Text: "the backup suggest --apply leaves beside each file it changes."},
			}},
			{Title: "See also", Text: "sshd(8), sshd_config(5), ssh(1)"},
		},
	})
}

func TestManPage(t *testing.T) {
	got := renderManPage()
	if *update {
		if err := os.WriteFile(manPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(manPath)
	if err != nil {
		t.Fatalf("%v (generate it with go test . -run TestManPage -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the CLI definition; run go test . -run TestManPage -update", manPath)
	}
	// Every command and flag is in it.
	for _, c := range newApp(&env{prober: checker.Static{}}).Commands {
		if !bytes.Contains(got, []byte(".SS "+c.Name)) {
			t.Errorf("%s: no section for command %s", manPath, c.Name)
		}
		for _, f := range c.Flags {
			if !bytes.Contains(got, []byte(`\fB\-\-`+strings.ReplaceAll(f.Names()[0], "-", `\-`)+`\fR`)) {
				t.Errorf("%s: command %s: flag --%s missing", manPath, c.Name, f.Names()[0])
			}
		}
	}
	// groff finds no problem in it (all warnings on).
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not found: the page is not linted")
	}
	cmd := exec.Command(groff, "-man", "-ww", "-z", "-Tutf8", manPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
	}
}
