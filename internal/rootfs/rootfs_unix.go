//go:build unix

package rootfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// noOpenat2 makes every Root opened afterwards use the portable walk.
var noOpenat2 atomic.Bool

// UseOpenat2 sets whether Roots opened from now on may use openat2 (the
// default) or must use the portable walk, and returns the previous setting.
// Tests use it to run the same cases through both resolvers.
func UseOpenat2(on bool) (prev bool) {
	return !noOpenat2.Swap(!on)
}

// sys is the Unix part of a Root.
type sys struct {
	fd      int  // O_PATH (Linux) descriptor of the root directory
	openat2 bool // resolve with openat2; else the portable walk
}

// sysDir is the Unix part of a Dir.
type sysDir struct {
	f    *os.File // O_RDONLY|O_DIRECTORY
	root *Root
}

// Live returns the live system: a Root at "/".
func Live() (*Root, error) { return open("/", false) }

// Open returns the image rooted at the host directory dir.
func Open(dir string) (*Root, error) { return open(dir, true) }

func open(dir string, image bool) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(abs, oPath|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("%s: not a directory", abs)
		}
		return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	r := &Root{dir: abs, image: image, sys: sys{fd: fd}}
	r.openat2 = !noOpenat2.Load() && probeOpenat2(fd)
	return r, nil
}

// Close releases the root's descriptor.
func (r *Root) Close() error {
	if r == nil || r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// Openat2 reports whether r resolves names with openat2 (else with the
// portable walk).
func (r *Root) Openat2() bool { return r.openat2 }

// dirRef is a directory reached by a lookup: its descriptor and, once
// asked for, its path inside the root.
type dirRef struct {
	r    *Root
	fd   int
	name string // "" until known
}

// Name returns the directory's path inside the root.
func (d *dirRef) Name() (string, error) {
	if d.name == "" {
		n, err := d.r.nameOf(d.fd)
		if err != nil {
			return "", err
		}
		d.name = n
	}
	return d.name, nil
}

// openDir opens the directory name designates, following every symlink
// inside the root.
func (r *Root) openDir(name string) (*dirRef, error) {
	if r.fd < 0 {
		return nil, os.ErrClosed
	}
	if r.openat2 {
		fd, err := r.openat2Dir(name)
		if err != nil {
			return nil, err
		}
		return &dirRef{r: r, fd: fd}, nil
	}
	fd, canon, err := r.walkDir(name)
	if err != nil {
		return nil, err
	}
	return &dirRef{r: r, fd: fd, name: canon}, nil
}

// errChanging is returned when a lookup kept racing with changes to the
// tree; it wraps EAGAIN.
var errChanging = fmt.Errorf("the tree kept changing while it was looked up: %w", unix.EAGAIN)

// errIsLink is returned by an at callback that found a symlink where it
// wanted something else and did not act on it.
var errIsLink = errors.New("is a symlink")

// at resolves the directory of name and calls fn with it and the final
// component, which fn must act on without following a symlink. When fn
// reports errIsLink and follow is set, the link is read and its target
// resolved in turn; without follow, the link is an error (ELOOP, as
// O_NOFOLLOW has it).
func (r *Root) at(name string, follow bool, fn func(d *dirRef, base string) error) error {
	if strings.IndexByte(name, 0) >= 0 {
		return unix.EINVAL
	}
	links, retries := 0, 0
	for {
		dir, base := splitName(name)
		d, err := r.openDir(dir)
		if err != nil {
			return err
		}
		err = fn(d, base)
		if err != errIsLink {
			unix.Close(d.fd)
			return err
		}
		if !follow || base == "." {
			unix.Close(d.fd)
			return unix.ELOOP
		}
		target, err := r.readLink(d.fd, base)
		unix.Close(d.fd)
		switch {
		case errors.Is(err, unix.EINVAL) && retries < maxRetries:
			retries++ // no longer a symlink: it changed meanwhile
			continue
		case err != nil:
			return err
		}
		if links++; links > maxLinks {
			return unix.ELOOP
		}
		name = joinLink(dir, target)
	}
}

// readLink reads the symlink base in dirfd, refusing procfs magic links.
func (r *Root) readLink(dirfd int, base string) (string, error) {
	if onProcfs(dirfd) {
		return "", unix.ELOOP
	}
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirfd, base, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			if n == 0 {
				return "", unix.ENOENT
			}
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// openat2Dir opens the directory name designates with openat2
// RESOLVE_IN_ROOT, retrying when a rename raced with the lookup.
func (r *Root) openat2Dir(name string) (int, error) {
	if name == "" {
		name = "."
	}
	for i := 0; ; i++ {
		fd, err := openat2(r.fd, name, oPath|unix.O_DIRECTORY|unix.O_CLOEXEC)
		if (err == unix.EAGAIN || err == unix.EINTR) && i < maxRetries {
			continue
		}
		if err == unix.EAGAIN {
			return fd, errChanging
		}
		return fd, err
	}
}

// walkDir is the portable resolver: it opens the directory name designates
// one component at a time with O_NOFOLLOW, resolving symlinks itself inside
// the root. It returns the descriptor and the directory's path in the root.
func (r *Root) walkDir(name string) (int, string, error) {
	type ent struct {
		fd   int
		name string
	}
	stack := []ent{{r.fd, ""}}
	defer func() {
		for _, e := range stack[1:] {
			unix.Close(e.fd)
		}
	}()
	pending := strings.Split(name, "/")
	links, retries := 0, 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(stack[len(stack)-1].fd)
				stack = stack[:len(stack)-1]
			}
			continue
		}
		top := stack[len(stack)-1]
		fd, err := unix.Openat(top.fd, c, oPath|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			stack = append(stack, ent{fd, top.name + "/" + c})
			continue
		}
		var st unix.Stat_t
		if serr := unix.Fstatat(top.fd, c, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil {
			return -1, "", serr
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, lerr := r.readLink(top.fd, c)
			if errors.Is(lerr, unix.EINVAL) && retries < maxRetries {
				retries++
				pending = append([]string{c}, pending...)
				continue
			}
			if lerr != nil {
				return -1, "", lerr
			}
			if links++; links > maxLinks {
				return -1, "", unix.ELOOP
			}
			if strings.HasPrefix(target, "/") {
				for _, e := range stack[1:] {
					unix.Close(e.fd)
				}
				stack = stack[:1]
			}
			pending = append(strings.Split(target, "/"), pending...)
		case unix.S_IFDIR:
			if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.EMLINK) {
				return -1, "", err // EACCES and the like
			}
			// A directory now, not when opened: the tree is changing.
			if retries++; retries > maxRetries {
				return -1, "", errChanging
			}
			pending = append([]string{c}, pending...)
		default:
			if errors.Is(err, unix.EACCES) {
				return -1, "", err
			}
			return -1, "", unix.ENOTDIR
		}
	}
	top := stack[len(stack)-1]
	fd := top.fd
	if len(stack) == 1 {
		var err error
		if fd, err = unix.FcntlInt(uintptr(r.fd), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			return -1, "", err
		}
	} else {
		stack = stack[:len(stack)-1] // the caller owns top.fd now
	}
	if top.name == "" {
		return fd, "/", nil
	}
	return fd, top.name, nil
}

