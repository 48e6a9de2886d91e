package sshcfg

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sshport/sshport/internal/rootfs"
)

// rootTree lays out an image under a temporary directory: files (path ->
// contents, a trailing "/" makes a directory) and symlinks (path -> target).
func rootTree(t *testing.T, files, links map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	for p, target := range links {
		host := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, host); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

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

// liveRoot opens the live system for the test.
func liveRoot(t testing.TB) *rootfs.Root {
	t.Helper()
	r, err := rootfs.Live()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
