package sshcfg

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// maxLinks is the kernel's limit on symlinks followed in one path walk
// (ELOOP after 40).
const maxLinks = 40

// walkPath resolves name, a path as sshd hands it to open(2) or lstat(2)
// ("/etc/ssh/sshd_config.d/../x.conf"), through fsys the way the kernel
// walks a path in a chroot at fsys's root, and returns the fs.FS name of
// what it designates, free of symlinks, "." and "..":
//
//   - ".." is taken from the directory reached so far, after the symlinks
//     before it are followed (link/.. is the parent of the link's target),
//     and stays at the root;
//   - a component followed by anything ("file/..", "file/.", "file/") must
//     be a directory: ENOTDIR otherwise;
//   - an absolute symlink starts again at fsys's root, a relative one at
//     the link's directory; more than 40 links is ELOOP;
//   - a trailing slash asks for a directory and follows a final symlink;
//     otherwise followLast says whether a final symlink is followed
//     (open, stat, opendir) or not (lstat).
//
// fsys should implement fs.ReadLinkFS; without it symlinks are invisible
// (fs.Lstat is fs.Stat) and ".." after one is taken from its target's
// name, not its target. A relative name is taken from the root.
func walkPath(fsys fs.FS, name string, followLast bool) (string, error) {
	pending := splitComponents(name)
	var done []string
	links := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		last := len(pending) == 0
		switch c {
		case ".":
			// done is a directory: every component appended to it
			// was one, or was the last.
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		p := path.Join(append(done[:len(done):len(done)], c)...)
		fi, err := fs.Lstat(fsys, p)
		if err != nil {
			return "", &fs.PathError{Op: "lstat", Path: name, Err: underlying(err)}
		}
		if fi.Mode()&fs.ModeSymlink != 0 && (!last || followLast) {
			links++
			if links > maxLinks {
				return "", &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
			}
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return "", &fs.PathError{Op: "readlink", Path: name, Err: underlying(err)}
			}
			if strings.HasPrefix(target, "/") {
				done = done[:0]
			}
			pending = append(splitComponents(target), pending...)
			continue
		}
		if !last && !fi.IsDir() {
			return "", &fs.PathError{Op: "open", Path: name, Err: syscall.ENOTDIR}
		}
		done = append(done, c)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// splitComponents splits a path into its components; a trailing slash
// becomes a final "." (which needs a directory and follows a symlink).
func splitComponents(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		out = append(out, ".")
	}
	return out
}

func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ordinaryMiss reports whether a lookup failed the way it fails for every
// user, root included: no such file, not a directory, a symlink loop, a
// name too long. sshd's glob(3) skips those silently, and so does sshport.
// Any other error (permission denied, I/O error) may be this user's alone:
// sshd, running as root, may read what sshport cannot.
func ordinaryMiss(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENAMETOOLONG)
}
