package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/sshdtest"
)

// completionScript writes `sshport completion SHELL` to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sshport", "completion", shell}, &out, &errb, checker.Static{}); code != 0 {
		t.Fatalf("sshport completion %s: exit %d: %s", shell, code, errb.String())
	}
	p := filepath.Join(t.TempDir(), "sshport."+shell)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// needShell returns the shell's path, or skips (fails under CI=true).
func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if sshdtest.InCI() {
			t.Fatalf("%s not found (CI is set: .ci/run installs it)", name)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

func TestCompletionArgs(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"sshport"}, args...), &out, &errb, checker.Static{})
		if code != exitError || out.Len() != 0 || !strings.HasPrefix(errb.String(), "sshport: completion: ") {
			t.Errorf("sshport %v: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, one error", args, code, out.String(), errb.String())
		}
	}
}

// topLevel is what completes after "sshport ": every command and global
// flag the CLI defines.
func topLevel(withFlags bool) []string {
	app := newApp(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, prober: checker.Static{}})
	app.Setup()
	var out []string
	for _, c := range app.VisibleCommands() {
		out = append(out, c.Name)
	}
	if withFlags {
		for _, f := range app.VisibleFlags() {
			for _, n := range f.Names() {
				out = append(out, dash(n))
			}
		}
	}
	return out
}

// TestCompletionBash runs the bash script's completion function as bash
// would on TAB and compares the candidates.
func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	script := completionScript(t, "bash")
	for _, w := range []string{"check", "suggest", "completion", "--config", "-f", "--root", "--json", "--help", "--version"} {
		if !slices.Contains(topLevel(true), w) {
			t.Fatalf("the CLI defines no %s", w)
		}
	}
	dir := t.TempDir()
	for _, n := range []string{"imgA", "imgB"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "img.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string // the words typed; the last one is being completed
		want []string
	}{
		{"sshport ''", topLevel(true)},
		{"sshport su", []string{"suggest"}},
		{"sshport suggest --ke", []string{"--keep-old"}},
		{"sshport check --p", []string{"--port", "--probe"}},
		{"sshport completion ''", []string{"bash", "zsh", "fish", "--help", "-h"}},
		// A flag's value is not taken for the command name.
		{"sshport -f check ''", topLevel(true)},
		{"sshport --json suggest --ap", []string{"--apply"}},
		{"sshport --root img", []string{"imgA", "imgB"}},
		{"sshport check --config img", []string{"imgA", "imgB", "img.conf"}},
		{"sshport suggest --port ''", nil},
	}
	for _, tt := range tests {
		src := "source " + script + "\nCOMP_WORDS=(" + tt.line + ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_sshport\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", src)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.line, err, out)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("completing %q: got %q, want %q", tt.line, got, want)
		}
	}
}

// TestCompletionFish asks fish itself (complete -C) for the candidates.
func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	script := completionScript(t, "fish")
	tests := []struct {
		line string
		want []string
	}{
		{"sshport ", topLevel(false)},
		{"sshport sug", []string{"suggest"}},
		{"sshport suggest --ke", []string{"--keep-old"}},
		{"sshport completion ", []string{"bash", "zsh", "fish"}},
		{"sshport check --p", []string{"--port", "--probe"}},
	}
	for _, tt := range tests {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C '"+tt.line+"'")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if w, _, _ := strings.Cut(l, "\t"); w != "" {
				got = append(got, w)
			}
		}
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("completing %q: got %q, want %q", tt.line, got, want)
		}
	}
}

// TestCompletionZsh loads the script in zsh's completion system and checks
// that it registers itself; zsh -n checks its syntax.
func TestCompletionZsh(t *testing.T) {
	zsh := needShell(t, "zsh")
	script := completionScript(t, "zsh")
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	cmd := exec.Command(zsh, "-f", "-c", "autoload -U compinit && compinit -u -D && source "+script+" && print -r -- $_comps[sshport]")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "_sshport" {
		t.Errorf("zsh: sshport completes with %q, want _sshport", got)
	}
}