// nameOf returns the path inside the root of the directory open at fd, as
// the kernel names it. It fails when the directory is not below the root
// (moved out since it was opened).
func (r *Root) nameOf(fd int) (string, error) {
	rootPath, err := fdPath(r.fd)
	if err != nil {
		return "", err
	}
	p, err := fdPath(fd)
	if err != nil {
		return "", err
	}
	switch {
	case p == rootPath:
		return "/", nil
	case rootPath == "/" && strings.HasPrefix(p, "/"):
		return p, nil
	case strings.HasPrefix(p, rootPath+"/"):
		return p[len(rootPath):], nil
	}
	return "", fmt.Errorf("directory moved out of %s while in use: %w", r.dir, unix.EXDEV)
}

func fdPath(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// stat returns the lstat of base in dirfd as an fs.FileInfo named name.
func statAt(dirfd int, base, name string) (*fileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, err
	}
	return toInfo(&st, name), nil
}

func toInfo(st *unix.Stat_t, name string) *fileInfo {
	m := fs.FileMode(st.Mode & 0o777)
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if uint32(st.Mode)&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if uint32(st.Mode)&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if uint32(st.Mode)&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	sec, nsec := st.Mtim.Unix()
	return &fileInfo{name: name, size: st.Size, mode: m, mtime: time.Unix(sec, nsec), sys: st}
}

// Owner returns the owner and group of a FileInfo from a Root, a Dir or the
// os package.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	switch st := fi.Sys().(type) {
	case *unix.Stat_t:
		return int(st.Uid), int(st.Gid), true
	case *syscall.Stat_t:
		return int(st.Uid), int(st.Gid), true
	}
	return -1, -1, false
}

