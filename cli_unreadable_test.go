package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
)

// TestUnreadableIncludeAsUser runs sshport as the unprivileged user nobody
// (setpriv) on an image whose drop-in directory only root may list: check
// must warn, naming the directory, and exit 1; suggest must refuse (exit
// 2) and write nothing. As root the same image reads in full.
func TestUnreadableIncludeAsUser(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		if sshdtest.InCI() {
			t.Fatalf("needs root and setpriv (util-linux): %v", err)
		}
		t.Skip("needs root and setpriv")
	}
	// Everything nobody must reach lives in a world-readable directory.
	dir, err := os.MkdirTemp("", "sshport-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	// The test binary is sshport (see TestMain); nobody runs a copy.
	self, err := os.Executable()
	must(err)
	bin := filepath.Join(dir, "sshport")
	copyFile(t, self, bin, 0o755)
	img := filepath.Join(dir, "img")
	dropins := filepath.Join(img, "etc", "ssh", "sshd_config.d")
	must(os.MkdirAll(dropins, 0o755))
	mainText := "Include /etc/ssh/sshd_config.d/*.conf\nPort 20022\n"
	must(os.WriteFile(filepath.Join(img, "etc", "ssh", "sshd_config"), []byte(mainText), 0o644))
	must(os.WriteFile(filepath.Join(dropins, "10-a.conf"), []byte("Port 20122\n"), 0o644))
	must(os.Chmod(dropins, 0o700))
	facts := filepath.Join(dir, "facts.json")
	must(os.WriteFile(facts, []byte(`{"OS": "linux", "Ephemeral": {"Lo": 32768, "Hi": 60999}, "EphemeralSource": "test facts", "Reserved": [], "Listeners": [], "ListenMethod": "netlink", "Notes": []}`), 0o644))

	run := func(asNobody bool, args ...string) (int, string, string) {
		t.Helper()
		var cmd *exec.Cmd
		if asNobody {
			cmd = exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
		} else {
			cmd = exec.Command(bin, args...)
		}
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SSHPORT_TEST_FACTS=" + facts, "NO_COLOR=1"}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errb.String()
	}
	type report struct {
		Ports []struct {
			Port int `json:"port"`
		} `json:"ports"`
		Warnings   []string `json:"warnings"`
		Incomplete bool     `json:"incomplete"`
		OK         bool     `json:"ok"`
	}
	parse := func(out string) report {
		t.Helper()
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v in %q", err, out)
		}
		return r
	}

	code, out, errs := run(true, "check", "--root", "img", "--json")
	r := parse(out)
	if code != 1 || !r.Incomplete || r.OK || len(r.Ports) != 1 || r.Ports[0].Port != 20022 {
		t.Errorf("as nobody: exit %d, report %+v, stderr %q; want exit 1, incomplete, port 20022 only", code, r, errs)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "cannot list the directory /etc/ssh/sshd_config.d/ (permission denied)") ||
		!strings.Contains(r.Warnings[0], "may be incomplete") || !strings.HasPrefix(r.Warnings[0], "/etc/ssh/sshd_config line 1: ") {
		t.Errorf("as nobody: warnings %q", r.Warnings)
	}
	code, out, _ = run(true, "check", "--root", "img")
	if code != 1 || !strings.Contains(out, "warning: /etc/ssh/sshd_config line 1: Include /etc/ssh/sshd_config.d/*.conf: cannot list the directory") ||
		!strings.Contains(out, "Part of the configuration could not be read") {
		t.Errorf("as nobody, text: exit %d\n%s", code, out)
	}

	code, out, errs = run(true, "suggest", "--root", "img", "--port", "20222", "--apply")
	if code != 2 || out != "" || !strings.Contains(errs, "cannot list the directory /etc/ssh/sshd_config.d/") || !strings.Contains(errs, "changes nothing") {
		t.Errorf("suggest as nobody: exit %d stdout %q stderr %q; want exit 2 and the reason", code, out, errs)
	}
	got, err := os.ReadFile(filepath.Join(img, "etc", "ssh", "sshd_config"))
	must(err)
	if string(got) != mainText {
		t.Errorf("suggest as nobody wrote sshd_config: %q", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(img, "etc", "ssh")); len(ents) != 2 {
		t.Errorf("suggest as nobody left files: %v", ents)
	}

	// A drop-in only root may read (0600, as cloud images ship some)
	// in a directory anyone may list: the same warning and exit 1.
	must(os.Chmod(dropins, 0o755))
	must(os.Chmod(filepath.Join(dropins, "10-a.conf"), 0o600))
	code, out, errs = run(true, "check", "--root", "img", "--json")
	r = parse(out)
	if code != 1 || !r.Incomplete || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "cannot read /etc/ssh/sshd_config.d/10-a.conf (permission denied)") {
		t.Errorf("0600 drop-in as nobody: exit %d, report %+v, stderr %q", code, r, errs)
	}

	code, out, errs = run(false, "check", "--root", "img", "--json")
	r = parse(out)
	if code != 0 || r.Incomplete || len(r.Ports) != 2 || len(r.Warnings) != 0 {
		t.Errorf("as root: exit %d, report %+v, stderr %q", code, r, errs)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
