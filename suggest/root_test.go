package suggest

import (
	"testing"

	"github.com/sshport/sshport/internal/rootfs"
)

// openRoot opens dir as an image for the test.
func openRoot(t testing.TB, dir string) *rootfs.Root {
	t.Helper()
	r, err := rootfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
