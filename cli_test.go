package main

// End-to-end tests of the CLI that need this system: real sockets (the
// listener's owner must be this test process) and the real sshd for
// validation. Everything else is in testdata/script.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
)

// cliRun runs the CLI in-process against this system.
func cliRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"sshport"}, args...), &out, &errb, checker.System{})
	return code, out.String(), errb.String()
}

// cliConfig writes an sshd_config into a fresh temp dir and returns its path.
func cliConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type cliCheckJSON struct {
	Findings []struct {
		Port     int    `json:"port"`
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"findings"`
	OK bool `json:"ok"`
}

func cliCheck(t *testing.T, cfg string, port int) (int, cliCheckJSON) {
	t.Helper()
	code, out, errs := cliRun(t, "check", "-f", cfg, "--port", strconv.Itoa(port), "--json")
	var rep cliCheckJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check --json: %v\nstdout:\n%s\nstderr:\n%s", err, out, errs)
	}
	return code, rep
}

// TestCheckRealListener opens listeners on loopback (IPv4 and IPv6, port
// chosen by the kernel) and requires check to name this process as the
// owner; once closed, the same port is no longer in use.
func TestCheckRealListener(t *testing.T) {
	cfg := cliConfig(t, "# sshd's defaults: Port 22 on every address\nPasswordAuthentication no\n")
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			ln, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				if tc.network == "tcp6" {
					t.Skipf("no IPv6 loopback here: %v", err)
				}
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port

			code, rep := cliCheck(t, cfg, port)
			if code != exitFindings {
				t.Errorf("exit %d with %s listening on port %d, want %d", code, ln.Addr(), port, exitFindings)
			}
			if rep.OK {
				t.Errorf(`"ok": true with %s listening`, ln.Addr())
			}
			owner := fmt.Sprintf("pid %d ", os.Getpid())
			var found bool
			for _, f := range rep.Findings {
				if f.Code != checker.CodeInUse {
					continue
				}
				found = true
				if f.Port != port {
					t.Errorf("in-use finding for port %d, want %d", f.Port, port)
				}
				if f.Severity != checker.SevError {
					t.Errorf("in-use severity %q, want %q (another process holds it)", f.Severity, checker.SevError)
				}
				if !strings.Contains(f.Message, owner) {
					t.Errorf("in-use message %q does not name this test's %s", f.Message, strings.TrimSpace(owner))
				}
			}
			if !found {
				t.Fatalf("no in-use finding for %s; findings: %+v", ln.Addr(), rep.Findings)
			}

			if err := ln.Close(); err != nil {
				t.Fatal(err)
			}
			_, rep = cliCheck(t, cfg, port)
			for _, f := range rep.Findings {
				if f.Code == checker.CodeInUse {
					t.Errorf("port %d still in use after close: %s", port, f.Message)
				}
			}
		})
	}
}

// cliNeed returns the path of a tool from the OpenSSH server package,
// skipping when it is absent outside CI and failing when absent in CI.
func cliNeed(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found, and CI is set: install openssh-server", name)
	}
	t.Skipf("%s not found (set CI=true to make this a failure)", name)
	return ""
}

type cliSuggestJSON struct {
	Port      int      `json:"port"`
	Previous  []int    `json:"previous"`
	Changed   bool     `json:"changed"`
	Applied   bool     `json:"applied"`
	Validated bool     `json:"validated"`
	Files     []string `json:"files"`
	Backups   []string `json:"backups"`
}

// TestSuggestApplyValidatedBySSHD applies a change to a config the real
// sshd can test (it names its own host key) and requires it validated, the
// new port in effect according to sshd -T, and a backup of the old bytes.
func TestSuggestApplyValidatedBySSHD(t *testing.T) {
	sshd := cliNeed(t, "sshd")
	keygen := cliNeed(t, "ssh-keygen")
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519_key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "sshd_config")
	old := []byte("# test config\nPort 22\nHostKey " + key + "\nPasswordAuthentication no\n")
	if err := os.WriteFile(cfg, old, 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := cliRun(t, "suggest", "-f", cfg, "--apply", "--json", "--sshd", sshd)
	if code != exitOK {
		t.Fatalf("suggest --apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	var rep cliSuggestJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("suggest --json: %v\n%s", err, out)
	}
	if !rep.Changed || !rep.Applied || !rep.Validated {
		t.Errorf("changed=%v applied=%v validated=%v, want all true\n%s", rep.Changed, rep.Applied, rep.Validated, out)
	}
	if rep.Port == 22 || rep.Port < 1024 {
		t.Errorf("suggested port %d", rep.Port)
	}

	got, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(old, []byte("Port 22\n"), []byte("Port "+strconv.Itoa(rep.Port)+"\n"), 1)
	if !bytes.Equal(got, want) {
		t.Errorf("written config:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after apply: %v (err %v), want 0600", fi.Mode().Perm(), err)
	}

	// sshd itself sees exactly the new port.
	tOut, err := exec.Command(sshd, "-T", "-f", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, tOut)
	}
	var ports []string
	for _, line := range strings.Split(string(tOut), "\n") {
		if p, ok := strings.CutPrefix(line, "port "); ok {
			ports = append(ports, p)
		}
	}
	if len(ports) != 1 || ports[0] != strconv.Itoa(rep.Port) {
		t.Errorf("sshd -T ports %v, want [%d]", ports, rep.Port)
	}

	if len(rep.Backups) != 1 {
		t.Fatalf("backups %v, want one", rep.Backups)
	}
	if b, err := os.ReadFile(rep.Backups[0]); err != nil || !bytes.Equal(b, old) {
		t.Errorf("backup %s: %q (err %v), want the old bytes", rep.Backups[0], b, err)
	}
}

// TestSuggestApplyRollsBackWhenSSHDRefuses validates with a fake sshd that
// refuses every config: the change is rolled back to the exact old bytes,
// exit 2, and sshd's message is shown.
func TestSuggestApplyRollsBackWhenSSHDRefuses(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-sshd")
	const msg = "fake-sshd: line 2: Bad configuration option: refused by the test"
	script := "#!/bin/sh\necho '" + msg + "' >&2\nexit 255\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sshd_config")
	old := []byte("# keep these bytes\r\nPort 22\r\nUsePAM yes")
	if err := os.WriteFile(cfg, old, 0o640); err != nil {
		t.Fatal(err)
	}

	code, out, errs := cliRun(t, "suggest", "-f", cfg, "--apply", "--sshd", fake)
	if code != exitError {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitError, out, errs)
	}
	if !strings.Contains(errs, msg) {
		t.Errorf("stderr does not show sshd's message %q:\n%s", msg, errs)
	}
	if !strings.HasPrefix(errs, "sshport: ") {
		t.Errorf("stderr does not start with \"sshport: \":\n%s", errs)
	}
	got, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, old) {
		t.Errorf("config after rollback:\n%q\nwant the old bytes:\n%q", got, old)
	}
	if fi, err := os.Lstat(cfg); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
		t.Errorf("config after rollback: %v (err %v), want a regular 0640 file", fi.Mode(), err)
	}
}
