// Package rootfs is "the system being looked at": the live system (Live) or
// an image directory standing for "/" (Open), as sshd inside it would see
// its files. Every package of sshport takes a *Root; nothing else carries the
// root directory.
//
// A Root holds a file descriptor of its directory, and every access goes
// through it: a name ("/etc/ssh/sshd_config", "etc/ssh/sshd_config", or
// anything sshd might spell, "..", "." and "//" included) is resolved
// chroot-style below that descriptor, with absolute symlinks restarting at
// the root and ".." never climbing above it, and the final component is then
// acted on relative to the descriptor of its directory (openat, fstatat,
// readlinkat, renameat, linkat, unlinkat, flock and fsync on the directory,
// fchown and fchmod on the file) without following a symlink. A concurrent
// writer swapping a directory of the image for a symlink to an outside
// directory therefore cannot make sshport read or write outside: the worst
// it can do is make a lookup fail.
//
// # Resolution
//
// On Linux 5.6 and later the directory of a name is opened with openat2(2)
// and RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS: the kernel resolves the path as
// if the root were "/", and refuses procfs magic links. openat2 reports
// EAGAIN when a rename raced with a ".." step; the lookup is retried a few
// times and then refused with that error. Names of resolved directories
// (for diffs, backups and messages) are the kernel's, read back from
// /proc/self/fd. The final component is never left to the kernel to
// follow: when it is a symlink, its text is read and resolved inside the
// root again (one on procfs is refused: a magic link's text is not where
// it leads).
//
// Where openat2 is missing (ENOSYS on kernels before 5.6, EPERM from an old
// seccomp profile, every other Unix) or /proc is not mounted, the directory
// is found by a portable walk: one component at a time, each opened with
// O_NOFOLLOW relative to the descriptor of the previous one; a symlink is
// read with readlinkat and its text resolved by the walk itself (absolute:
// from the root; ".." pops to the descriptor already held, so it never
// leaves the root whatever is renamed meanwhile); a component that changes
// type between two system calls is looked at again a few times and then the
// lookup is refused. Symlinks on procfs are refused there (the walk cannot
// tell magic links from plain ones). Both ways give the same answers; tests
// run every resolver table through both (UseOpenat2).
//
// # Why not a library
//
// Compared while writing this package:
//
//   - os.Root (Go 1.24+) anchors at a directory descriptor and walks with
//     O_NOFOLLOW too, but refuses every symlink that leaves its directory,
//     absolute ones included, instead of resolving it against the root. An
//     image whose sshd_config.d entry is "/usr/share/...", a common layout,
//     would be unreadable: it does not give chroot semantics. It does not use
//     openat2 either.
//   - github.com/cyphar/filepath-securejoin's pathrs-lite (used by runc)
//     gives chroot semantics with openat2 and a hardened fallback, but it
//     hands back O_PATH handles of whole paths and turns them into readable
//     or writable files by reopening them through /proc/self/fd; its
//     fallback also needs procfs to check for races; it is Linux only; and it
//     offers nothing for what a safe write needs next to the resolved file
//     (the directory handle to create the temporary file in, link the
//     backup, rename, fsync and flock). sshport would still have written the
//     directory-relative layer itself, and taken a new dependency (with its
//     own dependencies) and a procfs requirement for it.
//   - golang.org/x/sys/unix (already a dependency) has Openat2 and every *at
//     call. The only logic on top is splitting off the final component,
//     following a final symlink (its text is resolved again inside the
//     root), and the portable walk, about two hundred lines tested by the
//     same tables in both modes and by a racing swapper.
//
// So rootfs uses x/sys/unix directly.
//
// On systems that are not Unix, a Root reads through os.Root (symlinks
// leaving the root are refused) and cannot write.
package rootfs
