package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/suggest"
)

// sshport runs the CLI in-process on this system and returns its exit code
// and output.
func sshport(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"sshport"}, args...), &out, &errb, checker.System{})
	return code, out.String(), errb.String()
}

// freeScannerPort returns an alternate SSH port that scanners probe (so
// sshport judges it unsafe and moves away from it) and that is free on
// 127.0.0.1.
func freeScannerPort(t *testing.T) int {
	for _, p := range checker.ScannerPorts {
		if p < 1024 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Skip("every alternate SSH port is in use here")
	return 0
}

// waitVerify runs `sshport verify ARGS` until it succeeds (sshd re-executes
// itself on SIGHUP and binds its new ports a moment later).
func waitVerify(t *testing.T, d *sshdtest.Daemon, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errb := sshport(t, append([]string{"-f", d.Config, "verify", "--timeout", "2s"}, args...)...)
		if code == 0 {
			return out
		}
		if time.Now().After(deadline) || d.Exited() {
			t.Fatalf("sshport verify %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func suggestRun(t *testing.T, cfg string, args ...string) suggestReport {
	t.Helper()
	code, out, errb := sshport(t, append([]string{"-f", cfg, "--json", "suggest"}, args...)...)
	if code != 0 {
		t.Fatalf("sshport suggest %s: exit %d: %s%s", strings.Join(args, " "), code, errb, out)
	}
	var r suggestReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("suggest --json: %v\n%s", err, out)
	}
	return r
}

// runPrinted runs a printed shell command (a reload step) as an admin would.
func runPrinted(t *testing.T, cmd string) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// waitPrintedVerify runs a printed `sshport ... verify ...` command
// in-process until it succeeds.
func waitPrintedVerify(t *testing.T, d *sshdtest.Daemon, cmd string) string {
	t.Helper()
	args, ok := strings.CutPrefix(cmd, "sshport ")
	if !ok || strings.ContainsAny(args, "'\"$") {
		t.Fatalf("not a plain sshport command: %s", cmd)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errb := sshport(t, strings.Fields(args)...)
		if code == 0 {
			return out
		}
		if time.Now().After(deadline) || d.Exited() {
			t.Fatalf("%s: exit %d\n%s%s", cmd, code, out, errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stepCommands(steps []suggest.Step, id string) []string {
	i := slices.IndexFunc(steps, func(s suggest.Step) bool { return s.ID == id })
	if i < 0 {
		return nil
	}
	return steps[i].Commands
}

// TestMigrationWithRealSSHD runs the two-phase migration against a real
// sshd on loopback: phase 1 (--keep-old --apply), SIGHUP, both ports
// answer; phase 2 (--finish --apply), SIGHUP, the old port is closed and
// the new one answers; phase 2 again changes nothing.
func TestMigrationWithRealSSHD(t *testing.T) {
	sshd := sshdtest.Require(t)
	dir := t.TempDir()
	key := sshdtest.NewHostKey(t, dir)
	old := freeScannerPort(t)
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf("# test sshd\nPort %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\nPasswordAuthentication no\n",
		old, key, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	d := sshdtest.StartDaemon(t, sshd, cfg)
	out := waitVerify(t, d, "--port", strconv.Itoa(old))
	if !strings.Contains(out, "SSH-2.0-OpenSSH") {
		t.Fatalf("verify before the move:\n%s", out)
	}

	// Phase 1: listen on both.
	p1 := suggestRun(t, cfg, "--keep-old", "--apply", "--sshd", sshd)
	nw := p1.Port
	if !p1.Applied || !p1.Validated || p1.Phase != "keep-old" || !slices.Equal(p1.Ports, []int{old, nw}) {
		t.Fatalf("phase 1: %+v", p1)
	}
	verifyCmd := fmt.Sprintf("sshport -f %s verify --port %d --port %d", cfg, old, nw)
	if got := stepCommands(p1.NextSteps, "verify"); len(got) == 0 || got[0] != verifyCmd {
		t.Errorf("phase 1 verify step = %q, want %q", got, verifyCmd)
	}
	if got := stepCommands(p1.NextSteps, "finish"); len(got) != 1 || got[0] != "sshport -f "+cfg+" suggest --finish --apply" {
		t.Errorf("phase 1 finish step = %q", got)
	}
	if got := stepCommands(p1.NextSteps, "reload"); len(got) != 1 || got[0] != fmt.Sprintf("kill -HUP \"$(cat %s)\"", filepath.Join(dir, "sshd.pid")) {
		t.Errorf("phase 1 reload step (this sshd runs with -f and its own PidFile) = %q", got)
	}
	again := suggestRun(t, cfg, "--keep-old", "--apply", "--sshd", sshd)
	if again.Changed || again.Applied {
		t.Errorf("phase 1 twice changed something: %+v", again)
	}
	// The printed reload step signals this sshd through its PidFile.
	runPrinted(t, stepCommands(p1.NextSteps, "reload")[0])
	out = waitPrintedVerify(t, d, verifyCmd)
	if strings.Count(out, "SSH-2.0-OpenSSH") != 2 {
		t.Fatalf("after phase 1 both ports must answer:\n%s", out)
	}
	// The defaults of verify are the configuration's ports.
	if code, out, _ := sshport(t, "-f", cfg, "verify"); code != 0 || strings.Count(out, "SSH-2.0-") != 2 {
		t.Errorf("verify with the configuration's defaults: exit %d\n%s", code, out)
	}

	// Phase 2: drop the old port.
	p2 := suggestRun(t, cfg, "--finish", "--apply", "--sshd", sshd)
	if !p2.Applied || p2.Phase != "finish" || p2.Port != nw || !slices.Equal(p2.Ports, []int{nw}) {
		t.Fatalf("phase 2: %+v", p2)
	}
	if got := stepCommands(p2.NextSteps, "verify"); len(got) == 0 || got[0] != fmt.Sprintf("sshport -f %s verify --port %d --closed %d", cfg, nw, old) {
		t.Errorf("phase 2 verify step = %q", got)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(conf, fmt.Sprintf("Port %d\n", old), fmt.Sprintf("Port %d\n", nw), 1); string(b) != want {
		t.Errorf("config after phase 2:\n%s\nwant:\n%s", b, want)
	}
	// Before the reload, phase 2 run again writes nothing but sees the
	// running sshd still on the old port and says to reload.
	pending := suggestRun(t, cfg, "--finish", "--apply", "--sshd", sshd)
	if pending.Changed || pending.Applied || len(stepCommands(pending.NextSteps, "reload")) == 0 || !slices.Equal(pending.Previous, []int{nw, old}) {
		t.Errorf("phase 2 again before the reload: %+v", pending)
	}
	d.HUP(t)
	out = waitPrintedVerify(t, d, stepCommands(p2.NextSteps, "verify")[0])
	if !strings.Contains(out, "closed as expected") {
		t.Errorf("verify after phase 2:\n%s", out)
	}
	// The old port is closed: verifying it as an SSH port fails with exit 1.
	if code, out, _ := sshport(t, "verify", "--host", "127.0.0.1", "--port", strconv.Itoa(old), "--timeout", "2s"); code != exitFindings {
		t.Errorf("verify of the closed old port: exit %d, want 1\n%s", code, out)
	}
	// Phase 2 again: nothing left to do, nothing written.
	done := suggestRun(t, cfg, "--finish", "--apply", "--sshd", sshd)
	if done.Changed || done.Applied || done.Phase != "finish" || len(done.NextSteps) != 0 {
		t.Errorf("phase 2 twice: %+v", done)
	}
	if b2, _ := os.ReadFile(cfg); !bytes.Equal(b, b2) {
		t.Errorf("phase 2 twice rewrote the config")
	}
}

// TestVerifyNonSSHListener: a listener that answers something other than
// an SSH identification string fails verify (exit 1), and so does one that
// says nothing within the timeout.
func TestVerifyNonSSHListener(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(net.Conn)
		want  string
	}{
		{"http", func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) }, "not an SSH server"},
		{"silent", func(c net.Conn) { time.Sleep(3 * time.Second) }, "timeout"},
		{"ssh1", func(c net.Conn) { _, _ = c.Write([]byte("SSH-1.5-old\r\n")) }, "not 2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); tc.serve(c) }()
				}
			}()
			port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			code, out, errb := sshport(t, "verify", "--host", "127.0.0.1", "--port", port, "--timeout", "500ms")
			if code != exitFindings || !strings.Contains(out, "FAIL") || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want 1 and %q:\n%s%s", code, tc.want, out, errb)
			}
			code, out, _ = sshport(t, "--json", "verify", "--host", "127.0.0.1", "--port", port, "--timeout", "500ms")
			var r verifyReport
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.OK || len(r.Targets) != 1 || r.Targets[0].OK || code != exitFindings {
				t.Errorf("--json: exit %d, %+v, %v", code, r, err)
			}
		})
	}
}
