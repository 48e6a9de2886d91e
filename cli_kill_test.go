package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

// buildSSHPort builds the sshport binary into a temporary directory.
func buildSSHPort(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sshport")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The two-file change of the kill test: the drop-in's Port comes first
// (Include at the top), so the edit rewrites it to the new port and deletes
// the main file's Port 22. Written main-first, a kill between the files
// would leave sshd on 2222 only: neither the old ports nor the new one.
var killTree = map[string]string{
	"etc/ssh/sshd_config":                      "Include /etc/ssh/sshd_config.d/*.conf\n\n# main\nPort 22\nPasswordAuthentication no\n",
	"etc/ssh/sshd_config.d/50-cloud-init.conf": "# cloud\nPort 2222\n",
}

var (
	killOld = []int{2222, 22}
	killNew = []int{20022}
)

func writeKillTree(t *testing.T, root string) {
	t.Helper()
	for name, body := range killTree {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// killListen is what sshd would listen on in the tree at root, read back
// with sshcfg.
func killListen(t *testing.T, root string) []int {
	t.Helper()
	r, err := rootfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg, err := sshcfg.Load(r, sshcfg.DefaultConfig, nil)
	if err != nil {
		t.Fatalf("the state left does not load: %v", err)
	}
	return suggest.ListenPorts(cfg)
}

func containsAll(set, sub []int) bool {
	for _, p := range sub {
		if !slices.Contains(set, p) {
			return false
		}
	}
	return true
}

// TestApplyKilledAtRandomPoints runs the built binary's `suggest --apply`
// over a two-file change and SIGKILLs it at random moments, at least 300
// times. Every state left must make sshd listen on a superset of the old
// ports or of the new ones (never a part of each), each file wholly old or
// wholly new; after a following run everything is new, every changed file
// has a backup of its old bytes, and no hidden file is left. Each distinct
// state is also read by the real sshd -T where it can run.
func TestApplyKilledAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds the binary and runs it hundreds of times")
	}
	bin := buildSSHPort(t)
	args := func(root string) []string {
		return []string{"--root", root, "suggest", "--port", "20022", "--apply", "--backup-suffix", ".bak"}
	}
	// How long a whole run takes here.
	var full []time.Duration
	for range 5 {
		root := t.TempDir()
		writeKillTree(t, root)
		start := time.Now()
		if out, err := exec.Command(bin, args(root)...).CombinedOutput(); err != nil {
			t.Fatalf("sshport: %v\n%s", err, out)
		}
		full = append(full, time.Since(start))
		if got := killListen(t, root); !slices.Equal(got, killNew) {
			t.Fatalf("after a whole run sshd listens on %v, want %v", got, killNew)
		}
	}
	slices.Sort(full)
	span := full[len(full)/2] + full[len(full)/2]/5

	sshd := sshdtest.Path()
	canSSHD := sshd != "" && os.Geteuid() == 0
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	states := map[string]int{}
	spotChecked := 0
	kills, finished := 0, 0
	for kills < 300 {
		if finished > 3000 {
			t.Fatalf("only %d of %d runs were killed before they finished", kills, kills+finished)
		}
		root := t.TempDir()
		writeKillTree(t, root)
		cmd := exec.Command(bin, args(root)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(r.Int64N(int64(span))))
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err == nil {
			finished++
			continue
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("sshport failed on its own: %v", err)
		}
		kills++

		// Each file wholly old or new.
		var key []string
		for name, body := range killTree {
			got, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatalf("%s after a kill: %v", name, err)
			}
			if !bytes.Equal(got, []byte(body)) {
				key = append(key, name)
				if !bytes.Contains(got, []byte("20022")) && !bytes.Equal(got, []byte(strings.Replace(body, "Port 22\n", "", 1))) {
					t.Fatalf("%s is neither old nor new after a kill: %q", name, got)
				}
			}
		}
		slices.Sort(key)
		ports := killListen(t, root)
		if !containsAll(ports, killOld) && !containsAll(ports, killNew) {
			t.Fatalf("kill %d left sshd listening on %v: neither all of %v nor all of %v (new files: %v)", kills, ports, killOld, killNew, key)
		}
		k := fmt.Sprint(key)
		states[k]++
		if states[k] == 1 && canSSHD {
			res := sshdtest.Run(t, root, sshcfg.DefaultConfig)
			if res.Refused() {
				t.Fatalf("sshd -T refuses the state left (%v): %s", key, res.Err)
			}
			if got := uniq(res.Ports); !slices.Equal(got, ports) {
				t.Errorf("state %v: sshd -T ports %v, sshcfg %v", key, got, ports)
			}
			spotChecked++
		}

		// The following run finishes the job and cleans up.
		if out, err := exec.Command(bin, args(root)...).CombinedOutput(); err != nil {
			t.Fatalf("run after kill %d: %v\n%s", kills, err, out)
		}
		if got := killListen(t, root); !slices.Equal(got, killNew) {
			t.Fatalf("after the following run sshd listens on %v, want %v", got, killNew)
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") {
				t.Errorf("after kill %d and a following run: stray hidden file %s", kills, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range killTree {
			b, err := os.ReadFile(filepath.Join(root, name+".bak"))
			if err != nil || !bytes.Equal(b, []byte(body)) {
				t.Errorf("after kill %d and a following run: backup of %s = %q (%v), want the old bytes", kills, name, b, err)
			}
			if _, err := os.Stat(filepath.Join(root, name+".bak-1")); err == nil {
				t.Errorf("after kill %d and a following run: two backups of %s", kills, name)
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d kills (%d runs finished first); states left: %v; %d checked with sshd -T", kills, finished, states, spotChecked)
	if len(states) < 2 {
		t.Errorf("the kills left only the states %v: none landed between the writes", states)
	}
}

func uniq(ps []int) []int {
	var out []int
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