// Stat implements fs.StatFS, following symlinks inside the root.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	var fi *fileInfo
	err := r.at(name, true, func(d *dirRef, base string) error {
		var err error
		fi, err = statAt(d.fd, base, baseName(name))
		if err == nil && fi.mode&fs.ModeSymlink != 0 {
			return errIsLink
		}
		return err
	})
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return fi, nil
}

// Lstat implements fs.ReadLinkFS: symlinks before the final component are
// followed inside the root, the final one is not.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	var fi *fileInfo
	err := r.at(name, false, func(d *dirRef, base string) error {
		var err error
		fi, err = statAt(d.fd, base, baseName(name))
		return err
	})
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return fi, nil
}

// ReadLink implements fs.ReadLinkFS.
func (r *Root) ReadLink(name string) (string, error) {
	var target string
	err := r.at(name, false, func(d *dirRef, base string) error {
		if base == "." {
			return unix.EINVAL
		}
		var err error
		target, err = r.readLink(d.fd, base)
		return err
	})
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	return target, nil
}

// openFile opens name (following symlinks inside the root) with flags, in
// non-blocking mode so that a FIFO cannot hang the open; the descriptor is
// made blocking again before it is returned.
func (r *Root) openFile(name string, flags int) (*os.File, error) {
	var f *os.File
	err := r.at(name, true, func(d *dirRef, base string) error {
		fd, err := openNoFollow(d.fd, base, flags|unix.O_NONBLOCK)
		if err != nil {
			return err
		}
		if err := unix.SetNonblock(fd, false); err != nil {
			unix.Close(fd)
			return err
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

// openNoFollow opens base in dirfd without following a symlink; a symlink
// is reported as errIsLink.
func openNoFollow(dirfd int, base string, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err == nil {
		return fd, nil
	}
	var st unix.Stat_t
	if serr := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return -1, errIsLink
	}
	return -1, err
}

// Open implements fs.FS.
func (r *Root) Open(name string) (fs.File, error) {
	f, err := r.openFile(name, unix.O_RDONLY)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return f, nil
}

// ReadFile implements fs.ReadFileFS. Anything but a regular file is refused
// with ErrNotRegular (a directory with EISDIR).
func (r *Root) ReadFile(name string) ([]byte, error) {
	f, err := r.openFile(name, unix.O_RDONLY)
	if err != nil {
		return nil, pathErr("read", name, err)
	}
	defer f.Close()
	b, err := readRegular(f)
	if err != nil {
		return nil, pathErr("read", name, err)
	}
	return b, nil
}

func readRegular(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, unix.EISDIR
	case !fi.Mode().IsRegular():
		return nil, ErrNotRegular
	}
	// Sized from the stat, as os.ReadFile does: io.ReadAll's growing
	// buffer would leave a large file's worth of garbage or more.
	n := 512
	if size := fi.Size(); size > 0 && size < 1<<40 {
		n = int(size) + 1 // one more, to meet EOF without growing
	}
	b := make([]byte, 0, n)
	for {
		m, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the file grew: more room
		}
	}
}

// ReadDir implements fs.ReadDirFS: the entries sorted by name, each with its
// lstat information.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	err := r.at(name, true, func(d *dirRef, base string) error {
		fd, err := openNoFollow(d.fd, base, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		names, err := f.Readdirnames(-1)
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, n := range names {
			fi, err := statAt(fd, n, n)
			if errors.Is(err, unix.ENOENT) {
				continue // removed meanwhile
			}
			if err != nil {
				return err
			}
			out = append(out, dirEntry{fi})
		}
		return nil
	})
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	return out, nil
}

// Target resolves name inside the root, following every symlink including
// the final one, to the file a write must replace: it returns that file's
// directory, held open, and its name in it. The file need not exist. A name
// designating a directory is refused.
func (r *Root) Target(name string) (*Dir, string, error) {
	var dir *Dir
	var b string
	err := r.at(name, true, func(d *dirRef, base string) error {
		if base == "." {
			return unix.EISDIR
		}
		fi, err := statAt(d.fd, base, base)
		switch {
		case err == nil && fi.mode&fs.ModeSymlink != 0:
			return errIsLink
		case err != nil && !errors.Is(err, unix.ENOENT):
			return err
		}
		dn, err := d.Name()
		if err != nil {
			return err
		}
		fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		dir = &Dir{name: dn, sysDir: sysDir{f: os.NewFile(uintptr(fd), dn), root: r}}
		b = base
		return nil
	})
	if err != nil {
		return nil, "", pathErr("open", name, err)
	}
	return dir, b, nil
}

