package main

// End-to-end test of `sshport client` against a real sshd on a loopback
// port and the real ssh client: after the edit, a BatchMode connection
// with StrictHostKeyChecking=yes succeeds, with no prompt.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/sshdtest"
)

// keygen makes a throw-away ed25519 key pair at file and file.pub.
func keygen(t *testing.T, file string) string {
	t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(pub))
}

// startSSHD runs a real sshd on a free loopback port with a throw-away host
// key and the given authorized key, until the test ends. It returns the
// port and the host key's public line.
func startSSHD(t *testing.T, sshd, dir, authorized string) (int, string) {
	t.Helper()
	hostPub := keygen(t, filepath.Join(dir, "hostkey"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(authorized+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := filepath.Join(dir, "sshd_config")
	body := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nStrictModes no\nPidFile none\n"+
		"UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
		port, filepath.Join(dir, "hostkey"), filepath.Join(dir, "authorized_keys"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", logb.String())
		}
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("sshd does not listen on %d: %v\n%s", port, err, logb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return port, hostPub
}

func TestClientEndToEnd(t *testing.T) {
	sshd := sshdtest.Require(t)
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			if sshdtest.InCI() {
				t.Fatalf("%s not found (CI is set: install openssh-client)", tool)
			}
			t.Skipf("%s not found", tool)
		}
	}
	srv := t.TempDir()
	id := filepath.Join(srv, "id")
	userPub := keygen(t, id)
	port, hostPub := startSSHD(t, sshd, srv, userPub)
	t.Run("one run", func(t *testing.T) { clientEndToEnd(t, port, hostPub, id, true) })
	t.Run("config first, known_hosts later", func(t *testing.T) { clientEndToEnd(t, port, hostPub, id, false) })
}

func clientEndToEnd(t *testing.T, port int, hostPub, id string, oneRun bool) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	// The client knows the server on its old port 2222, hashed, and its
	// config sends every host to 2222. (From port 22 ssh would accept the
	// key anyway: when [host]:port is unknown it checks the entry without
	// a port, "checking without port identifier". From any other port
	// there is no such fallback.)
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(sshDir, "known_hosts")
	if err := os.WriteFile(kh, []byte("[127.0.0.1]:2222 "+hostPub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-H", "-f", kh).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v\n%s", err, out)
	}
	os.Remove(kh + ".old")
	config := filepath.Join(sshDir, "config")
	body := "Host web1\n    HostName 127.0.0.1\n    User root\n    IdentityFile " + id + "\n" +
		"    UserKnownHostsFile " + kh + "\n    GlobalKnownHostsFile /dev/null\n\nHost *\n    Port 2222\n"
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	connect := func() (string, error) {
		cmd := exec.Command("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
			"-F", config, "web1", "true")
		cmd.Stdin = nil
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	clientRun := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"sshport", "client", "--host", "web1", "--port", fmt.Sprint(port), "--file", config}, args...), &out, &errb, checker.Static{})
		if code != 0 {
			t.Fatalf("sshport client %v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
		return out.String()
	}

	if out, err := connect(); err == nil {
		t.Fatalf("connected before the change:\n%s", out)
	}
	var out string
	if oneRun {
		out = clientRun("--known-hosts", "auto", "--apply", "--backup-suffix", ".1")
	} else {
		// The config alone: ssh dials the new port, but the key is
		// unknown there and StrictHostKeyChecking refuses.
		clientRun("--apply", "--backup-suffix", ".1")
		if out, err := connect(); err == nil || !strings.Contains(out, "Host key verification failed") {
			t.Fatalf("with the port moved but known_hosts unchanged: %v\n%s", err, out)
		}
		// The config names the new port now: --old-port says where
		// the trusted key was.
		out = clientRun("--known-hosts", "auto", "--old-port", "2222", "--apply", "--backup-suffix", ".2")
	}
	if !strings.Contains(out, fmt.Sprintf("[127.0.0.1]:%d", port)) {
		t.Errorf("report does not name the key added:\n%s", out)
	}
	if out, err := connect(); err != nil {
		t.Fatalf("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes web1 true: %v\n%s", err, out)
	}
	if found, _ := exec.Command("ssh-keygen", "-F", fmt.Sprintf("[web1]:%d", port), "-f", kh).Output(); !strings.Contains(string(found), "ssh-ed25519") {
		t.Errorf("ssh-keygen -F [web1]:%d does not find the key:\n%s", port, found)
	}
	data, _ := os.ReadFile(kh)
	if strings.Count(string(data), "\n") != 3 || strings.Contains(string(data), "127.0.0.1") {
		t.Errorf("known_hosts should hold the old entry and two hashed new ones:\n%s", data)
	}

	// A second run changes nothing.
	out = clientRun("--known-hosts", "auto", "--old-port", "2222", "--apply", "--backup-suffix", ".3")
	if !strings.Contains(out, "already uses port") || strings.Contains(out, "known_hosts:") {
		t.Errorf("second run:\n%s", out)
	}
	data2, _ := os.ReadFile(kh)
	if !bytes.Equal(data, data2) {
		t.Errorf("second run changed known_hosts")
	}
}

// TestClientReadOnly: a configuration on a read-only mount is refused
// before anything is written (exit 2, the file named). The sshport run
// happens in a child process inside a private mount namespace, so the
// read-only mount never shows outside it.
func TestClientReadOnly(t *testing.T) {
	if dir := os.Getenv("SSHPORT_CLIENT_RO_CHILD"); dir != "" {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"sshport", "client", "--host", "web1", "--port", "20022",
			"--file", filepath.Join(dir, "config"), "--apply"}, &out, &errb, checker.Static{})
		fmt.Printf("exit %d\n%s%s", code, out.String(), errb.String())
		return
	}
	unshare, err := exec.LookPath("unshare")
	if os.Geteuid() != 0 || err != nil {
		if sshdtest.InCI() {
			t.Fatalf("needs root and unshare(1) (CI is set)")
		}
		t.Skip("needs root (root ignores permission bits: only a read-only mount tests this) and unshare(1)")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	old := "Host web1\n  Port 2222\n"
	if err := os.WriteFile(config, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-ec",
		`mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; exec "$2" -test.run='^TestClientReadOnly$'`, "sh", dir, os.Args[0])
	cmd.Env = append(os.Environ(), "SSHPORT_CLIENT_RO_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "exit 2\nsshport: " + config + " cannot be changed: not writable by you: read-only file system\n"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("child printed:\n%s\nwant:\n%s", out, want)
	}
	if got, _ := os.ReadFile(config); string(got) != old {
		t.Errorf("config changed: %q", got)
	}
	if m, _ := filepath.Glob(config + ".sshport-*"); len(m) != 0 {
		t.Errorf("backups made: %v", m)
	}
}
