package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshport/sshport/checker"
)

// liveReport is the part of check's JSON the live tests read.
type liveReport struct {
	Findings []liveFinding `json:"findings"`
	Running  []liveProc    `json:"running"`
	OK       bool          `json:"ok"`
}

type liveFinding struct {
	Port     int    `json:"port"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type liveProc struct {
	PID    int      `json:"pid"`
	Config string   `json:"config"`
	Ours   bool     `json:"ours"`
	Listen []string `json:"listen"`
}

func (r liveReport) codes() []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

// freeLivePort returns a loopback port outside the ephemeral and well-known
// ranges that IANA assigns to nobody and that nothing holds now.
func freeLivePort(t *testing.T, not ...int) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(12000)
		if checker.IANAAssigned(p) || slices.Contains(not, p) {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port")
	return 0
}

// startLiveSSHD runs `sshd -D -e -f cfg` until the test ends and waits until it
// accepts on 127.0.0.1:port.
func startLiveSSHD(t *testing.T, sshd, cfg string, port int) *exec.Cmd {
	t.Helper()
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
	})
	waitLiveListen(t, port, &logb)
	return cmd
}

func waitLiveListen(t *testing.T, port int, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on 127.0.0.1:%d\n%s", port, log)
}

func liveCheck(t *testing.T, cfg string) liveReport {
	t.Helper()
	code, out, errs := cliRun(t, "check", "--json", "--config", cfg)
	if code == exitError {
		t.Fatalf("check: exit 2\n%s", errs)
	}
	var r liveReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	return r
}

func writeLiveConfig(t *testing.T, path string, port int, key string) {
	t.Helper()
	body := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s.pid\nUsePAM no\n", port, key, path)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLiveRunningSSHD runs real sshd daemons on loopback, each with a
// throw-away host key, and checks what check says of them: its own port is
// expected, a second sshd with another configuration on the port is a
// foreign-listener, an edited but not reloaded configuration is
// not-applied (and no longer after SIGHUP), a configuration nothing runs is
// not-running.
func TestLiveRunningSSHD(t *testing.T) {
	sshd := cliNeed(t, "sshd")
	keygen := cliNeed(t, "ssh-keygen")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the live sshd test needs root (CI is set)")
		}
		t.Skip("the live sshd test needs root")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	p1 := freeLivePort(t)
	p2 := freeLivePort(t, p1)
	cfgA := filepath.Join(dir, "a_config")
	cfgB := filepath.Join(dir, "b_config")
	writeLiveConfig(t, cfgA, p1, key)
	writeLiveConfig(t, cfgB, p2, key)
	a := startLiveSSHD(t, sshd, cfgA, p1)
	cur := p1 // the port sshd a listens on
	startLiveSSHD(t, sshd, cfgB, p2)

	t.Run("own port expected", func(t *testing.T) {
		r := liveCheck(t, cfgA)
		for _, c := range []string{checker.CodeInUse, checker.CodeForeignListener, checker.CodeNotApplied, checker.CodeNotRunning} {
			if slices.Contains(r.codes(), c) {
				t.Errorf("finding %s for sshd's own port: %+v", c, r.Findings)
			}
		}
		i := slices.IndexFunc(r.Running, func(p liveProc) bool {
			return p.PID == a.Process.Pid
		})
		if i < 0 {
			t.Fatalf("running does not list sshd pid %d: %+v", a.Process.Pid, r.Running)
		}
		if got := r.Running[i]; !got.Ours || got.Config != cfgA || !slices.Contains(got.Listen, fmt.Sprintf("127.0.0.1:%d", p1)) {
			t.Errorf("running entry %+v, want ours, config %s, listening on 127.0.0.1:%d", got, cfgA, p1)
		}
	})

	t.Run("foreign sshd on the port", func(t *testing.T) {
		cfgC := filepath.Join(dir, "c_config")
		writeLiveConfig(t, cfgC, p2, key) // same port as b's sshd, another file
		r := liveCheck(t, cfgC)
		i := slices.IndexFunc(r.Findings, func(f liveFinding) bool {
			return f.Code == checker.CodeForeignListener
		})
		if i < 0 || r.Findings[i].Port != p2 || r.Findings[i].Severity != checker.SevError {
			t.Fatalf("want an error foreign-listener on %d, got %+v", p2, r.Findings)
		}
		if r.OK {
			t.Error("ok is true with a foreign listener")
		}
	})

	t.Run("edited, not reloaded", func(t *testing.T) {
		p3 := freeLivePort(t, p1, p2)
		writeLiveConfig(t, cfgA, p3, key)
		r := liveCheck(t, cfgA)
		i := slices.IndexFunc(r.Findings, func(f liveFinding) bool {
			return f.Code == checker.CodeNotApplied
		})
		if i < 0 {
			t.Fatalf("want not-applied, got %+v", r.Findings)
		}
		msg := r.Findings[i].Message
		for _, want := range []string{fmt.Sprintf("127.0.0.1:%d", p3), fmt.Sprintf("listens on 127.0.0.1:%d", p1), fmt.Sprintf("kill -HUP %d", a.Process.Pid)} {
			if !strings.Contains(msg, want) {
				t.Errorf("not-applied message %q lacks %q", msg, want)
			}
		}
		// The reload it names makes sshd take the file: no finding then.
		if err := a.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLiveListen(t, p3, &strings.Builder{})
		cur = p3
		deadline := time.Now().Add(5 * time.Second)
		for {
			r = liveCheck(t, cfgA)
			if !slices.Contains(r.codes(), checker.CodeNotApplied) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond) // the old listener may linger a moment
		}
		if slices.Contains(r.codes(), checker.CodeNotApplied) || slices.Contains(r.codes(), checker.CodeInUse) {
			t.Errorf("after SIGHUP: %+v", r.Findings)
		}
	})

	// Phase 2 of a migration written, not reloaded: every configured
	// port is held, but sshd still listens on the dropped one.
	t.Run("port dropped, not reloaded", func(t *testing.T) {
		p3 := cur // where "edited, not reloaded" left sshd a
		p4 := freeLivePort(t, p1, p2, p3)
		body := fmt.Sprintf("Port %d\nPort %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s.pid\nUsePAM no\n", p3, p4, key, cfgA)
		if err := os.WriteFile(cfgA, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := a.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLiveListen(t, p4, &strings.Builder{})
		writeLiveConfig(t, cfgA, p4, key) // drop p3
		r := liveCheck(t, cfgA)
		i := slices.IndexFunc(r.Findings, func(f liveFinding) bool { return f.Code == checker.CodeNotApplied })
		if i < 0 || r.Findings[i].Port != p3 || r.OK {
			t.Fatalf("want a not-applied warning on the dropped port %d (ok false), got ok=%v %+v", p3, r.OK, r.Findings)
		}
		if msg := r.Findings[i].Message; !strings.Contains(msg, fmt.Sprintf("still listens on 127.0.0.1:%d", p3)) {
			t.Errorf("message %q does not name the dropped endpoint", msg)
		}
	})

	t.Run("nothing runs it", func(t *testing.T) {
		cfgD := filepath.Join(dir, "d_config")
		writeLiveConfig(t, cfgD, freeLivePort(t, p1, p2), key)
		r := liveCheck(t, cfgD)
		if !slices.Contains(r.codes(), checker.CodeNotRunning) {
			t.Errorf("want not-running, got %+v", r.Findings)
		}
		if !r.OK {
			t.Errorf("not-running is info, yet ok is false: %+v", r.Findings)
		}
	})
}
