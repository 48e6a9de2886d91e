//go:build !unix

package suggest

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

var errUnsupported = errors.New("applying a change is only supported on Unix systems")

func lockDirs(context.Context, []string) (func(), error) { return nil, errUnsupported }

func fileOwner(fs.FileInfo) (uid, gid int) { return -1, -1 }

func chownFile(*os.File, int, int) error { return errUnsupported }

func syncDir(string) error { return nil }

func writeAtomic(string, []byte, fs.FileMode, int, int, func() error) error { return errUnsupported }
