package suggest

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/sshport/sshport/internal/rootfs"
)

// DefaultBackupDir is where backups go, inside the root, when sshd would
// read them beside their file (see ApplyOptions.BackupDir).
const DefaultBackupDir = "/var/backups/sshport"

// pendingMark names a hidden complete copy of a file's old bytes made by
// Apply before it replaces the file: "." + NAME + pendingMark + digits +
// "-" + backup suffix, in the directory of the backup. The "-" ends the
// digits, so that a suffix starting with a digit ("2024") is kept whole.
const pendingMark = ".sshport-pending-"

// tmpMark names a temporary file of Apply: "." + NAME + tmpMark + digits.
const tmpMark = ".sshport-tmp-"

// backupDirOf returns the backup directory in effect.
func backupDirOf(opts ApplyOptions) string {
	if opts.BackupDir != "" {
		return opts.BackupDir
	}
	if opts.FallbackDir != "" {
		return opts.FallbackDir
	}
	return DefaultBackupDir
}

// backupPath returns where, inside the root, the backup of the file name
// (a path inside the root) goes: beside it, or, with opts.BackupDir or when
// an Include glob would read it there, under the backup directory. Its
// directory may not exist yet (makePending creates it inside the root).
func backupPath(root *rootfs.Root, name, suffix string, opts ApplyOptions) (string, error) {
	beside := name + suffix
	if opts.BackupDir == "" && checkBackupName(root, beside, opts.IncludeGlobs) == nil {
		return beside, nil
	}
	in := path.Join(backupDirOf(opts), name) + suffix
	if err := checkBackupName(root, in, opts.IncludeGlobs); err != nil {
		return "", fmt.Errorf("%w (and in the backup directory %s too)", err, backupDirOf(opts))
	}
	return in, nil
}

// cleanStale removes what a killed run left for the configuration file base
// in dir: old releases' renameio temporary files (".NAME" + digits) beside
// it and sshport's unfinished copies (".NAME.sshport-tmp-*") beside it or in
// the backup directory; and it settles each pending copy (".NAME" +
// pendingMark + digits + "-" + suffix, beside the file or in the backup
// directory): when the file no longer holds the copy's bytes the killed run
// replaced it, so the copy becomes the backup NAME+suffix it was meant to
// be; otherwise it is removed. Every step acts on directories held open
// inside root. Errors are ignored: what cannot be cleaned now stays hidden.
func cleanStale(root *rootfs.Root, dir *rootfs.Dir, base string, opts ApplyOptions) {
	dirs := []*rootfs.Dir{dir}
	if bd, err := root.OpenDir(path.Join(backupDirOf(opts), dir.Name())); err == nil {
		defer bd.Close()
		if bd.Name() != dir.Name() {
			dirs = append(dirs, bd)
		}
	}
	// The current contents, read when a pending copy needs them.
	var cur []byte
	var curErr error
	curRead := false
	for k, d := range dirs {
		ents, err := d.ReadDir()
		if err != nil {
			continue
		}
		changed := false
		for _, e := range ents {
			n := e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(n, "."+base) {
				continue
			}
			rest := n[len(base)+1:]
			switch {
			case k == 0 && rest != "" && strings.Trim(rest, "0123456789") == "":
				d.Remove(n)
				changed = true
			case strings.HasPrefix(rest, tmpMark):
				d.Remove(n)
				changed = true
			case strings.HasPrefix(rest, pendingMark):
				tail := rest[len(pendingMark):]
				digits, suffix, ok := strings.Cut(tail, "-")
				if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || suffix == "" {
					continue
				}
				if !curRead {
					cur, curErr = dir.ReadFile(base)
					curRead = true
				}
				if curErr != nil {
					continue
				}
				old, err := d.ReadFile(n)
				if err != nil {
					continue
				}
				if !bytes.Equal(old, cur) && !named(d, n, base+suffix) {
					if _, err := linkUnique(root, d, n, base+suffix, opts.IncludeGlobs); err != nil {
						continue
					}
				}
				d.Remove(n)
				changed = true
			}
		}
		if changed {
			d.Sync()
		}
	}
}

// named reports whether the pending copy p in d already has its backup name
// (name, or name-1, name-2, ... as linkUnique gives): the killed run linked
// it and died before removing the pending name. The backup is a hard link
// to the same file.
func named(d *rootfs.Dir, p, name string) bool {
	fi, err := d.Lstat(p)
	if err != nil {
		return false
	}
	for n := 0; n < 100; n++ {
		cand := name
		if n > 0 {
			cand += fmt.Sprintf("-%d", n)
		}
		ci, err := d.Lstat(cand)
		if err != nil {
			return false
		}
		if sameFile(fi, ci) {
			return true
		}
	}
	return false
}
