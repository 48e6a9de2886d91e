package checker

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdScanner lists the sockets a process holds by reading /proc/PID/fd:
// getdents64 into one reusable buffer and a readlinkat relative to the
// directory per entry, without a stat or an allocation per descriptor (a
// process may hold hundreds of thousands).
type fdScanner struct {
	dents [16 << 10]byte
	link  [64]byte // "socket:[4294967295]" fits; longer targets are not sockets
}

// errManyFDs says a process holds more descriptors than asked for.
var errManyFDs = errors.New("too many descriptors")

// sockets calls fn with the inode of each socket in the fd directory dir
// until fn returns false. The error is the one opening dir, or errManyFDs
// when maxFDs > 0 and the process holds more than maxFDs descriptors (the
// size Linux 6.2 and later give /proc/PID/fd; older kernels give 0).
func (s *fdScanner) sockets(dir string, maxFDs int64, fn func(ino uint64) bool) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if maxFDs > 0 {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Size > maxFDs {
			return errManyFDs
		}
	}
	for {
		n, err := unix.Getdents(fd, s.dents[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return nil
		}
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name (NUL-terminated).
		for b := s.dents[:n]; len(b) >= 20; {
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen < 20 || reclen > len(b) {
				return nil
			}
			name := b[19:reclen]
			b = b[reclen:]
			if name[0] == '.' || name[0] == 0 {
				continue
			}
			ino, ok, e := s.socketInode(fd, &name[0])
			if e == unix.EACCES || e == unix.EPERM {
				// The kernel checks access per process, not per
				// descriptor: none of the others can be read either.
				return nil
			}
			if ok && !fn(ino) {
				return nil
			}
		}
	}
}

// socketInode reads the link name (NUL-terminated, in s.dents) in the
// directory dirfd and parses "socket:[INODE]"; e is readlinkat's error.
func (s *fdScanner) socketInode(dirfd int, name *byte) (ino uint64, ok bool, e unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&s.link[0])), uintptr(len(s.link)), 0, 0)
	n := int(r)
	if e != 0 || n <= len("socket:[]") || n >= len(s.link) {
		return 0, false, e
	}
	l := s.link[:n]
	if string(l[:8]) != "socket:[" || l[n-1] != ']' || n-9 > 19 { // 19 digits always fit in a uint64
		return 0, false, 0
	}
	for _, c := range l[8 : n-1] {
		if c < '0' || c > '9' {
			return 0, false, 0
		}
		ino = ino*10 + uint64(c-'0')
	}
	return ino, true, 0
}
