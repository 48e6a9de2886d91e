package checker

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestFDScannerParses runs the scanner over a directory of plain symlinks
// shaped like /proc/PID/fd: only well-formed socket:[N] targets count.
func TestFDScannerParses(t *testing.T) {
	dir := t.TempDir()
	links := map[string]string{
		"0":  "/dev/null",
		"3":  "socket:[123]",
		"4":  "pipe:[124]",
		"5":  "socket:[]",
		"6":  "socket:[12x]",
		"7":  "socket:[1234567890123456789]",                                  // 19 digits: the most that always fit
		"8":  "socket:[12345678901234567890]",                                 // 20 digits: refused
		"9":  "socket:[42",                                                    // no closing bracket
		"10": "/tmp/socket:[7] (deleted)",                                     // a file, not a socket
		"11": "socket:[4294967295]",                                           // the largest 32-bit inode
		"12": "anon_inode:[eventpoll]",                                        // not a socket
		"13": "socket:[99]/padding/padding/padding/padding/padding/padding/x", // longer than any socket link
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var sc fdScanner
	var got []uint64
	if err := sc.sockets(dir, 0, func(ino uint64) bool { got = append(got, ino); return true }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []uint64{123, 4294967295, 1234567890123456789}
	if !slices.Equal(got, want) {
		t.Errorf("sockets = %v, want %v", got, want)
	}
	// fn returning false stops the scan.
	n := 0
	_ = sc.sockets(dir, 0, func(uint64) bool { n++; return false })
	if n != 1 {
		t.Errorf("scan went on after fn returned false: %d calls", n)
	}
	if err := sc.sockets(filepath.Join(dir, "missing"), 0, func(uint64) bool { return true }); err == nil {
		t.Error("a missing directory gave no error")
	}
}

// TestFindOwnersOrder shares one listening socket between this process and
// a child: the numeric walk names the lower pid, a daemon named in first
// (as sshd's PidFile names it) is looked at before the others.
func TestFindOwnersOrder(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	lf, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sleep, "60")
	cmd.ExtraFiles = []*os.File{lf}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	child := cmd.Process.Pid
	// The child holds the socket once it runs sleep (not before exec).
	for i := 0; ; i++ {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(child) + "/comm"); err == nil && string(b) == "sleep\n" {
			break
		}
		if i > 500 {
			t.Fatal("child did not exec sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}

	base, err := System{}.Probe(context.Background(), Request{Method: MethodNetlink})
	if err != nil {
		t.Fatal(err)
	}
	owner := func(first []int) Listener {
		t.Helper()
		f := Facts{Listeners: slices.Clone(base.Listeners)}
		findOwners(&f, []int{port}, first)
		i := slices.IndexFunc(f.Listeners, func(l Listener) bool { return l.Port == port })
		if i < 0 {
			t.Fatalf("port %d not listed", port)
		}
		return f.Listeners[i]
	}
	if got := owner(nil); got.PID != min(os.Getpid(), child) {
		t.Errorf("numeric walk: owner pid %d, want the lower of %d and %d", got.PID, os.Getpid(), child)
	}
	if got := owner([]int{child}); got.PID != child || got.Process != "sleep" {
		t.Errorf("first = child: owner %s, want pid %d (sleep)", got.Owner(), child)
	}
	if got := owner([]int{os.Getpid()}); got.PID != os.Getpid() {
		t.Errorf("first = self: owner %s, want pid %d", got.Owner(), os.Getpid())
	}

	// A process holding more than manyFDs descriptors is read last.
	var extra []*os.File
	defer func() {
		for _, f := range extra {
			f.Close()
		}
	}()
	for range manyFDs + 1 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, f)
	}
	if fi, err := os.Stat("/proc/self/fd"); err != nil || fi.Size() == 0 {
		t.Skip("/proc/PID/fd gives no descriptor count (Linux before 6.2)")
	}
	if got := owner(nil); got.PID != child {
		t.Errorf("self holds %d descriptors: owner pid %d, want the child %d", manyFDs+1, got.PID, child)
	}
}
