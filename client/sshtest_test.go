package client

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
)

// requireTool returns the path of an OpenSSH client program, or skips the
// test when it is missing (a failure under CI=true, where .ci/run installs
// openssh-client).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if sshdtest.InCI() {
			t.Fatalf("%s not found (CI is set: install openssh-client)", name)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

// sshG returns `ssh -G -F config host` run with HOME=home (ssh takes "~"
// and relative Includes from $HOME).
func sshG(t testing.TB, home, config, host string) string {
	t.Helper()
	cmd := exec.Command(requireTool(t, "ssh"), "-G", "-F", config, host)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = nil
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ssh -G -F %s %s: %v\n%s", config, host, err, errb.String())
	}
	return out.String()
}

// portOf returns the "port" line of ssh -G output.
func portOf(g string) string {
	for _, l := range strings.Split(g, "\n") {
		if v, ok := strings.CutPrefix(l, "port "); ok {
			return v
		}
	}
	return ""
}

// writeTree writes files (names relative to dir, "/"-separated) with mode
// 0600, as ssh wants its user configuration.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// oneRegion checks that new is old with one region of whole lines changed
// that holds at most one line of old (a line edited, or lines inserted
// between two), and returns that region of old and of new.
func oneRegion(t testing.TB, old, new []byte) (string, string) {
	t.Helper()
	o := strings.SplitAfter(string(old), "\n")
	n := strings.SplitAfter(string(new), "\n")
	p := 0
	for p < len(o) && p < len(n) && o[p] == n[p] {
		p++
	}
	s := 0
	for s < len(o)-p && s < len(n)-p && o[len(o)-1-s] == n[len(n)-1-s] {
		s++
	}
	om, nm := strings.Join(o[p:len(o)-s], ""), strings.Join(n[p:len(n)-s], "")
	if len(o)-s-p > 1 {
		t.Errorf("the edit changes more than one line of the old file: %q -> %q", om, nm)
	}
	return om, nm
}
