package rootfs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// maxLinks bounds symlink resolution the way the kernel does (ELOOP after 40).
const maxLinks = 40

// maxRetries bounds how often one lookup step is repeated when the tree
// changes under it (openat2's EAGAIN, a component changing type) before the
// lookup is refused.
const maxRetries = 16

// ErrNotRegular is returned by ReadFile for anything but a regular file (a
// FIFO would block, a device might never end).
var ErrNotRegular = errors.New("not a regular file")

// Root is the system being looked at: a directory that stands for "/".
// The zero value is not usable; get one from Live or Open. A Root is safe for
// concurrent use. See the package documentation for how names resolve.
//
// Root implements fs.FS, fs.StatFS, fs.ReadFileFS, fs.ReadDirFS and
// fs.ReadLinkFS. Unlike the fs.FS convention, a name may be absolute and may
// hold "..", "." and empty elements: names are taken as sshd would take them
// inside the root, and resolved as the kernel does ("cfg/../x" where cfg is a
// regular file is ENOTDIR).
type Root struct {
	dir   string // absolute host directory, for messages only
	image bool   // opened with Open (--root), even when dir is "/"
	sys          // platform part: the directory descriptor
}

// Dir returns the host directory standing for "/". It is for messages and
// for handing to other programs; sshport itself never opens a path under it.
func (r *Root) Dir() string { return r.dir }

// Image reports whether r is an image (Open) rather than the live system.
func (r *Root) Image() bool { return r != nil && r.image }

// HostPath returns the host path of name for messages (never opened).
func (r *Root) HostPath(name string) string {
	return filepath.Join(r.dir, filepath.FromSlash(name))
}

// String returns the host directory.
func (r *Root) String() string { return r.dir }

// Dir is a directory inside a Root, held open. Its methods act on entries of
// the directory named by a single component, never following a symlink, so
// nothing done through a Dir leaves it. Get one from Root.Target.
type Dir struct {
	name string // path inside the root, "/etc/ssh"
	sysDir
}

// Name returns the directory's path inside the root ("/etc/ssh"), as the
// kernel named it when it was opened.
func (d *Dir) Name() string { return d.name }

// Path returns the path inside the root of the entry base.
func (d *Dir) Path(base string) string {
	if d.name == "/" {
		return "/" + base
	}
	return d.name + "/" + base
}

// splitName splits name into the part naming its directory and its final
// component. A name ending in "/", "." or ".." designates a directory:
// dir is then the whole name and base is ".".
func splitName(name string) (dir, base string) {
	if name == "" || strings.HasSuffix(name, "/") {
		return name, "."
	}
	i := strings.LastIndexByte(name, '/')
	base = name[i+1:]
	if base == "." || base == ".." {
		return name, "."
	}
	if i < 0 {
		return "", base
	}
	if i == 0 {
		return "/", base
	}
	return name[:i], base
}

// joinLink returns the name to resolve next when the entry of dir (as split
// off by splitName) is a symlink to target: an absolute target restarts at
// the root, a relative one is taken from the link's directory. dir is kept
// as written, so the kernel's walk (or ours) resolves ".." in it from where
// the link really is.
func joinLink(dir, target string) string {
	if strings.HasPrefix(target, "/") || dir == "" {
		return target
	}
	return dir + "/" + target
}

// validBase reports whether base names one entry of a directory.
func validBase(base string) bool {
	return base != "" && base != "." && base != ".." && !strings.ContainsAny(base, "/\x00")
}

// fileInfo is an fs.FileInfo from a stat of an entry.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	sys   any
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.sys }

// dirEntry is an fs.DirEntry with its (lstat) info read already.
type dirEntry struct{ fi fs.FileInfo }

func (e dirEntry) Name() string               { return e.fi.Name() }
func (e dirEntry) IsDir() bool                { return e.fi.IsDir() }
func (e dirEntry) Type() fs.FileMode          { return e.fi.Mode().Type() }
func (e dirEntry) Info() (fs.FileInfo, error) { return e.fi, nil }
func (e dirEntry) String() string             { return fs.FormatDirEntry(e) }

// baseName is the name an fs.FileInfo reports for name.
func baseName(name string) string {
	t := strings.TrimRight(name, "/")
	if t == "" {
		if name == "" {
			return "."
		}
		return "/"
	}
	return t[strings.LastIndexByte(t, '/')+1:]
}

func pathErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}
