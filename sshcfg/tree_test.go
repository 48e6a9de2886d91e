package sshcfg

import (
	"os"
	"path/filepath"
	"testing"
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