// OpenDir opens the directory name designates, following every symlink
// inside the root, and holds it open.
func (r *Root) OpenDir(name string) (*Dir, error) {
	var dir *Dir
	err := r.at(name, true, func(d *dirRef, base string) error {
		fd, err := openNoFollow(d.fd, base, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		dn, err := (&dirRef{r: r, fd: fd, name: joinName(d.name, base)}).Name()
		if err != nil {
			unix.Close(fd)
			return err
		}
		dir = &Dir{name: dn, sysDir: sysDir{f: os.NewFile(uintptr(fd), dn), root: r}}
		return nil
	})
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return dir, nil
}

// joinName is the walk's name of entry base of the directory named dir ("" when
// dir's name is not known yet).
func joinName(dir, base string) string {
	switch {
	case dir == "":
		return ""
	case base == ".":
		return dir
	case dir == "/":
		return "/" + base
	}
	return dir + "/" + base
}

// MkdirAll makes the directory name (cleaned as text first) and any missing
// parent inside the root, each with perm, and returns it held open.
// Existing components may be symlinks; they are followed inside the root.
func (r *Root) MkdirAll(name string, perm fs.FileMode) (*Dir, error) {
	comps := strings.Split(strings.TrimPrefix(path.Clean("/"+name), "/"), "/")
	d, err := r.OpenDir("/")
	if err != nil {
		return nil, err
	}
	for i, c := range comps {
		if c == "" {
			continue
		}
		next, err := r.OpenDir("/" + strings.Join(comps[:i+1], "/"))
		if errors.Is(err, fs.ErrNotExist) {
			if merr := d.Mkdir(c, perm); merr != nil && !errors.Is(merr, fs.ErrExist) {
				d.Close()
				return nil, merr
			}
			next, err = r.OpenDir("/" + strings.Join(comps[:i+1], "/"))
		}
		d.Close()
		if err != nil {
			return nil, err
		}
		d = next
	}
	return d, nil
}

// Resolve returns the path inside the root ("/etc/ssh/real_config") of the
// file name designates once every symlink is followed inside the root; the
// file need not exist.
func (r *Root) Resolve(name string) (string, error) {
	d, base, err := r.Target(name)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return d.Path(base), nil
}

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// ErrMoved is returned by Dir.Verify.
var ErrMoved = errors.New("directory moved or replaced while in use")

// Verify reports ErrMoved when the directory is no longer the one its name
// designates inside the root (it was renamed, possibly out of the root, or
// replaced since it was opened). Writes through d go to the directory held
// open whatever its name; Verify lets a caller refuse to start them when
// the tree is changing under it.
func (d *Dir) Verify() error {
	ref, err := d.root.openDir(d.name)
	if err != nil {
		return fmt.Errorf("%s: %w (%w)", d.name, ErrMoved, err)
	}
	defer unix.Close(ref.fd)
	var a, b unix.Stat_t
	if err := unix.Fstat(ref.fd, &a); err != nil {
		return err
	}
	if err := unix.Fstat(d.fd(), &b); err != nil {
		return err
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		return fmt.Errorf("%s: %w", d.name, ErrMoved)
	}
	return nil
}

func (d *Dir) fd() int { return int(d.f.Fd()) }

func (d *Dir) check(op, base string) error {
	if !validBase(base) {
		return &fs.PathError{Op: op, Path: d.Path(base), Err: unix.EINVAL}
	}
	return nil
}

// File returns the directory's open file (for fstat and the like); it stays
// owned by d.
func (d *Dir) File() *os.File { return d.f }

// Mkdir makes the directory base in d (mkdirat).
func (d *Dir) Mkdir(base string, perm fs.FileMode) error {
	if err := d.check("mkdir", base); err != nil {
		return err
	}
	if err := unix.Mkdirat(d.fd(), base, uint32(perm.Perm())); err != nil {
		return &fs.PathError{Op: "mkdir", Path: d.Path(base), Err: err}
	}
	return nil
}

// ReadDir returns the entries of d sorted by name, with their lstat
// information.
func (d *Dir) ReadDir() ([]fs.DirEntry, error) {
	fd, err := unix.Openat(d.fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
	}
	slices.Sort(names)
	var out []fs.DirEntry
	for _, n := range names {
		fi, err := statAt(fd, n, n)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
		}
		out = append(out, dirEntry{fi})
	}
	return out, nil
}

