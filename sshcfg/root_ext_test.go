package sshcfg_test

import (
	"testing"

	"github.com/sshport/sshport/internal/rootfs"
)

// openRoot opens dir as an image ("/": the live system) for the test.
func openRoot(t testing.TB, dir string) *rootfs.Root {
	t.Helper()
	open := rootfs.Open
	if dir == "/" {
		open = func(string) (*rootfs.Root, error) { return rootfs.Live() }
	}
	r, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
