package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
)

// TestFinishBeforeReload: --finish keeps the port phase 1 added and drops
// the old ones. When the running sshd of the configuration (the pid in its
// PidFile) still listens on the old ports only, phase 1 was never reloaded:
// the new port has never answered, so --finish refuses (exit 2, nothing
// written) instead of leaving sshd, at its next reload, on an unchecked port.
func TestFinishBeforeReload(t *testing.T) {
	const pid = 4242
	lst := func(port, owner int) checker.Listener {
		return checker.Listener{Addr: netip.MustParseAddr("0.0.0.0"), Port: port, PID: owner, Process: "sshd"}
	}
	tests := []struct {
		name      string
		pidFile   bool // the PidFile holds pid
		pidNone   bool // "PidFile none", and a file named "none" in the working directory holds pid
		listeners []checker.Listener
		json      bool
		plain     bool // plain suggest --apply, no --finish: phase 2 all the same
		wantCode  int
		wantErr   string // on stderr (or in the JSON error)
	}{
		{name: "phase 1 not reloaded", pidFile: true, listeners: []checker.Listener{lst(22, pid)},
			wantCode: exitError, wantErr: "sshport: --finish: the running sshd (pid 4242) listens on 22 but not yet on 20022, the port phase 2 keeps: phase 1 is not in effect"},
		{name: "phase 1 not reloaded, --json", pidFile: true, listeners: []checker.Listener{lst(22, pid)}, json: true,
			wantCode: exitError, wantErr: `"message": "--finish: the running sshd (pid 4242) listens on 22 but not yet on 20022`},
		{name: "plain suggest, phase 1 not reloaded", pidFile: true, listeners: []checker.Listener{lst(22, pid)}, plain: true,
			wantCode: exitError, wantErr: "sshport: the running sshd (pid 4242) listens on 22 but not yet on 20022"},
		{name: "PidFile none", pidNone: true, listeners: []checker.Listener{lst(22, pid)}},
		{name: "phase 1 reloaded", pidFile: true, listeners: []checker.Listener{lst(22, pid), lst(20022, pid)}},
		{name: "no running sshd seen", listeners: []checker.Listener{lst(22, pid)}},
		{name: "another process on the old port", pidFile: true, listeners: []checker.Listener{lst(22, 99)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "sshd_config")
			pf := filepath.Join(dir, "sshd.pid")
			if tc.pidNone {
				pf = "none"
				t.Chdir(dir)
				if err := os.WriteFile(filepath.Join(dir, "none"), []byte("4242\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			old := "Port 22\nPort 20022\nPidFile " + pf + "\n"
			if err := os.WriteFile(cfg, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.pidFile {
				if err := os.WriteFile(pf, []byte("4242\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			facts := checker.Facts{OS: "linux", Ephemeral: checker.Range{Lo: 32768, Hi: 60999}, EphemeralSource: "test facts",
				Listeners: tc.listeners, ListenMethod: checker.MethodNetlink}
			args := []string{"sshport", "-f", cfg}
			if tc.json {
				args = append(args, "--json")
			}
			args = append(args, "suggest", "--apply", "--sshd", "/bin/true", "--backup-suffix", ".bak")
			if !tc.plain {
				args = append(args, "--finish")
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, &out, &errb, checker.Static{Facts: facts})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			got, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if msg := errb.String() + out.String(); !strings.Contains(msg, tc.wantErr) {
					t.Errorf("output %q does not hold %q", msg, tc.wantErr)
				}
				if string(got) != old {
					t.Errorf("config written though refused:\n%s", got)
				}
				if _, err := os.Stat(cfg + ".bak"); err == nil {
					t.Errorf("a backup was made though refused")
				}
				return
			}
			if want := "Port 20022\nPidFile " + pf + "\n"; string(got) != want {
				t.Errorf("config after --finish:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