// LinkTo makes toName in the directory to a new hard link to the entry from
// of d (linkat without following a symlink); it fails when toName exists.
func (d *Dir) LinkTo(from string, to *Dir, toName string) error {
	if err := d.check("link", from); err != nil {
		return err
	}
	if err := to.check("link", toName); err != nil {
		return err
	}
	if err := unix.Linkat(d.fd(), from, to.fd(), toName, 0); err != nil {
		return &os.LinkError{Op: "link", Old: d.Path(from), New: to.Path(toName), Err: err}
	}
	return nil
}

// Lstat returns the information of the entry base, not following a symlink.
func (d *Dir) Lstat(base string) (fs.FileInfo, error) {
	if err := d.check("lstat", base); err != nil {
		return nil, err
	}
	fi, err := statAt(d.fd(), base, base)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: d.Path(base), Err: err}
	}
	return fi, nil
}

// OpenFile opens the entry base with flag (O_NOFOLLOW is always added: a
// symlink is an error) and perm for a created file.
func (d *Dir) OpenFile(base string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := d.check("open", base); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd(), base, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.Path(base), Err: err}
	}
	return os.NewFile(uintptr(fd), d.Path(base)), nil
}

// ReadFile reads the regular file base (not following a symlink).
func (d *Dir) ReadFile(base string) ([]byte, error) {
	f, err := d.openRead(base)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := readRegular(f)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: d.Path(base), Err: err}
	}
	return b, nil
}

func (d *Dir) openRead(base string) (*os.File, error) {
	if err := d.check("read", base); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd(), base, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err == nil {
		err = unix.SetNonblock(fd, false)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: d.Path(base), Err: err}
	}
	return os.NewFile(uintptr(fd), d.Path(base)), nil
}

// Holds reports whether the regular file base (not following a symlink)
// holds exactly want, reading it piece by piece rather than whole.
func (d *Dir) Holds(base string, want []byte) (bool, error) {
	f, err := d.openRead(base)
	if err != nil {
		return false, err
	}
	defer f.Close()
	same, err := holds(f, want)
	if err != nil {
		return false, &fs.PathError{Op: "read", Path: d.Path(base), Err: err}
	}
	return same, nil
}

func holds(f *os.File, want []byte) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	switch {
	case fi.IsDir():
		return false, unix.EISDIR
	case !fi.Mode().IsRegular():
		return false, ErrNotRegular
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > len(want) || !bytes.Equal(buf[:n], want[:n]) {
			return false, nil
		}
		want = want[n:]
		if err == io.EOF {
			return len(want) == 0, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// CreateTemp creates a new file named prefix followed by random digits,
// mode 0600, and returns it with its name.
func (d *Dir) CreateTemp(prefix string) (*os.File, string, error) {
	for i := 0; ; i++ {
		base := prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		f, err := d.OpenFile(base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
		if err == nil {
			return f, base, nil
		}
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return nil, "", err
		}
	}
}

// Rename renames the entry from to to, both in d (renameat).
func (d *Dir) Rename(from, to string) error {
	if err := d.check("rename", from); err != nil {
		return err
	}
	if err := d.check("rename", to); err != nil {
		return err
	}
	if err := unix.Renameat(d.fd(), from, d.fd(), to); err != nil {
		return &os.LinkError{Op: "rename", Old: d.Path(from), New: d.Path(to), Err: err}
	}
	return nil
}

// Link makes to a new hard link to the entry from, both in d (linkat
// without following a symlink); it fails when to exists.
func (d *Dir) Link(from, to string) error {
	if err := d.check("link", from); err != nil {
		return err
	}
	if err := d.check("link", to); err != nil {
		return err
	}
	if err := unix.Linkat(d.fd(), from, d.fd(), to, 0); err != nil {
		return &os.LinkError{Op: "link", Old: d.Path(from), New: d.Path(to), Err: err}
	}
	return nil
}

// Remove removes the entry base, which must not be a directory (unlinkat).
func (d *Dir) Remove(base string) error {
	if err := d.check("remove", base); err != nil {
		return err
	}
	if err := unix.Unlinkat(d.fd(), base, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.Path(base), Err: err}
	}
	return nil
}

// Sync fsyncs the directory, so that a rename or link in it is durable.
func (d *Dir) Sync() error {
	if err := d.f.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// Lock takes flock(2) LOCK_EX on the directory, retrying until ctx is done.
// Locking the directory itself leaves no lock file behind.
func (d *Dir) Lock(ctx context.Context) error {
	wait := time.Millisecond
	for {
		err := unix.Flock(d.fd(), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock %s: %w", d.name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock %s: another sshport run holds it: %w", d.name, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Unlock releases Lock.
func (d *Dir) Unlock() error { return unix.Flock(d.fd(), unix.LOCK_UN) }
