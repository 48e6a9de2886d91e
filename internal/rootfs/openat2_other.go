//go:build unix && !linux

package rootfs

import "golang.org/x/sys/unix"

// oPath: no O_PATH outside Linux; directories are opened for reading.
const oPath = unix.O_RDONLY

func openat2(int, string, int) (int, error) { return -1, unix.ENOSYS }

func probeOpenat2(int) bool { return false }

func onProcfs(int) bool { return false }
