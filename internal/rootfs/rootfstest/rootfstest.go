// Package rootfstest opens rootfs roots for tests, closed when the test
// ends.
package rootfstest

import (
	"testing"

	"github.com/sshport/sshport/internal/rootfs"
)

// Open opens dir as an image.
func Open(t testing.TB, dir string) *rootfs.Root {
	t.Helper()
	r, err := rootfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Live opens the live system.
func Live(t testing.TB) *rootfs.Root {
	t.Helper()
	r, err := rootfs.Live()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
