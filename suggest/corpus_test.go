package suggest_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite suggest/testdata/corpus/*.diff")

// TestCorpusPlans moves every corpus case to port 20022 and requires that
// the diff applies with GNU patch and with git apply to exactly the bytes
// Apply writes, that only Port/ListenAddress/Match lines changed, that
// sshcfg and the real sshd read exactly the new port back with every other
// setting unchanged, and that a second plan changes nothing. Golden diffs
// are kept for the project's own corpus only (the shared one's files are
// not copied into the project, not even as diff context).
func TestCorpusPlans(t *testing.T) {
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
				runCorpusCase(t, c, port, !corpus.Shared)
			})
		}
	}
}

func runCorpusCase(t *testing.T, c sshdtest.Case, port int, golden bool) {
	applied := copyTree(t, c.Root)
	// Names as sshd finds them in the tree under sshdtest.Run.
	names := &sshcfg.Options{Resolver: sshdtest.Names{Root: applied}}
	cfg, err := sshcfg.Load(rootfstest.Open(t, applied), sshcfg.DefaultConfig, names)
	if err != nil {
		// Vendor keywords are warnings for sshcfg; anything else is
		// a refusal the corpus would have recorded.
		t.Fatalf("Load: %v", err)
	}
	plan, err := suggest.MakePlan(cfg, rootfstest.Open(t, applied), port, suggest.PlanOptions{})
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	targets, err := suggest.ResolveTargets(rootfstest.Open(t, applied), plan.Changes)
	if err != nil {
		t.Fatal(err)
	}
	diff := suggest.Diff(targets)
	if golden {
		goldenFile := filepath.Join("testdata", "corpus", c.Name+".diff")
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(goldenFile, diff, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(goldenFile)
		if err != nil {
			t.Fatalf("%v (run go test ./suggest -run TestCorpusPlans -update-corpus)", err)
		}
		if !bytes.Equal(diff, want) {
			t.Errorf("diff differs from %s:\n%s", goldenFile, diff)
		}
	}
	if !plan.Changed {
		if !slices.Equal(plan.Previous, []int{port}) {
			t.Fatalf("no change planned, but sshd listens on %v", plan.Previous)
		}
		return
	}
	before := copyTree(t, c.Root)

	// Apply, GNU patch and git apply must produce the same bytes.
	if _, err := suggest.Apply(context.Background(), plan.Changes, suggest.ApplyOptions{Root: rootfstest.Open(t, applied), BackupSuffix: ".sshport-test"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	patched := copyTree(t, c.Root)
	runWithInput(t, diff, "patch", "-s", "-d", patched, "-p1")
	gitApplied := copyTree(t, c.Root)
	runWithInput(t, diff, "git", "-C", gitApplied, "apply", "--unsafe-paths", "-p1", "-")
	got := treeFiles(t, applied, ".sshport-test")
	for name, tree := range map[string]string{"patch": patched, "git apply": gitApplied} {
		other := treeFiles(t, tree, "")
		if len(other) != len(got) {
			t.Errorf("%s: %d files, Apply: %d", name, len(other), len(got))
		}
		for p, b := range got {
			if !bytes.Equal(other[p], b) {
				t.Errorf("%s gives different bytes for %s:\n%q\nApply:\n%q", name, p, other[p], b)
			}
		}
	}

	// Only Port, ListenAddress and Match lines differ.
	old := treeFiles(t, before, "")
	for p, nb := range got {
		checkOnlyPortLines(t, p, old[p], nb)
	}

	// sshcfg reads back exactly the new port, and plans no change.
	after, err := sshcfg.Load(rootfstest.Open(t, applied), sshcfg.DefaultConfig, names)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := suggest.ListenPorts(after); !slices.Equal(got, []int{port}) {
		t.Errorf("after apply sshd listens on %v, want [%d]", got, port)
	}
	again, err := suggest.MakePlan(after, rootfstest.Open(t, applied), port, suggest.PlanOptions{})
	if err != nil || again.Changed {
		t.Errorf("second plan: changed=%v err=%v (want no change)", again != nil && again.Changed, err)
	}

	// The real sshd agrees, and no other setting moved.
	if sshdtest.Path() == "" && !sshdtest.InCI() {
		return
	}
	sshdtest.Require(t)
	was := sshdtest.Run(t, before, sshcfg.DefaultConfig)
	now := sshdtest.Run(t, applied, sshcfg.DefaultConfig)
	if now.Refused() {
		t.Fatalf("sshd refuses the edited tree: %s", now.Err)
	}
	// Where every ListenAddress carries its own port, the Port lines
	// are left alone: what counts is where sshd listens.
	for _, ep := range now.Listen {
		if !strings.HasSuffix(ep, fmt.Sprintf(":%d", port)) {
			t.Errorf("sshd -T listens on %v after apply, want only port %d", now.Listen, port)
			break
		}
	}
	if !slices.Equal(otherSettings(was.Stdout), otherSettings(now.Stdout)) {
		t.Errorf("sshd -T settings other than the port changed")
	}
}

// otherSettings is sshd -T's output without the port and listenaddress lines.
func otherSettings(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "port ") || strings.HasPrefix(l, "listenaddress ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func checkOnlyPortLines(t *testing.T, name string, old, new []byte) {
	t.Helper()
	strip := func(b []byte) []string {
		var keep []string
		f, err := sshcfg.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range f.Lines() {
			switch strings.ToLower(l.Keyword) {
			case "port", "listenaddress", "match":
				continue
			}
			keep = append(keep, string(l.Raw))
		}
		return keep
	}
	o, n := strip(old), strip(new)
	// A line that ended the file may have gained the newline a following
	// inserted Port line needs; compare without the final terminator.
	if len(o) > 0 && len(n) == len(o) {
		o[len(o)-1] = strings.TrimRight(o[len(o)-1], "\r\n")
		n[len(n)-1] = strings.TrimRight(n[len(n)-1], "\r\n")
	}
	if !slices.Equal(o, n) {
		t.Errorf("%s: lines other than Port/ListenAddress/Match changed", name)
	}
}

// copyTree copies dir (symlinks as symlinks) into a new temporary
// directory, writable, and returns it.
func copyTree(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// treeFiles returns every regular file under dir by relative path, leaving
// out names containing skip (backups) when skip is set.
func treeFiles(t *testing.T, dir, skip string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if skip != "" && strings.Contains(d.Name(), skip) {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runWithInput(t *testing.T, input []byte, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if sshdtest.InCI() {
			t.Fatalf("%s is not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s\ndiff:\n%s", name, args, err, out, input)
	}
}
