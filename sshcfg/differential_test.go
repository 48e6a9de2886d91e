package sshcfg_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
)

var (
	diffLong = flag.Bool("long", false, "differential test: generate 3000 configurations instead of 300")
	diffSeed = flag.Uint64("diffseed", 1, "differential test: generator seed")
	diffN    = flag.Int("diffn", 0, "differential test: number of configurations (overrides -long and CI)")
)

// TestDifferential generates random configuration trees and requires sshcfg
// and the real `sshd -T` to agree on each: the same ports (order and
// duplicates), address family and listen endpoints, or both refuse (see
// disagreement). When sshd refuses only for unknown keywords, sshcfg's
// warnings must name exactly those lines, and sshd is asked again with
// those lines commented out so that the ports are compared as well.
//
// 300 trees by default; 3000 with -long or when CI is set. A failure
// prints the seed and tree index (rerun with -diffseed), the tree, and the
// directory it was written to.
func TestDifferential(t *testing.T) {
	sshdtest.Require(t)
	n := 300
	if *diffLong || sshdtest.InCI() {
		n = 3000
	}
	if *diffN > 0 {
		n = *diffN
	}
	seed := *diffSeed
	stats := map[string]int{}
	var failures []string
	var mu sync.Mutex
	start := time.Now()
	// Trees are independent: a few workers keep both cores busy while
	// sshd starts (each tree costs one to three sshd runs).
	t.Run("trees", func(t *testing.T) {
		for w := range diffWorkers {
			t.Run(fmt.Sprint(w), func(t *testing.T) {
				t.Parallel()
				for i := w; i < n; i += diffWorkers {
					differentialTree(t, seed, i, &mu, stats, &failures)
				}
			})
		}
	})
	d := time.Since(start)
	var ks []string
	for k, v := range stats {
		ks = append(ks, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ks)
	t.Logf("seed %d: %d trees in %v (%.0f/s): %s", seed, n, d.Round(time.Millisecond), float64(n)/d.Seconds(), strings.Join(ks, " "))
	if len(failures) > 0 {
		t.Errorf("%d of %d trees disagree", len(failures), n)
	}
	// The comparison is only meaningful if the generator reaches every
	// outcome; a change that made it produce only refusals would pass.
	if n >= 300 && (stats["agree-accept"] < n/5 || stats["agree-refuse"] < n/10 || stats["agree-badoption"] == 0) {
		t.Errorf("generator out of balance: %v", stats)
	}
}

// diffWorkers is how many trees are compared at once.
const diffWorkers = 4

// differentialTree generates tree i of seed, compares sshd and sshcfg on
// it and records the outcome.
func differentialTree(t *testing.T, seed uint64, i int, mu *sync.Mutex, stats map[string]int, failures *[]string) {
	tree := sshdtest.Generate(rand.New(rand.NewPCG(seed, uint64(i))))
	dir := filepath.Join(t.TempDir(), fmt.Sprint("root", i))
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	kind, detail := compareTree(t, tree, dir)
	mu.Lock()
	stats[kind]++
	if detail != "" {
		*failures = append(*failures, kind)
	}
	nfail := len(*failures)
	mu.Unlock()
	if detail == "" {
		os.RemoveAll(dir)
		return
	}
	if nfail <= 10 {
		// Kept after the test (t.TempDir would be removed) so that
		// the tree can be given to sshd and sshport by hand.
		keep, err := os.MkdirTemp("", fmt.Sprintf("sshport-differential-%d-%d-", seed, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Write(keep); err != nil {
			t.Fatal(err)
		}
		t.Errorf("seed %d tree %d (rerun: go test -run TestDifferential -diffseed %d -diffn %d): %s\ntree written to %s\n%s",
			seed, i, seed, i+1, detail, keep, tree)
	}
}

// compareTree runs sshd and sshcfg on one tree. It returns the outcome's
// kind and, for a disagreement, a description ("" when they agree).
//
// sshd stops at the end of the first file holding an unknown keyword, which
// sshcfg only warns about (vendors add keywords). While sshd names unknown
// keywords (outside Match blocks, where both refuse them), those lines are
// commented out and sshd is asked again; sshcfg's reading of that tree is
// then compared with that answer, and its warnings on the original tree
// must name every line that was commented out (or its errors, where an
// included file holding the keyword is read again inside a Match block).
func compareTree(t *testing.T, tree sshdtest.Tree, dir string) (kind, detail string) {
	want := sshdtest.Run(t, dir, sshdtest.MainConfig)
	cfg, err := loadTree(dir)
	var commented []string
	judged, judgedErr := cfg, err
	for i := 0; i < 32 && want.Refused(); i++ {
		pos := commentable(want.Err)
		if len(pos) == 0 {
			break
		}
		for _, p := range pos {
			// sshd names "/etc/ssh/./x.conf" as the Include spelled it.
			file, line, _ := strings.Cut(p, ":")
			commented = append(commented, path.Clean(file)+":"+line)
		}
		dir2 := fmt.Sprintf("%s-without-bad-options-%d", dir, i)
		if err := tree.CommentOut(commented).Write(dir2); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir2)
		want = sshdtest.Run(t, dir2, sshdtest.MainConfig)
		judged, judgedErr = loadTree(dir2)
	}
	if d := disagreement(judged, judgedErr, want); d != "" {
		k, _, _ := strings.Cut(d, ":")
		if len(commented) > 0 {
			return "disagree-badoption-" + k, fmt.Sprintf("with the unknown keywords at %q commented out: %s", commented, d)
		}
		return "disagree-" + k, d
	}
	if len(commented) > 0 {
		var warned []string
		named := append([]*sshcfg.Error(nil), cfg.Warnings...)
		var el sshcfg.ErrorList
		if errors.As(err, &el) {
			named = append(named, el...)
		}
		for _, w := range named {
			if strings.HasPrefix(w.Msg, "Bad configuration option") {
				warned = append(warned, fmt.Sprintf("%s:%d", path.Clean(w.File), w.Line))
			}
		}
		if missing := diffSets(uniq(commented), uniq(warned)); len(missing) > 0 {
			return "disagree-warnings", fmt.Sprintf("sshd's bad options at %q, sshcfg warns only at %q", commented, warned)
		}
	}
	switch {
	case len(commented) > 0:
		return "agree-badoption", ""
	case !want.Refused():
		return "agree-accept", ""
	}
	return "agree-refuse", ""
}

// commentable returns the positions of sshd's unknown-keyword errors,
// except those inside a Match block and byte-order marks, which sshcfg
// refuses as sshd does.
func commentable(stderr string) []string {
	var inMatch []string
	for _, line := range strings.Split(stderr, "\n") {
		// A byte-order mark is refused by sshcfg too: not a vendor keyword.
		if strings.Contains(line, "not allowed within a Match block") || strings.Contains(line, `\357\273\277`) {
			inMatch = append(inMatch, sshdtest.ErrLines(line)...)
		}
	}
	var out []string
	for _, p := range sshdtest.BadOptions(stderr) {
		if !slices.Contains(inMatch, p) {
			out = append(out, p)
		}
	}
	return out
}
