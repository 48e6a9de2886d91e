package sshcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxSymlinks bounds symlink resolution the way the kernel does (ELOOP after 40).
const maxSymlinks = 40

// ErrSymlinkLoop is returned when resolving a path follows too many symlinks.
var ErrSymlinkLoop = errors.New("too many levels of symbolic links")

// Root is a directory tree that stands for "/" as sshd would see it, like a
// chroot: absolute symlinks inside the tree resolve against Root, and ".."
// never climbs above it, so nothing read through a Root escapes the tree.
// Root("/") is the live system.
//
// Root implements fs.FS, fs.ReadDirFS and fs.ReadFileFS with names as sshd
// writes them ("/etc/ssh/sshd_config") or in fs.FS form ("etc/ssh/sshd_config").
type Root string

// Resolve returns the host path of name (an absolute path as sshd names it)
// with every symlink followed inside the root, so that a write to the result
// replaces the link's target and never the link. The final component need not
// exist; every symlink before it must resolve inside the root.
func (r Root) Resolve(name string) (string, error) {
	rel, err := r.resolve(name, true)
	if err != nil {
		return "", err
	}
	return filepath.Join(string(r), filepath.FromSlash(rel)), nil
}

// resolve returns the slash path below the root ("etc/ssh/x") that name
// designates after following symlinks chroot-style.
func (r Root) resolve(name string, followLast bool) (string, error) {
	pending := splitPath(name)
	var done []string
	links := 0
	for len(pending) > 0 {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(append([]string{}, done...), comp)...)
		if len(pending) == 0 && !followLast {
			done = append(done, comp)
			break
		}
		fi, err := os.Lstat(filepath.Join(string(r), filepath.FromSlash(cur)))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && len(pending) == 0 {
				done = append(done, comp)
				break
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, comp)
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: "open", Path: name, Err: ErrSymlinkLoop}
		}
		target, err := os.Readlink(filepath.Join(string(r), filepath.FromSlash(cur)))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		pending = append(splitPath(target), pending...)
	}
	return path.Join(done...), nil
}

func splitPath(p string) []string {
	return strings.Split(filepath.ToSlash(p), "/")
}

// hostPath turns "/etc/ssh/x" or "etc/ssh/x" into a host path inside the
// root with every symlink resolved; op names the operation in its error.
func (r Root) hostPath(op, name string) (string, error) {
	if name != "." && !fs.ValidPath(strings.TrimPrefix(name, "/")) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	rel, err := r.resolve(name, true)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op, pe.Path = op, name
			return "", pe
		}
		return "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	return filepath.Join(string(r), filepath.FromSlash(rel)), nil
}

// Open implements fs.FS.
func (r Root) Open(name string) (fs.File, error) {
	p, err := r.hostPath("open", name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: unwrapPathErr(err)}
	}
	return f, nil
}

// ReadFile implements fs.ReadFileFS.
func (r Root) ReadFile(name string) ([]byte, error) {
	p, err := r.hostPath("read", name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: unwrapPathErr(err)}
	}
	return b, nil
}

// ReadDir implements fs.ReadDirFS. Entries are sorted by name.
func (r Root) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := r.hostPath("readdir", name)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: unwrapPathErr(err)}
	}
	return ents, nil
}

// Stat implements fs.StatFS (following symlinks inside the root).
func (r Root) Stat(name string) (fs.FileInfo, error) {
	p, err := r.hostPath("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: unwrapPathErr(err)}
	}
	return fi, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// String returns the root directory.
func (r Root) String() string { return fmt.Sprint(string(r)) }

// Lstat implements fs.ReadLinkFS: symlinks before the last component are
// followed inside the root, the last one is not.
func (r Root) Lstat(name string) (fs.FileInfo, error) {
	rel, err := r.resolve(name, false)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: unwrapPathErr(err)}
	}
	fi, err := os.Lstat(filepath.Join(string(r), filepath.FromSlash(rel)))
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: unwrapPathErr(err)}
	}
	return fi, nil
}

// ReadLink implements fs.ReadLinkFS.
func (r Root) ReadLink(name string) (string, error) {
	rel, err := r.resolve(name, false)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: unwrapPathErr(err)}
	}
	return os.Readlink(filepath.Join(string(r), filepath.FromSlash(rel)))
}
