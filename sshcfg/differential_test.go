package sshcfg_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sshport/sshport/internal/sshdtest"
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
	start := time.Now()
	for i := range n {
		tree := sshdtest.Generate(rand.New(rand.NewPCG(seed, uint64(i))))
		dir := filepath.Join(t.TempDir(), "root")
		if err := tree.Write(dir); err != nil {
			t.Fatal(err)
		}
		kind, detail := compareTree(t, tree, dir)
		stats[kind]++
		if detail == "" {
			os.RemoveAll(dir)
			continue
		}
		failures = append(failures, kind)
		if len(failures) <= 10 {
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

// compareTree runs sshd and sshcfg on one tree. It returns the outcome's
// kind and, for a disagreement, a description ("" when they agree).
func compareTree(t *testing.T, tree sshdtest.Tree, dir string) (kind, detail string) {
	want := sshdtest.Run(t, dir, sshdtest.MainConfig)
	cfg, err := loadTree(dir)
	if d := disagreement(cfg, err, want); d != "" {
		k, _, _ := strings.Cut(d, ":")
		return "disagree-" + k, d
	}
	switch {
	case !want.Refused():
		return "agree-accept", ""
	case err != nil:
		return "agree-refuse", ""
	}
	// sshd refused only for unknown keywords and sshcfg accepted with
	// matching warnings: ask sshd again without those lines.
	pos, _ := sshdtest.BadOptionsOnly(want.Err)
	again := tree.CommentOut(pos)
	dir2 := dir + "-without-bad-options"
	if err := again.Write(dir2); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir2)
	want2 := sshdtest.Run(t, dir2, sshdtest.MainConfig)
	if d := disagreement(cfg, nil, want2); d != "" {
		k, _, _ := strings.Cut(d, ":")
		return "disagree-badoption-" + k, "with the unknown keywords commented out: " + d
	}
	return "agree-badoption", ""
}
