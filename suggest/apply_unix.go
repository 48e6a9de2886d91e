//go:build unix

package suggest

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/sshport/sshport/internal/rootfs"
	"golang.org/x/sys/unix"
)

// lockDirs takes flock(2) LOCK_EX on each directory (sorted, so two runs
// cannot deadlock), retrying until ctx is done. The returned func releases
// every lock.
func lockDirs(ctx context.Context, dirs []*rootfs.Dir) (func(), error) {
	var held []*rootfs.Dir
	unlock := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
	for _, d := range dirs {
		if err := d.Lock(ctx); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("lock %s: another sshport run holds it%s: %w", d.Name(), lockHolder(d.File()), ctx.Err())
			}
			unlock()
			return nil, err
		}
		held = append(held, d)
	}
	return unlock, nil
}

// sameFile reports whether two FileInfos (from a rootfs.Dir) are the same
// file: the same device and inode.
func sameFile(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*unix.Stat_t)
	sb, ok2 := b.Sys().(*unix.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// fileOwner returns the uid and gid of fi (-1 when unknown).
func fileOwner(fi fs.FileInfo) (uid, gid int) {
	uid, gid, _ = rootfs.Owner(fi)
	return uid, gid
}

// chownFile gives f the owner uid:gid unless it has it already (fchown).
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

// writeAtomic replaces the file base in dir with data, mode and owner: a
// temporary file in the same directory (".NAME.sshport-tmp-" + digits) is
// filled, fsynced and renamed over it, then the directory is fsynced; every
// step is relative to dir and follows no symlink. afterTemp, when not nil,
// runs once the temporary file is complete and before the rename.
func writeAtomic(dir *rootfs.Dir, base string, data []byte, mode fs.FileMode, uid, gid int, afterTemp func() error) error {
	f, tmp, err := dir.CreateTemp("." + base + ".sshport-tmp-")
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			dir.Remove(tmp)
		}
	}()
	err = fillFile(f, data, mode, uid, gid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if afterTemp != nil {
		if err := afterTemp(); err != nil {
			return err
		}
	}
	if err := dir.Rename(tmp, base); err != nil {
		return err
	}
	renamed = true
	return dir.Sync()
}
