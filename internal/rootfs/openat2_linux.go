package rootfs

import "golang.org/x/sys/unix"

const oPath = unix.O_PATH

// openat2 opens name below the root dirfd as the kernel would if dirfd were
// "/": RESOLVE_IN_ROOT keeps absolute symlinks and ".." inside it, and
// RESOLVE_NO_MAGICLINKS refuses procfs links such as /proc/self/root.
func openat2(dirfd int, name string, flags int) (int, error) {
	return unix.Openat2(dirfd, name, &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// probeOpenat2 reports whether openat2 works here (Linux 5.6+, allowed by
// any seccomp filter) and /proc/self/fd can name descriptors.
func probeOpenat2(rootfd int) bool {
	fd, err := openat2(rootfd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	_, err = fdPath(fd)
	return err == nil
}

// onProcfs reports whether dirfd is a directory of a procfs mount, where
// symlinks may be magic links.
func onProcfs(dirfd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(dirfd, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}
