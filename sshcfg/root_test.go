package sshcfg

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
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

var rootFiles = map[string]string{
	"/etc/ssh/real":       "Port 2022\n",
	"/etc/ssh/d/x.conf":   "Port 1\n",
	"/opt/drop/y.conf":    "Port 2\n",
	"/etc/ssh/empty.d/":   "",
	"/etc/ssh/sub/z.conf": "Port 3\n",
}

var rootLinks = map[string]string{
	"/etc/ssh/sshd_config": "/etc/ssh/real",                  // absolute: inside the root
	"/etc/ssh/rel":         "real",                           // relative
	"/etc/ssh/up":          "../../../../../../etc/ssh/real", // ".." clamped at the root
	"/etc/ssh/esc":         "../../../../etc/passwd",         // would be the host's /etc/passwd
	"/etc/ssh/abs-esc":     "/etc/shadow",                    // would be the host's /etc/shadow
	"/etc/ssh/dirlink":     "/etc/ssh/d",
	"/etc/ssh/droplink":    "/../../opt/drop",
	"/etc/ssh/dangling":    "/nonexistent",
	"/etc/ssh/loop1":       "loop2",
	"/etc/ssh/loop2":       "/etc/ssh/loop1",
	"/etc/ssh/self":        "self",
	"/etc/ssh/chain":       "rel", // link to a link
}

func TestRootResolve(t *testing.T) {
	dir := rootTree(t, rootFiles, rootLinks)
	r := Root(dir)
	tests := []struct {
		name string
		want string // path below the root, or "" when an error is expected
		err  error  // errors.Is target
	}{
		{"/etc/ssh/real", "etc/ssh/real", nil},
		{"etc/ssh/real", "etc/ssh/real", nil},
		{"/etc/ssh/sshd_config", "etc/ssh/real", nil},
		{"etc/ssh/sshd_config", "etc/ssh/real", nil},
		{"/etc/ssh/rel", "etc/ssh/real", nil},
		{"/etc/ssh/chain", "etc/ssh/real", nil},
		{"/etc/ssh/up", "etc/ssh/real", nil},
		{"/etc/ssh/esc", "etc/passwd", nil},
		{"/etc/ssh/abs-esc", "etc/shadow", nil},
		{"/../../../etc/ssh/real", "etc/ssh/real", nil},
		{"/etc/../../etc/ssh/./real", "etc/ssh/real", nil},
		{"/etc/ssh/dirlink/x.conf", "etc/ssh/d/x.conf", nil},
		// ".." after a link climbs from the link's target, as the kernel does.
		{"/etc/ssh/dirlink/../real", "etc/ssh/real", nil},
		{"/etc/ssh/droplink/y.conf", "opt/drop/y.conf", nil},
		// The final component may be missing (a file about to be written),
		// also behind a dangling link.
		{"/etc/ssh/new.conf", "etc/ssh/new.conf", nil},
		{"/etc/ssh/dangling", "nonexistent", nil},
		{"/", "", nil},
		// Every component before the last must exist.
		{"/etc/ssh/nodir/new.conf", "", fs.ErrNotExist},
		{"/etc/ssh/loop1", "", ErrSymlinkLoop},
		{"/etc/ssh/self", "", ErrSymlinkLoop},
		{"/etc/ssh/loop1/x", "", ErrSymlinkLoop},
	}
	for _, tt := range tests {
		got, err := r.Resolve(tt.name)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Resolve(%q) = %q, %v; want error %v", tt.name, got, err, tt.err)
			}
			continue
		}
		want := filepath.Join(dir, filepath.FromSlash(tt.want))
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, got, err, want)
		}
	}
}

func TestRootFS(t *testing.T) {
	dir := rootTree(t, rootFiles, rootLinks)
	r := Root(dir)

	read := []struct {
		name string
		want string
		err  error
	}{
		{"/etc/ssh/sshd_config", "Port 2022\n", nil},
		{"etc/ssh/sshd_config", "Port 2022\n", nil},
		{"/etc/ssh/up", "Port 2022\n", nil},
		{"/etc/ssh/dirlink/x.conf", "Port 1\n", nil},
		{"/etc/ssh/droplink/y.conf", "Port 2\n", nil},
		{"/etc/ssh/esc", "", fs.ErrNotExist},
		{"/etc/ssh/abs-esc", "", fs.ErrNotExist},
		{"/etc/ssh/dangling", "", fs.ErrNotExist},
		{"/etc/ssh/loop1", "", ErrSymlinkLoop},
		{"etc/ssh/../ssh/real", "", fs.ErrInvalid}, // not an fs.FS name
	}
	for _, tt := range read {
		b, err := r.ReadFile(tt.name)
		f, oerr := r.Open(tt.name)
		if oerr == nil {
			f.Close()
		}
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !errors.Is(oerr, tt.err) {
				t.Errorf("ReadFile/Open(%q): %v, %v; want %v", tt.name, err, oerr, tt.err)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tt.name {
				t.Errorf("ReadFile(%q) error %v does not name the path as asked", tt.name, err)
			}
			continue
		}
		if err != nil || string(b) != tt.want || oerr != nil {
			t.Errorf("ReadFile/Open(%q) = %q, %v, %v; want %q", tt.name, b, err, oerr, tt.want)
		}
	}

	stat := []struct {
		name  string
		lstat bool
		mode  fs.FileMode // type bits only
		err   error
	}{
		{"/etc/ssh/sshd_config", false, 0, nil},
		{"/etc/ssh/sshd_config", true, fs.ModeSymlink, nil},
		{"/etc/ssh/dirlink", false, fs.ModeDir, nil},
		{"/etc/ssh/dirlink", true, fs.ModeSymlink, nil},
		{"/etc/ssh/dirlink/x.conf", true, 0, nil}, // links before the last are followed
		{"/etc/ssh/dangling", true, fs.ModeSymlink, nil},
		{"/etc/ssh/dangling", false, 0, fs.ErrNotExist},
		{"/etc/ssh/loop1", false, 0, ErrSymlinkLoop},
		{"/etc/ssh/loop1", true, fs.ModeSymlink, nil},
		{"/etc/ssh/missing", true, 0, fs.ErrNotExist},
	}
	for _, tt := range stat {
		stat := r.Stat
		if tt.lstat {
			stat = r.Lstat
		}
		fi, err := stat(tt.name)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Stat(%q, lstat=%v) error %v, want %v", tt.name, tt.lstat, err, tt.err)
			}
			continue
		}
		if err != nil || fi.Mode().Type() != tt.mode {
			t.Errorf("Stat(%q, lstat=%v) = %v, %v; want type %v", tt.name, tt.lstat, fi, err, tt.mode)
		}
	}

	if target, err := r.ReadLink("/etc/ssh/droplink"); err != nil || target != "/../../opt/drop" {
		t.Errorf("ReadLink = %q, %v", target, err)
	}

	dirs := []struct {
		name string
		want []string
	}{
		{"/etc/ssh/dirlink", []string{"x.conf"}},
		{"/etc/ssh/droplink", []string{"y.conf"}},
		{"/etc/ssh/empty.d", nil},
		{".", []string{"etc", "opt"}},
	}
	for _, tt := range dirs {
		ents, err := r.ReadDir(tt.name)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if err != nil || !reflect.DeepEqual(names, tt.want) {
			t.Errorf("ReadDir(%q) = %q, %v; want %q", tt.name, names, err, tt.want)
		}
	}
	if _, err := r.ReadDir("/etc/ssh/nodir"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir of a missing directory: %v", err)
	}
}
