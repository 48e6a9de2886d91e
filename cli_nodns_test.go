package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
)

// TestNoDNSUnderRoot traces sshport's network system calls (strace) while
// it checks an image: a ListenAddress name the image's etc/hosts lists,
// and one it does not, open no socket at all. With --resolve the same
// unknown name is asked to a name server, which shows the trace would see
// a query: sshport runs in a private mount namespace whose resolv.conf
// names 127.0.0.1, so that query stays on loopback.
func TestNoDNSUnderRoot(t *testing.T) {
	strace, err1 := exec.LookPath("strace")
	unshare, err2 := exec.LookPath("unshare")
	if err1 != nil || err2 != nil || os.Geteuid() != 0 {
		if sshdtest.InCI() {
			t.Fatalf("needs root, strace and unshare: %v %v", err1, err2)
		}
		t.Skip("needs root, strace and unshare")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sshport") // TestMain runs it as sshport
	copyFile(t, self, bin, 0o755)
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("img/etc/hosts", "127.0.0.1 localhost\n192.0.2.9 db.internal\n")
	write("img/etc/nsswitch.conf", "hosts: files dns\n")
	write("resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
	write("facts.json", `{"OS": "linux", "Ephemeral": {"Lo": 32768, "Hi": 60999}, "EphemeralSource": "test facts", "Reserved": [], "Listeners": [], "ListenMethod": "netlink", "Notes": []}`)

	// run returns sshport's exit code and the traced socket calls.
	run := func(config string, args ...string) (int, string) {
		t.Helper()
		write("img/etc/ssh/sshd_config", config)
		trace := filepath.Join(dir, "trace")
		script := "mount --bind " + filepath.Join(dir, "resolv.conf") + " /etc/resolv.conf && exec " +
			strace + " -f -qq -e trace=socket,connect,sendto,sendmsg -o " + trace + " " + bin + " check --root img " + strings.Join(args, " ")
		cmd := exec.Command(unshare, "-m", "sh", "-c", script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SSHPORT_TEST_FACTS=" + filepath.Join(dir, "facts.json")}
		out, _ := cmd.CombinedOutput()
		data, err := os.ReadFile(trace)
		if err != nil {
			t.Fatalf("no trace: %v\n%s", err, out)
		}
		return cmd.ProcessState.ExitCode(), string(data)
	}
	inet := func(trace string) bool {
		return strings.Contains(trace, "socket(AF_INET") || strings.Contains(trace, "htons(53)")
	}

	code, trace := run("Port 20022\nListenAddress db.internal\n")
	if code != 0 || inet(trace) {
		t.Errorf("name in the image's etc/hosts: exit %d, network calls:\n%s", code, trace)
	}
	code, trace = run("Port 20022\nListenAddress nosuch.internal\n")
	if code != 2 || inet(trace) {
		t.Errorf("unknown name: exit %d, network calls:\n%s", code, trace)
	}
	code, trace = run("Port 20022\nListenAddress nosuch.internal\n", "--resolve")
	if code != 2 || !strings.Contains(trace, `sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")`) {
		t.Errorf("unknown name with --resolve: exit %d, no query to the name server in the trace:\n%s", code, trace)
	}
}
