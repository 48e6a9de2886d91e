package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/rootfs"
)

var update = flag.Bool("update", false, "rewrite the expected output inside testdata/script/*.txtar")

// Test hooks live here, never in the shipped binary:
//   - SSHPORT_TEST_FACTS=FILE: host facts come from FILE (JSON of
//     checker.Facts) instead of this system, so a script's findings do not
//     depend on the machine it runs on;
//   - SSHPORT_TEST_BUSY=P,Q,...: with SSHPORT_TEST_FACTS, a bind probe of
//     any address on port P or Q fails "in use" (a socket bound but not
//     listening, which the facts' listener list cannot show);
//   - SSHPORT_TEST_EXITFILE=FILE: the exit code is also written to FILE,
//     for the scripts' "exitcode N" command;
//   - SSHPORT_TEST_NO_OPENAT2=1: paths under a root are resolved by the
//     portable walk, as on kernels without openat2.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sshport": func() {
			if os.Getenv("SSHPORT_TEST_NO_OPENAT2") == "1" {
				rootfs.UseOpenat2(false)
			}
			var prober checker.Prober = checker.System{}
			if f := os.Getenv("SSHPORT_TEST_FACTS"); f != "" {
				data, err := os.ReadFile(f)
				if err != nil {
					fmt.Fprintln(os.Stderr, "test hook:", err)
					os.Exit(99)
				}
				// A misspelt field must not pass as a zero value.
				var facts checker.Facts
				dec := json.NewDecoder(bytes.NewReader(data))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&facts); err != nil {
					fmt.Fprintln(os.Stderr, "test hook:", err)
					os.Exit(99)
				}
				prober = checker.Static{Facts: facts}
				if b := os.Getenv("SSHPORT_TEST_BUSY"); b != "" {
					busy := map[int]bool{}
					for _, w := range strings.Split(b, ",") {
						p, err := strconv.Atoi(w)
						if err != nil {
							fmt.Fprintln(os.Stderr, "test hook: SSHPORT_TEST_BUSY:", err)
							os.Exit(99)
						}
						busy[p] = true
					}
					prober = busyProber{facts: facts, busy: busy}
				}
			}
			code := run(context.Background(), os.Args, os.Stdout, os.Stderr, prober)
			if f := os.Getenv("SSHPORT_TEST_EXITFILE"); f != "" {
				_ = os.WriteFile(f, []byte(strconv.Itoa(code)), 0o644)
			}
			os.Exit(code)
		},
	})
}

// TestScripts runs the end-to-end CLI tests in testdata/script.
func TestScripts(t *testing.T) { runScripts(t, false) }

// TestScriptsWalk runs them again with paths under --root resolved by the
// portable walk, as on kernels without openat2: the answers must be the same.
func TestScriptsWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	runScripts(t, true)
}

func runScripts(t *testing.T, walk bool) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update && !walk,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("SSHPORT_TEST_EXITFILE", filepath.Join(env.WorkDir, ".exitcode"))
			env.Setenv("NO_COLOR", "1")
			if walk {
				env.Setenv("SSHPORT_TEST_NO_OPENAT2", "1")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N: the last sshport run exited with status N
			// ("! exec" only says non-zero; 1 and 2 mean different things).
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: exitcode N")
				}
				data, err := os.ReadFile(ts.Getenv("SSHPORT_TEST_EXITFILE"))
				ts.Check(err)
				got := strings.TrimSpace(string(data))
				if (got == args[0]) == neg {
					ts.Fatalf("sshport exited %s, want %s%s", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
				}
			},
			// nobackups DIR: no file under DIR has a backup sibling
			// (nothing was written).
			"nobackups": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: nobackups DIR")
				}
				var found []string
				_ = filepath.Walk(ts.MkAbs(args[0]), func(p string, info os.FileInfo, err error) error {
					if err == nil && strings.Contains(filepath.Base(p), ".sshport-") {
						found = append(found, p)
					}
					return nil
				})
				if (len(found) == 0) == neg {
					ts.Fatalf("backups: %v", found)
				}
			},
		},
	})
}

// busyProber answers with fixed facts plus a bind probe of every requested
// endpoint, in use on the busy ports.
type busyProber struct {
	facts checker.Facts
	busy  map[int]bool
}

func (b busyProber) Probe(_ context.Context, req checker.Request) (checker.Facts, error) {
	f := b.facts
	if !req.Live { // as checker.System for an image
		f.Listeners, f.ListenMethod = nil, checker.MethodSkipped
		return f, nil
	}
	f.Probes = nil
	for _, ep := range req.Bind {
		f.Probes = append(f.Probes, checker.ProbeResult{Endpoint: ep, V6Only: ep.Addr().Is6(), InUse: b.busy[int(ep.Port())]})
	}
	return f, nil
}
