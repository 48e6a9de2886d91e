//go:build unix

package suggest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"
)

// lockDirs takes flock(2) LOCK_EX on each directory (sorted, so two runs
// cannot deadlock), retrying until ctx is done. The returned func releases
// every lock.
func lockDirs(ctx context.Context, dirs []string) (func(), error) {
	var held []*os.File
	unlock := func() {
		for i := len(held) - 1; i >= 0; i-- {
			unix.Flock(int(held[i].Fd()), unix.LOCK_UN)
			held[i].Close()
		}
	}
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			unlock()
			return nil, fmt.Errorf("lock %s: %w", d, err)
		}
		held = append(held, f)
		wait := time.Millisecond
		for {
			err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			if err == nil {
				break
			}
			if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
				unlock()
				return nil, fmt.Errorf("lock %s: %w", d, err)
			}
			select {
			case <-ctx.Done():
				who := lockHolder(f)
				unlock()
				return nil, fmt.Errorf("lock %s: another sshport run holds it%s: %w", d, who, ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, 50*time.Millisecond)
		}
	}
	return unlock, nil
}

// fileOwner returns the uid and gid of fi (-1 when unknown).
func fileOwner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// chownFile gives f the owner uid:gid unless it has it already.
func chownFile(f *os.File, uid, gid int) error {
	if uid < 0 && gid < 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if u, g := fileOwner(fi); u == uid && g == gid {
		return nil
	}
	return f.Chown(uid, gid)
}

// syncDir fsyncs a directory so that a rename or link in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// writeAtomic replaces the file at host with data, mode and owner through a
// renameio pending file in the same directory. afterTemp, when not nil, runs
// once the temporary file is complete and before the rename.
func writeAtomic(host string, data []byte, mode fs.FileMode, uid, gid int, afterTemp func() error) error {
	dir := filepath.Dir(host)
	pf, err := renameio.NewPendingFile(host, renameio.WithTempDir(dir), renameio.WithStaticPermissions(mode))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	if err := fillFile(pf.File, data, mode, uid, gid); err != nil {
		return err
	}
	if afterTemp != nil {
		if err := afterTemp(); err != nil {
			return err
		}
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return err
	}
	return syncDir(dir)
}
