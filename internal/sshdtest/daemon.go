package sshdtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Daemon is a real sshd started by a test, in the foreground (-D), with
// its own configuration file (-f) and log (-E). It is stopped when the test
// ends.
type Daemon struct {
	Config string // the -f file
	Log    string // the -E file
	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// NewHostKey writes a throw-away ed25519 host key into dir with ssh-keygen and
// returns its path. It skips the test when ssh-keygen is missing (and fails
// it under CI=true).
func NewHostKey(t testing.TB, dir string) string {
	t.Helper()
	kg, err := exec.LookPath("ssh-keygen")
	if err != nil {
		if InCI() {
			t.Fatal("ssh-keygen not found (CI is set: install openssh-client)")
		}
		t.Skip("ssh-keygen not found")
	}
	key := filepath.Join(dir, "ssh_host_ed25519_key")
	if out, err := exec.Command(kg, "-q", "-t", "ed25519", "-N", "", "-C", "sshport-test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	return key
}

// StartDaemon starts sshd (an absolute path, as sshd's re-exec on SIGHUP
// needs) on config. The caller waits for it to listen (sshport verify does).
func StartDaemon(t testing.TB, sshd, config string) *Daemon {
	t.Helper()
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		t.Fatal(err)
	}
	d := &Daemon{Config: config, Log: config + ".log", done: make(chan struct{})}
	d.cmd = exec.Command(sshd, "-D", "-f", config, "-E", d.Log)
	var stderr bytes.Buffer
	d.cmd.Stderr = &stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	go func() {
		err := d.cmd.Wait()
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.Log)
			t.Logf("sshd log:\n%s%s", b, stderr.String())
		}
	})
	return d
}

// HUP sends SIGHUP: sshd re-executes itself and reads its configuration
// again, as `systemctl reload` makes it do.
func (d *Daemon) HUP(t testing.TB) {
	t.Helper()
	select {
	case <-d.done:
		b, _ := os.ReadFile(d.Log)
		t.Fatalf("sshd exited (%v):\n%s", d.err, b)
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// Exited reports whether sshd has exited.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}
