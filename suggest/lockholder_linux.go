package suggest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockHolder names the process holding a flock(2) lock on f, as
// " (pid N, NAME)", from /proc/locks; "" when it cannot be seen (another
// PID namespace, no /proc).
func lockHolder(f *os.File) string {
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return ""
	}
	return holderIn(string(data), uint64(st.Dev), st.Ino, os.Getpid())
}

// holderIn finds, in the text of /proc/locks, a FLOCK held (not waited for)
// on device dev, inode ino, by a process other than self.
func holderIn(locks string, dev, ino uint64, self int) string {
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	for _, line := range strings.Split(locks, "\n") {
		w := strings.Fields(line)
		// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter
		// has "->" after the number.
		if len(w) < 6 || w[1] != "FLOCK" || w[5] != want {
			continue
		}
		pid, err := strconv.Atoi(w[4])
		if err != nil || pid == self {
			continue
		}
		name := "unknown"
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
			name = strings.TrimSpace(string(b))
		}
		return fmt.Sprintf(" (pid %d, %s)", pid, name)
	}
	return ""
}
