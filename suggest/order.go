package suggest

import (
	"fmt"
	"io/fs"
	"slices"

	"github.com/sshport/sshport/sshcfg"
)

// maxOrdered bounds the files writeOrder searches an order for (2^n loads
// of the configuration at most).
const maxOrdered = 12

// writeOrder returns changes in an order in which Apply may write them one
// file at a time so that every state a crash can leave (the first k files
// new, the rest old) makes sshd listen on a superset of prev or of want:
// add before remove. Among the safe orders it prefers the given one (files
// in reading order), moving a file forward only when it must. It fails when
// no such order exists.
func writeOrder(cfg *sshcfg.Config, fsys fs.FS, changes []sshcfg.Change, prev, want []int) ([]sshcfg.Change, error) {
	n := len(changes)
	if n <= 1 {
		return changes, nil
	}
	if n > maxOrdered {
		return nil, fmt.Errorf("%d files change: too many to find a write order in which sshd keeps listening", n)
	}
	ok := func(set uint) bool {
		var sub []sshcfg.Change
		for i, c := range changes {
			if set&(1<<i) != 0 {
				sub = append(sub, c)
			}
		}
		state, err := cfg.Reload(sshcfg.Overlay(fsys, sub))
		if err != nil {
			return false
		}
		got := ListenPorts(state)
		return superset(got, prev) || superset(got, want)
	}
	// Depth-first over subsets, memoised: dead[set] when no safe order
	// completes from set.
	full := uint(1)<<n - 1
	dead := map[uint]bool{}
	var path []int
	var walk func(set uint) bool
	walk = func(set uint) bool {
		if set == full {
			return true
		}
		if dead[set] {
			return false
		}
		for i := range n {
			if set&(1<<i) != 0 {
				continue
			}
			next := set | 1<<i
			if next != full && !ok(next) {
				continue
			}
			path = append(path, i)
			if walk(next) {
				return true
			}
			path = path[:len(path)-1]
		}
		dead[set] = true
		return false
	}
	if !walk(0) {
		return nil, fmt.Errorf("no order of writing the %d files keeps sshd listening on the old ports or the new ones at every step: not writing them", n)
	}
	out := make([]sshcfg.Change, n)
	for k, i := range path {
		out[k] = changes[i]
	}
	return out, nil
}

// superset reports whether every port of sub is in set.
func superset(set, sub []int) bool {
	for _, p := range sub {
		if !slices.Contains(set, p) {
			return false
		}
	}
	return true
}
