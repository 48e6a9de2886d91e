package suggest

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sshport/sshport/sshcfg"
)

// DefaultBackupDir is where backups go, inside the root, when sshd would
// read them beside their file (see ApplyOptions.BackupDir).
const DefaultBackupDir = "/var/backups/sshport"

// pendingMark names a hidden complete copy of a file's old bytes made by
// Apply before it replaces the file: "." + NAME + pendingMark + digits +
// backup suffix, in the directory of the backup.
const pendingMark = ".sshport-pending-"

// backupDirOf returns the backup directory in effect.
func backupDirOf(opts ApplyOptions) string {
	if opts.BackupDir != "" {
		return opts.BackupDir
	}
	return DefaultBackupDir
}

// sshdName names a host path inside root as sshd would ("/etc/ssh/x").
func sshdName(root, host string) (string, error) {
	rel, err := filepath.Rel(root, host)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside %s", host, root)
	}
	return path.Clean("/" + filepath.ToSlash(rel)), nil
}

// backupPath returns where the backup of the file at host goes: beside it,
// or, with opts.BackupDir or when an Include glob would read it there,
// under the backup directory. The result is a host path; its directory
// may not exist yet (makePending creates it inside the root).
func backupPath(root, host, suffix string, opts ApplyOptions) (string, error) {
	beside := host + suffix
	if opts.BackupDir == "" && checkBackupName(root, beside, opts.IncludeGlobs) == nil {
		return beside, nil
	}
	name, err := sshdName(root, host)
	if err != nil {
		return "", err
	}
	in := path.Join(backupDirOf(opts), name) + suffix
	h := filepath.Join(root, filepath.FromSlash(in))
	if err := checkBackupName(root, h, opts.IncludeGlobs); err != nil {
		return "", fmt.Errorf("%w (and in the backup directory %s too)", err, backupDirOf(opts))
	}
	return h, nil
}

// mkdirIn makes sure the directory at host path dir exists inside root,
// creating missing components (mode 0700) one at a time, each resolved
// chroot-style (sshcfg.Root.Resolve) so that a symlink never leads out of
// the root. It returns the resolved host path.
func mkdirIn(root, dir string) (string, error) {
	name, err := sshdName(root, dir)
	if err != nil {
		return "", err
	}
	cur := "/"
	host := root
	for _, comp := range strings.Split(strings.TrimPrefix(name, "/"), "/") {
		if comp == "" {
			continue
		}
		cur = path.Join(cur, comp)
		if host, err = sshcfg.Root(root).Resolve(cur); err != nil {
			return "", err
		}
		fi, err := os.Stat(host)
		if os.IsNotExist(err) {
			if err := os.Mkdir(host, 0o700); err != nil && !os.IsExist(err) {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s: not a directory", cur)
		}
	}
	return host, nil
}

// cleanStale removes what a killed run left for the configuration file at
// host: renameio's temporary files (".NAME" + digits) beside it and
// sshport's unfinished copies (".NAME.sshport-tmp-*") beside it or in the
// backup directory; and it
// settles each pending copy (".NAME" + pendingMark + digits + suffix,
// beside the file or in the backup directory): when the file no longer
// holds the copy's bytes the killed run replaced it, so the copy becomes
// the backup NAME+suffix it was meant to be; otherwise it is removed.
// Errors are ignored: what cannot be cleaned now stays hidden.
func cleanStale(root, host, _ string, opts ApplyOptions) {
	dir, base := filepath.Dir(host), filepath.Base(host)
	dirs := []string{dir}
	if name, err := sshdName(root, dir); err == nil {
		if h, err := sshcfg.Root(root).Resolve(path.Join(backupDirOf(opts), name)); err == nil {
			dirs = append(dirs, h)
		}
	}
	cur, curErr := os.ReadFile(host)
	for k, d := range dirs {
		ents, err := os.ReadDir(d)
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
			p := filepath.Join(d, n)
			switch {
			case k == 0 && rest != "" && strings.Trim(rest, "0123456789") == "":
				os.Remove(p)
				changed = true
			case strings.HasPrefix(rest, ".sshport-tmp-"):
				os.Remove(p)
				changed = true
			case strings.HasPrefix(rest, pendingMark):
				tail := rest[len(pendingMark):]
				suffix := strings.TrimLeft(tail, "0123456789")
				if suffix == tail || curErr != nil {
					continue
				}
				old, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				if !bytes.Equal(old, cur) && !named(p, filepath.Join(d, base+suffix)) {
					if _, err := linkUnique(root, p, filepath.Join(d, base+suffix), opts.IncludeGlobs); err != nil {
						continue
					}
				}
				os.Remove(p)
				changed = true
			}
		}
		if changed {
			syncDir(d)
		}
	}
}

// named reports whether the pending copy at p already has its backup name
// (name, or name-1, name-2, ... as linkUnique gives): the killed run linked
// it and died before removing the pending name. The backup is a hard link
// to the same file.
func named(p, name string) bool {
	fi, err := os.Stat(p)
	if err != nil {
		return false
	}
	for n := 0; n < 100; n++ {
		cand := name
		if n > 0 {
			cand += fmt.Sprintf("-%d", n)
		}
		ci, err := os.Stat(cand)
		if err != nil {
			return false
		}
		if os.SameFile(fi, ci) {
			return true
		}
	}
	return false
}
