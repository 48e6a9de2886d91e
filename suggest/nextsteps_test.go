package suggest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/hostenv"
)

var updateSteps = flag.Bool("update-steps", false, "rewrite the want section of testdata/nextsteps/*.txtar")

// fakeRunner answers the live commands from files of the fixture.
type fakeRunner map[string][]byte

func (f fakeRunner) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	key := strings.Join(append([]string{name}, args...), " ")
	if b, ok := f[key]; ok {
		return b, nil
	}
	return nil, errors.New("exec: \"" + name + "\": executable file not found in $PATH")
}

// fixture reads a next-steps fixture: "facts" (key: value lines),
// "root/..." files of the system, "run/CMD" outputs of live commands, and
// the golden "want".
type fixture struct {
	facts  StepFacts
	live   bool
	fsys   fstest.MapFS
	runner fakeRunner
	want   string
	arc    *txtar.Archive
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}

func readFixture(t *testing.T, file string) *fixture {
	t.Helper()
	arc, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{fsys: fstest.MapFS{}, runner: fakeRunner{}, arc: arc}
	fx.facts = StepFacts{Config: "/etc/ssh/sshd_config", DefaultConfig: true, Sshport: "sshport", Applied: true}
	for _, f := range arc.Files {
		switch {
		case f.Name == "facts":
			for _, l := range strings.Split(string(f.Data), "\n") {
				k, v, ok := strings.Cut(l, ":")
				if !ok {
					continue
				}
				v = strings.TrimSpace(v)
				switch strings.TrimSpace(k) {
				case "phase":
					fx.facts.Phase = Phase(v)
				case "old":
					fx.facts.Old = ints(v)
				case "ports":
					fx.facts.Ports = ints(v)
				case "new":
					fx.facts.New = ints(v)[0]
				case "live":
					fx.live = v == "true"
				case "image":
					fx.facts.Image, fx.facts.Root = true, v
					fx.facts.Sshport = "sshport --root " + v
				case "config":
					fx.facts.Config, fx.facts.DefaultConfig = v, v == "/etc/ssh/sshd_config"
					if !fx.facts.DefaultConfig {
						fx.facts.Sshport += " -f " + v
					}
				case "pidfile":
					fx.facts.PidFile = v
				case "apply":
					fx.facts.Applied, fx.facts.ApplyCommand = false, v
				case "reserve":
					rs, err := checker.ParseRanges(v)
					if err != nil {
						t.Fatal(err)
					}
					fx.facts.Reserve, fx.facts.Reserved = true, rs
				default:
					t.Fatalf("%s: unknown fact %q", file, k)
				}
			}
		case f.Name == "want":
			fx.want = string(f.Data)
		case strings.HasPrefix(f.Name, "root/"):
			name := strings.TrimPrefix(f.Name, "root/")
			if strings.HasSuffix(name, "/") {
				fx.fsys[strings.TrimSuffix(name, "/")] = &fstest.MapFile{Mode: os.ModeDir | 0o755}
				continue
			}
			fx.fsys[name] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
		case strings.HasPrefix(f.Name, "run/"):
			fx.runner[strings.TrimPrefix(f.Name, "run/")] = f.Data
		default:
			t.Fatalf("%s: unknown section %q", file, f.Name)
		}
	}
	return fx
}

func (fx *fixture) steps() []Step {
	f := fx.facts
	f.Host = hostenv.Detect(context.Background(), fx.fsys, hostenv.Options{Live: fx.live, OldPorts: f.Old, NewPort: f.New, Runner: fx.runner})
	return NextSteps(f)
}

// renderSteps prints steps as the CLI does.
func renderSteps(steps []Step) string {
	var b strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&b, "%d. [%s] %s\n", i+1, s.ID, s.Why)
		for _, c := range s.Commands {
			fmt.Fprintf(&b, "   $ %s\n", c)
		}
		fmt.Fprintf(&b, "   when: %s\n", s.When)
	}
	return b.String()
}

