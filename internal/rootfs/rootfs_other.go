//go:build !unix

package rootfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

var errUnsupported = errors.New("writing through a root is only supported on Unix systems")

// UseOpenat2 has no effect outside Unix.
func UseOpenat2(on bool) (prev bool) { return false }

type sys struct{ root *os.Root }

type sysDir struct{}

// Live returns the live system: a Root at the filesystem root.
func Live() (*Root, error) { return open(string(filepath.Separator), false) }

// Open returns the image rooted at the host directory dir.
func Open(dir string) (*Root, error) { return open(dir, true) }

func open(dir string, image bool) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	return &Root{dir: abs, image: image, sys: sys{root: r}}, nil
}

// Close releases the root.
func (r *Root) Close() error { return r.root.Close() }

// Openat2 reports false: there is no openat2 here.
func (r *Root) Openat2() bool { return false }

func clean(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}

func (r *Root) Open(name string) (fs.File, error) { return r.root.Open(clean(name)) }

func (r *Root) ReadFile(name string) ([]byte, error) { return r.root.ReadFile(clean(name)) }

func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(r.root.FS(), clean(name))
}

func (r *Root) Stat(name string) (fs.FileInfo, error) { return r.root.Stat(clean(name)) }

func (r *Root) Lstat(name string) (fs.FileInfo, error) { return r.root.Lstat(clean(name)) }

func (r *Root) ReadLink(name string) (string, error) { return r.root.Readlink(clean(name)) }

// Target is not supported outside Unix.
func (r *Root) Target(name string) (*Dir, string, error) { return nil, "", errUnsupported }

// OpenDir is not supported outside Unix.
func (r *Root) OpenDir(name string) (*Dir, error) { return nil, errUnsupported }

// MkdirAll is not supported outside Unix.
func (r *Root) MkdirAll(name string, perm fs.FileMode) (*Dir, error) { return nil, errUnsupported }

// Resolve returns name cleaned; symlinks are not followed outside Unix.
func (r *Root) Resolve(name string) (string, error) { return "/" + clean(name), nil }

// Owner is unknown outside Unix.
func Owner(fs.FileInfo) (uid, gid int, ok bool) { return -1, -1, false }

// ErrMoved is returned by Dir.Verify.
var ErrMoved = errors.New("directory moved or replaced while in use")

func (d *Dir) Close() error                                        { return nil }
func (d *Dir) File() *os.File                                      { return nil }
func (d *Dir) Mkdir(string, fs.FileMode) error                     { return errUnsupported }
func (d *Dir) ReadDir() ([]fs.DirEntry, error)                     { return nil, errUnsupported }
func (d *Dir) LinkTo(string, *Dir, string) error                   { return errUnsupported }
func (d *Dir) Verify() error                                       { return errUnsupported }
func (d *Dir) Lstat(string) (fs.FileInfo, error)                   { return nil, errUnsupported }
func (d *Dir) OpenFile(string, int, fs.FileMode) (*os.File, error) { return nil, errUnsupported }
func (d *Dir) ReadFile(string) ([]byte, error)                     { return nil, errUnsupported }
func (d *Dir) Holds(string, []byte) (bool, error)                  { return false, errUnsupported }
func (d *Dir) CreateTemp(string) (*os.File, string, error)         { return nil, "", errUnsupported }
func (d *Dir) Rename(string, string) error                         { return errUnsupported }
func (d *Dir) Link(string, string) error                           { return errUnsupported }
func (d *Dir) Remove(string) error                                 { return errUnsupported }
func (d *Dir) Sync() error                                         { return errUnsupported }
func (d *Dir) Lock(context.Context) error                          { return errUnsupported }
func (d *Dir) Unlock() error                                       { return errUnsupported }
