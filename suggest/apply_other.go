//go:build !unix

package suggest

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/sshport/sshport/internal/rootfs"
)

var errUnsupported = errors.New("applying a change is only supported on Unix systems")

func lockDirs(context.Context, []*rootfs.Dir) (func(), error) { return nil, errUnsupported }

func fileOwner(fs.FileInfo) (uid, gid int) { return -1, -1 }

func chownFile(*os.File, int, int) error { return errUnsupported }

func writeAtomic(*rootfs.Dir, string, []byte, fs.FileMode, int, int, func() error) error {
	return errUnsupported
}

func sameFile(fs.FileInfo, fs.FileInfo) bool { return false }
