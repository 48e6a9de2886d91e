package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
)

// TestReadmeUsage keeps README's usage blocks in step with --help: the
// README holds the exact output of `sshport --help` and of `--help` for
// every command the CLI defines.
func TestReadmeUsage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	all := [][]string{{"--help"}}
	for _, c := range newApp(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, prober: checker.Static{}}).Commands {
		if !c.Hidden {
			all = append(all, []string{c.Name, "--help"})
		}
	}
	if len(all) < 3 {
		t.Fatalf("only %d help texts found: %v", len(all), all)
	}
	for _, args := range all {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"sshport"}, args...), &out, &errb, checker.Static{}); code != 0 {
			t.Fatalf("sshport %v: exit %d: %s", args, code, errb.String())
		}
		help := strings.TrimRight(out.String(), "\n")
		if !bytes.Contains(readme, []byte("```text\n"+help+"\n```")) {
			t.Errorf("README.md lacks the current output of `sshport %s`:\n%s", strings.Join(args, " "), help)
		}
	}
}
