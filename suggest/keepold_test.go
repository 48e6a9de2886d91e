package suggest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

// TestCorpusKeepOldThenFinish runs both phases of a migration on every
// corpus case: `--keep-old` (sshd then listens on exactly old ∪ {20022}) and
// finishing it (exactly {20022}); both phases are idempotent, only Port,
// ListenAddress and LocalPort Match block lines change, and according to the
// real sshd -T every other setting stays and a connection on the new port
// gets the settings a connection on the first old port had (sshd -T -C
// lport=...).
func TestCorpusKeepOldThenFinish(t *testing.T) {
	const port = 20022
	for _, corpus := range sshdtest.LoadCorpora(t, "../testdata/corpus", "../../shared/corpus") {
		for _, c := range corpus.Cases {
			t.Run(corpus.Label()+"/"+c.Name, func(t *testing.T) {
				if c.Refused {
					t.Skip("sshd refuses this tree: nothing to move")
				}
				if c.Broken != "" {
					t.Skip(c.Broken)
				}
				keepOldThenFinish(t, c.Root, port)
			})
		}
	}
}

// TestKeepOldLayouts runs both phases on the layouts --keep-old used to
// refuse and on the ones a migration must get right.
func TestKeepOldLayouts(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"listenaddress host:port": {
			"etc/ssh/sshd_config": "Port 22\nListenAddress 127.0.0.1:2222\nListenAddress [::1]:2222 # v6\nPasswordAuthentication no\n",
		},
		"match localport": {
			"etc/ssh/sshd_config": "Port 22\nPasswordAuthentication yes\nMatch LocalPort 22\n\tPasswordAuthentication no\n\tMaxAuthTries 2\n\n# others\nMatch User admin\n\tBanner none\n",
		},
		"match localport in a drop-in, port in main": {
			"etc/ssh/sshd_config":                 "Include /etc/ssh/sshd_config.d/*.conf\nPort 2200\n",
			"etc/ssh/sshd_config.d/10-match.conf": "Match LocalPort=2200 User root\n  PermitRootLogin prohibit-password\n  X11Forwarding no",
		},
		"drop-in and main ports": {
			"etc/ssh/sshd_config":                 "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n",
			"etc/ssh/sshd_config.d/50-cloud.conf": "Port 2222\n",
		},
		"no port line": {
			"etc/ssh/sshd_config": "#Port 22\nPasswordAuthentication no\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, files)
			keepOldThenFinish(t, root, 20022)
		})
	}
}