// TestNextStepsGolden: the next steps of each fixture system, compared
// with the golden list in the fixture (-update-steps rewrites it).
func TestNextStepsGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/nextsteps/*.txtar")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			fx := readFixture(t, file)
			steps := fx.steps()
			got := renderSteps(steps)
			if *updateSteps {
				for i := range fx.arc.Files {
					if fx.arc.Files[i].Name == "want" {
						fx.arc.Files[i].Data = []byte(got)
					}
				}
				if fx.want == "" {
					fx.arc.Files = append(fx.arc.Files, txtar.File{Name: "want", Data: []byte(got)})
				}
				if err := os.WriteFile(file, txtar.Format(fx.arc), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != fx.want {
				t.Errorf("next steps differ.\ngot:\n%s\nwant:\n%s", got, fx.want)
			}
			checkOrder(t, steps, fx.facts)
			if fx.facts.Image {
				checkImageSafe(t, steps, fx.facts.Root)
			}
		})
	}
}

// checkOrder: the new port is opened before sshd moves, and the old port is
// closed (or phase 2 offered) only after the new one was verified.
func checkOrder(t *testing.T, steps []Step, f StepFacts) {
	t.Helper()
	idx := func(id string) int {
		return slices.IndexFunc(steps, func(s Step) bool { return s.ID == id })
	}
	move := slices.IndexFunc(steps, func(s Step) bool { return s.ID == "reload" || s.ID == "boot" || s.ID == "socket" || s.ID == "unit" })
	verify := idx("verify")
	if move < 0 || verify < move {
		t.Errorf("no reload before verify: %v", ids(steps))
	}
	for _, id := range []string{"firewall", "selinux", "cloud-firewall", "reserve-port", "validate", "apply"} {
		if i := idx(id); i >= 0 && i > move {
			t.Errorf("%s comes after sshd moves: %v", id, ids(steps))
		}
	}
	for _, id := range []string{"firewall-close", "cloud-firewall-close", "finish"} {
		if i := idx(id); i >= 0 && i < verify {
			t.Errorf("%s comes before verify: %v", id, ids(steps))
		}
	}
	if f.Phase == PhaseKeepOld && (idx("finish") < 0 || idx("firewall-close") >= 0) {
		t.Errorf("phase 1 must end with finish and close nothing: %v", ids(steps))
	}
}

func ids(steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return out
}

// checkImageSafe: under --root every command writes inside the image (or
// talks to an instance booted from it), never to this host.
func checkImageSafe(t *testing.T, steps []Step, root string) {
	t.Helper()
	for _, s := range steps {
		for _, c := range s.Commands {
			ok := strings.HasPrefix(c, "chroot "+root+" ") && !strings.Contains(c, "systemctl") ||
				strings.HasPrefix(c, "sshport --root "+root+" suggest") ||
				strings.HasPrefix(c, "sshport verify --host HOST") || strings.HasPrefix(c, "ssh -p ") ||
				strings.HasPrefix(c, "sshport client --host HOST") // on the clients, not this host
			for _, tool := range []string{"sed -i ", "mkdir -p ", "printf ", "echo "} {
				if strings.HasPrefix(c, tool) {
					// The file written is the last word, inside the image.
					w := strings.Fields(c)
					ok = strings.HasPrefix(w[len(w)-1], root+"/") && strings.Count(c, ">") <= 1
				}
			}
			for _, host := range []string{"systemctl restart", "systemctl reload", "daemon-reload", "firewall-cmd", "nft ", "iptables ", "ufw ", "sysctl -w", "fail2ban-client", "kill "} {
				if strings.Contains(c, host) && !strings.HasPrefix(c, "sed -i") {
					ok = false
				}
			}
			if strings.HasPrefix(c, "chroot ") && strings.Contains(c, "semanage") && !strings.Contains(c, " -N ") {
				ok = false // semanage without -N reloads the host kernel's policy
			}
			if !ok {
				t.Errorf("step %s: command may change this host: %s", s.ID, c)
			}
		}
	}
}

// TestNextStepsEditsWork runs each fixture's file-editing commands (sed,
// printf, mkdir, echo) on a copy of its tree, then reads the tree back: the
// firewall lets the new port in (nftables and iptables before the final
// drop), the unit's -p, the socket and fail2ban's jails follow the new
// ports, and closing steps remove the old port's rules.
func TestNextStepsEditsWork(t *testing.T) {
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("no sed")
	}
	files, _ := filepath.Glob("testdata/nextsteps/*.txtar")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			fx := readFixture(t, file)
			steps := fx.steps()
			dir := t.TempDir()
			for name, f := range fx.fsys {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if f.Mode.IsDir() {
					_ = os.MkdirAll(p, 0o755)
					continue
				}
				_ = os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ran := map[string]bool{}
			for _, s := range steps {
				for _, c := range s.Commands {
					if !slices.ContainsFunc([]string{"sed -i ", "printf ", "mkdir -p ", "echo 'net"}, func(p string) bool { return strings.HasPrefix(c, p) }) {
						continue
					}
					w := strings.Fields(c)
					target := strings.Trim(w[len(w)-1], "'")
					var local string
					if fx.facts.Image {
						local = filepath.Join(dir, strings.TrimPrefix(target, fx.facts.Root))
					} else {
						local = filepath.Join(dir, target)
					}
					cmd := strings.TrimSuffix(c, w[len(w)-1]) + "'" + local + "'"
					if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
						t.Fatalf("step %s: %s: %v\n%s", s.ID, cmd, err, out)
					}
					ran[s.ID] = true
				}
			}
			after := hostenv.Detect(context.Background(), os.DirFS(dir), hostenv.Options{OldPorts: []int{fx.facts.New}, NewPort: fx.facts.New})
			dropped := minus(fx.facts.Old, fx.facts.Ports)
			gone := hostenv.Detect(context.Background(), os.DirFS(dir), hostenv.Options{OldPorts: dropped})
			if ran["firewall"] {
				fw := after.Firewall
				switch fw.Kind {
				case hostenv.FirewallNftables:
					i := slices.IndexFunc(fw.Nft.Rules, func(r hostenv.NftRule) bool { return r.At.File != "" })
					if i < 0 {
						t.Fatalf("no rule for %d in the ruleset file after the firewall step", fx.facts.New)
					}
					lines := strings.Split(readLocal(t, dir, fw.Nft.Rules[i].At.File), "\n")
					drop := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "counter drop" || strings.TrimSpace(l) == "drop" })
					if drop >= 0 && fw.Nft.Rules[i].At.Line-1 > drop {
						t.Errorf("rule for %d at line %d, after the final drop at line %d", fx.facts.New, fw.Nft.Rules[i].At.Line, drop+1)
					}
				case hostenv.FirewallIPTables:
					for _, f := range fw.IPTables.Files {
						if f.Filters && len(f.Rules) == 0 {
							t.Errorf("%s: no rule for %d", f.File, fx.facts.New)
						}
					}
				case hostenv.FirewallUFW:
					if len(fw.UFW.OldRules) == 0 {
						t.Errorf("ufw's rules do not allow %d: %+v", fx.facts.New, fw.UFW)
					}
				}
			}
			if ran["fail2ban"] {
				if len(after.Fail2ban.Jails) == 0 {
					t.Errorf("no jail guards %d after the fail2ban step", fx.facts.New)
				}
				for _, j := range after.Fail2ban.Jails {
					for _, p := range dropped {
						if portListHasTest(j.Port, p) {
							t.Errorf("jail %s still guards %d: %s", j.Name, p, j.Port)
						}
					}
				}
			}
			if ran["unit"] || ran["reload"] && len(fx.steps()) > 0 && slices.ContainsFunc(steps, func(s Step) bool { return strings.Contains(strings.Join(s.Commands, "\n"), "ExecStart") }) {
				if !slices.Equal(after.Systemd.ExecPorts, fx.facts.Ports) {
					t.Errorf("ExecStart ports after the edit: %v, want %v", after.Systemd.ExecPorts, fx.facts.Ports)
				}
			}
			if ran["socket"] || ran["reload"] && slices.ContainsFunc(steps, func(s Step) bool { return strings.Contains(strings.Join(s.Commands, "\n"), "ListenStream") }) {
				b := readLocal(t, dir, "/etc/systemd/system/"+after.Systemd.Socket+".d/sshport.conf")
				want := "[Socket]\nListenStream=\n"
				for _, p := range fx.facts.Ports {
					want += "ListenStream=" + strconv.Itoa(p) + "\n"
				}
				if b != want {
					t.Errorf("socket drop-in:\n%s\nwant:\n%s", b, want)
				}
			}
			if ran["firewall-close"] {
				switch fw := gone.Firewall; fw.Kind {
				case hostenv.FirewallNftables:
					if slices.ContainsFunc(fw.Nft.Rules, func(r hostenv.NftRule) bool { return r.At.File != "" }) {
						t.Errorf("the ruleset file still accepts %v: %+v", dropped, fw.Nft.Rules)
					}
				case hostenv.FirewallUFW:
					if len(fw.UFW.OldRules) > 0 {
						t.Errorf("ufw still allows %v: %+v", dropped, fw.UFW.OldRules)
					}
				}
			}
		})
	}
}

func readLocal(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func portListHasTest(list string, p int) bool {
	for _, it := range strings.Split(list, ",") {
		it = strings.TrimSpace(it)
		if it == strconv.Itoa(p) || it == "ssh" && p == 22 {
			return true
		}
	}
	return false
}

// TestExecPortEdit: the line that gives sshd -p is rewritten for each
// phase, wherever the -p is written.
func TestExecPortEdit(t *testing.T) {
	tests := []struct {
		name, line string
		phase      Phase
		old, ports []int
		want       string
	}{
		{"drop-in, phase 1", "ExecStart=/usr/sbin/sshd -D -p 22 $SSHD_OPTS", PhaseKeepOld, []int{22}, []int{22, 20022}, "ExecStart=/usr/sbin/sshd -D -p 22 -p 20022 $SSHD_OPTS"},
		{"drop-in, phase 2", "ExecStart=/usr/sbin/sshd -D -p 22 -p 20022 $SSHD_OPTS", PhaseFinish, []int{22, 20022}, []int{20022}, "ExecStart=/usr/sbin/sshd -D -p 20022 $SSHD_OPTS"},
		{"glued, one go", "ExecStart=/usr/sbin/sshd -D -p22", PhaseMove, []int{22}, []int{20022}, "ExecStart=/usr/sbin/sshd -D -p20022"},
		{"-o Port=, one go", "ExecStart=/usr/sbin/sshd -D -o Port=2222", PhaseMove, []int{2222}, []int{20022}, "ExecStart=/usr/sbin/sshd -D -o Port=20022"},
		{"EnvironmentFile, quoted", `SSHD_OPTS="-p 22"`, PhaseMove, []int{22}, []int{20022}, `SSHD_OPTS="-p 20022"`},
		{"EnvironmentFile, phase 1", `OPTIONS=-p 22`, PhaseKeepOld, []int{22}, []int{22, 20022}, `OPTIONS=-p 22 -p 20022`},
		{"not a port flag", "ExecStart=/usr/sbin/sshd -D -f /etc/ssh/p22 -p 22", PhaseMove, []int{22}, []int{20022}, "ExecStart=/usr/sbin/sshd -D -f /etc/ssh/p22 -p 20022"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := StepFacts{Phase: tc.phase, Old: tc.old, Ports: tc.ports, New: 20022, Applied: true, Config: "/etc/ssh/sshd_config", DefaultConfig: true, Sshport: "sshport"}
			f.Host.Systemd = hostenv.Systemd{Present: true, Service: "ssh.service", ExecPorts: tc.old, KillModeProcess: true,
				ExecPortAt: hostenv.Location{File: "/etc/default/ssh", Line: 4, Text: tc.line}}
			steps := NextSteps(f)
			cmds := stepCmds(steps, "reload")
			want := "sed -i '4c\\" + sedText(tc.want) + "' /etc/default/ssh"
			if len(cmds) != 3 || cmds[0] != want || cmds[2] != "systemctl restart ssh.service" {
				t.Errorf("reload step: %q\nwant first: %q", cmds, want)
			}
		})
	}
}

func stepCmds(steps []Step, id string) []string {
	for _, s := range steps {
		if s.ID == id {
			return s.Commands
		}
	}
	return nil
}