func keepOldThenFinish(t *testing.T, src string, port int) {
	t.Helper()
	before := copyTree(t, src)
	tree := copyTree(t, src)
	// Names as sshd finds them in the tree under sshdtest.Run.
	names := &sshcfg.Options{Resolver: sshdtest.Names{Root: tree}}
	root := rootfstest.Open(t, tree)
	cfg, err := sshcfg.Load(root, sshcfg.DefaultConfig, names)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	prev := suggest.ListenPorts(cfg)
	if slices.Contains(prev, port) {
		t.Skipf("already listens on %d", port)
	}
	union := append(slices.Clone(prev), port)

	// Phase 1: --keep-old.
	apply := func(phase string, keepOld bool, want []int) {
		t.Helper()
		cfg, err := sshcfg.Load(root, sshcfg.DefaultConfig, names)
		if err != nil {
			t.Fatalf("%s: Load: %v", phase, err)
		}
		plan, err := suggest.MakePlan(cfg, root, port, suggest.PlanOptions{KeepOld: keepOld})
		if err != nil {
			t.Fatalf("%s: MakePlan: %v", phase, err)
		}
		if !plan.Changed {
			t.Fatalf("%s: no change planned from %v", phase, plan.Previous)
		}
		if _, err := suggest.Apply(context.Background(), plan.Writes, suggest.ApplyOptions{Root: root, BackupSuffix: ".sshport-" + phase}); err != nil {
			t.Fatalf("%s: Apply: %v", phase, err)
		}
		after, err := sshcfg.Load(root, sshcfg.DefaultConfig, names)
		if err != nil {
			t.Fatalf("%s: reload: %v", phase, err)
		}
		if got := suggest.ListenPorts(after); !sameSet(got, want) {
			t.Fatalf("%s: sshd listens on %v, want %v", phase, got, want)
		}
		again, err := suggest.MakePlan(after, root, port, suggest.PlanOptions{KeepOld: keepOld})
		if err != nil || again.Changed {
			t.Errorf("%s again: changed=%v err=%v (want no change)", phase, again != nil && again.Changed, err)
		}
		old := treeFiles(t, before, "")
		for p, nb := range treeFiles(t, tree, ".sshport-") {
			checkOnlyPortLinesAndBlocks(t, p, old[p], nb)
		}
	}
	apply("keep-old", true, union)
	phase1 := copyTree(t, tree)
	apply("finish", false, []int{port})

	if sshdtest.Path() == "" && !sshdtest.InCI() {
		return
	}
	sshdtest.Require(t)
	conn := func(lport int) []string {
		return []string{"-C", fmt.Sprintf("lport=%d,user=root,host=client.example,addr=192.0.2.1,laddr=192.0.2.2,rdomain=", lport)}
	}
	run := func(root string, extra ...string) sshdtest.Result {
		t.Helper()
		r := sshdtest.Run(t, root, sshcfg.DefaultConfig, extra...)
		if r.Refused() {
			t.Fatalf("sshd -T %v refuses %s: %s", extra, root, r.Err)
		}
		return r
	}
	was, mid, end := run(before), run(phase1), run(tree)
	for _, c := range []struct {
		name string
		r    sshdtest.Result
		want []int
	}{{"before", was, prev}, {"keep-old", mid, union}, {"finish", end, []int{port}}} {
		if got := listenPorts(c.r.Listen); !sameSet(got, c.want) {
			t.Errorf("%s: sshd -T listens on %v, want the ports %v", c.name, c.r.Listen, c.want)
		}
	}
	if !slices.Equal(otherSettings(was.Stdout), otherSettings(mid.Stdout)) || !slices.Equal(otherSettings(was.Stdout), otherSettings(end.Stdout)) {
		t.Errorf("sshd -T settings other than the port changed")
	}
	// Per connection: the new port gets what the first old port had; the
	// old ports keep theirs during the migration.
	first := run(before, conn(prev[0])...)
	for _, c := range []struct {
		name string
		r    sshdtest.Result
	}{
		{"keep-old, new port", run(phase1, conn(port)...)},
		{"keep-old, old port", run(phase1, conn(prev[0])...)},
		{"finish, new port", run(tree, conn(port)...)},
	} {
		if !slices.Equal(otherSettings(first.Stdout), otherSettings(c.r.Stdout)) {
			t.Errorf("%s: sshd -T -C gets other settings than port %d had before:\n%s", c.name, prev[0], diffLines(otherSettings(first.Stdout), otherSettings(c.r.Stdout)))
		}
	}
}

// listenPorts returns the distinct ports of sshd -T's listenaddress values.
func listenPorts(listen []string) []int {
	var out []int
	for _, l := range listen {
		i := strings.LastIndexByte(l, ':')
		var p int
		fmt.Sscan(l[i+1:], &p)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func sameSet(a, b []int) bool {
	return !slices.ContainsFunc(a, func(p int) bool { return !slices.Contains(b, p) }) &&
		!slices.ContainsFunc(b, func(p int) bool { return !slices.Contains(a, p) })
}

func diffLines(a, b []string) string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// checkOnlyPortLinesAndBlocks is checkOnlyPortLines where whole Match
// blocks with a LocalPort criterion may also be copied or deleted.
func checkOnlyPortLinesAndBlocks(t *testing.T, name string, old, new []byte) {
	t.Helper()
	strip := func(b []byte) []string {
		var keep []string
		f, err := sshcfg.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for _, l := range f.Lines() {
			if strings.EqualFold(l.Keyword, "match") {
				in = slices.ContainsFunc(l.MatchCriteria(), func(c sshcfg.Criterion) bool { return strings.EqualFold(c.Name, "localport") })
			}
			switch k := strings.ToLower(l.Keyword); {
			case in, k == "port", k == "listenaddress", k == "match":
				continue
			}
			keep = append(keep, strings.TrimRight(string(l.Raw), "\r\n"))
		}
		return keep
	}
	if o, n := strip(old), strip(new); !slices.Equal(o, n) {
		t.Errorf("%s: lines other than Port/ListenAddress/Match changed:\n%s", name, diffLines(o, n))
	}
}

// writeFiles writes files (paths relative to root) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
