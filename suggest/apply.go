package suggest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/sshcfg"
)

// ErrChanged is wrapped by Apply's error when a file no longer holds the
// bytes it had when the change was planned. Nothing is written then.
var ErrChanged = errors.New("file changed since it was read")

// ErrValidate is wrapped by Apply's error when ApplyOptions.Validate rejects
// the written configuration. Every file has been restored then.
var ErrValidate = errors.New("the new configuration failed validation")

// ApplyOptions controls Apply.
type ApplyOptions struct {
	// Root is the system written to (the --root image); nil means the
	// live system. Every file is reached through it: nothing outside it is
	// read or written, even while its tree changes.
	Root *rootfs.Root

	// BackupSuffix is appended to the full name of each changed file to
	// name its backup ("50-x.conf" -> "50-x.conf.sshport-20260102T150405").
	// Because it is appended after the whole name, a backup ends in ".conf"
	// only when the suffix does, so a suffix ending in ".conf" is refused,
	// as is one holding a "/" or NUL. "" means ".sshport-" +
	// Now().Format("20060102T150405"). When a backup of that name exists
	// already, "-1", "-2", ... is appended after it.
	BackupSuffix string

	// BackupDir, when set, is the directory inside Root (an absolute path
	// as sshd names paths, e.g. "/var/backups/sshport") where every backup goes, under
	// the file's own path ("/var/backups/sshport/etc/ssh/sshd_config" +
	// suffix). When "", a backup goes beside its file unless an Include
	// glob would make sshd read it there ("Include sshd_config.d/*"); then
	// it goes under FallbackDir. Directories are created mode 0700
	// from the backup directory down; its missing parents mode 0755.
	BackupDir string

	// FallbackDir is the backup directory used when BackupDir is "" and a
	// backup beside its file would be read through an Include glob (an
	// absolute path inside Root); "" means DefaultBackupDir. The client
	// command gives one in the user's ~/.ssh, which a user can write.
	FallbackDir string

	// IncludeGlobs are the Include patterns of the configuration as sshd
	// names them (relative ones are taken below /etc/ssh, as sshd does).
	// No backup is ever created where one of them matches, so that sshd
	// never reads a backup. Optional.
	IncludeGlobs []string

	// Files are every file of the configuration as sshd names them
	// (Config.Files). Apply locks their directories too and cleans up what
	// a killed run left beside them, also when they do not change now.
	// Optional.
	Files []string

	// LockTimeout bounds the wait for another run's lock; then Apply fails
	// naming the holder when it can be seen. 0 waits until ctx is done.
	LockTimeout time.Duration

	// Validate, when not nil, runs after every file is written (the CLI
	// passes SSHDValidator). When it fails, every file is restored to its
	// old bytes, the backups made by this run are removed, and Apply
	// returns an error wrapping ErrValidate and Validate's error.
	Validate func(ctx context.Context) error

	// Now gives the time for the default BackupSuffix; nil means time.Now.
	Now func() time.Time
}

// ApplyResult says what Apply wrote.
type ApplyResult struct {
	Files   []string // paths inside the root written (symlink targets, never the links), in writing order
	Backups []string // paths inside the root of the backups, one per file, same order
}

// testHook, when set by tests, is called after each step of Apply with the
// step's name and the index of the file it concerns (-1 when none), so that
// fault tests can kill the process between steps. An error it returns is
// handled as a failure of that step (ignored after "restored").
var testHook func(step string, i int) error

func hook(step string, i int) error {
	if testHook != nil {
		return testHook(step, i)
	}
	return nil
}

// target is one file to change, resolved inside the root.
type target struct {
	change FileChange
	dir    *rootfs.Dir // the directory holding the file (the symlink target's), held open
	base   string      // the file's name in dir
	name   string      // its path inside the root
	mode   fs.FileMode // permission bits to keep
	uid    int
	gid    int

	bname   string      // path inside the root the backup gets
	bdir    *rootfs.Dir // the backup's directory, once made (may be dir)
	pending string      // name in bdir of the hidden complete copy, before it is named
	backup  string      // name in bdir of the backup, once named
}

// closeDirs closes the directories t holds.
func (t *target) closeDirs() {
	if t.bdir != nil && t.bdir != t.dir {
		t.bdir.Close()
	}
	t.dir.Close()
}

// ResolveTargets returns changes with each Path replaced by the path, as
// sshd would name it, of the regular file it designates inside root once
// every symlink is followed chroot-style (rootfs.Root.Resolve): the file
// Apply writes. Diff over the result is what `patch -d ROOT -p1` and
// `git apply` can apply to a symlinked config: GNU patch refuses to patch a
// symlink, git apply refuses a path beyond one, and an absolute link in an
// image would lead patch out of it.
func ResolveTargets(root *rootfs.Root, changes []FileChange) ([]FileChange, error) {
	out := make([]FileChange, len(changes))
	for i, c := range changes {
		p, err := root.Resolve(c.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		c.Path = p
		out[i] = c
	}
	return out, nil
}

// Apply writes every change whose Old differs from New, in the given order
// (Plan.Writes: add before remove), so that a crash at any moment leaves
// each file either wholly old or wholly new, and a backup of every file that
// is new (a crash during a rollback may also leave the backup of a file
// already restored: a copy of its bytes).
//
// In order, Apply:
//   - resolves each Path inside Root chroot-style (rootfs.Root.Target),
//     following symlinks to the target, which is written in place of the
//     link's target and never replaces the link; refuses anything but a
//     regular file, and two changes naming the same target. From here on
//     every step acts on the target's directory, held open, by name within
//     it and without following symlinks (openat, fstatat, linkat, renameat,
//     unlinkat, flock and fsync on the directory descriptor);
//   - chooses each backup's name: FILE+BackupSuffix beside the file, or
//     under BackupDir when an Include glob would make sshd read it there;
//   - locks: flock(2) LOCK_EX on each directory holding a target or one of
//     Files, in sorted order, waiting at most LockTimeout (then the error
//     names the holder when /proc/locks shows it). Locking the directory
//     itself leaves no lock file behind for sshd or anyone to find;
//   - cleans up what a killed run left beside those files: hidden temporary
//     files are removed, and a hidden pending backup becomes the backup it
//     was meant to be when its file was written, or is removed when it was
//     not;
//   - re-reads each file and refuses, writing nothing, when its bytes differ
//     from Old (the error wraps ErrChanged and names the file);
//   - then, one file at a time: writes a hidden complete copy of the old
//     bytes (mode, owner, fsync) where its backup goes; replaces the file
//     atomically (temporary file in the same directory, named
//     ".NAME.sshport-tmp-" + digits so no Include glob matches it, fsync,
//     rename, fsync of the directory), keeping mode, owner and group; names
//     the copy as the backup (a hard link, which fails rather than
//     overwrite, so a backup is complete or absent);
//   - runs Validate.
//
// When writing fails midway or Validate fails, the files already replaced
// are restored atomically to their old bytes, newest first (so the states
// passed through are those of the way forward), and this run's backups are
// removed; if a restore fails, the error says so and the backups are kept.
//
// A process killed midway leaves hidden files only (".NAME..."), which sshd
// never reads (glob(3) does not match a leading dot with "*") and which the
// next run cleans up. Hard links to a config are not followed (the rename
// gives the name a new inode), and extended attributes such as an SELinux
// label are not copied.
//
// A change whose Old equals New is skipped; with nothing to write Apply
// cleans up and returns an empty result.
func Apply(ctx context.Context, changes []FileChange, opts ApplyOptions) (*ApplyResult, error) {
	res := &ApplyResult{Files: []string{}, Backups: []string{}}
	root := opts.Root
	if root == nil {
		live, err := rootfs.Live()
		if err != nil {
			return nil, err
		}
		defer live.Close()
		root = live
	}
	suffix, err := backupSuffix(opts)
	if err != nil {
		return nil, err
	}
	if opts.BackupDir != "" && !path.IsAbs(opts.BackupDir) {
		return nil, fmt.Errorf("backup directory %q: not an absolute path", opts.BackupDir)
	}
	if opts.FallbackDir != "" && !path.IsAbs(opts.FallbackDir) {
		return nil, fmt.Errorf("backup directory %q: not an absolute path", opts.FallbackDir)
	}

	var targets []*target
	var others []*rootfs.Dir // directories of unchanged files, held open
	defer func() {
		for _, t := range targets {
			t.closeDirs()
		}
		for _, d := range others {
			d.Close()
		}
	}()
	seen := map[string]string{}
	for _, c := range changes {
		if !c.Changed() {
			continue
		}
		dir, base, err := root.Target(c.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		t := &target{change: c, dir: dir, base: base, name: dir.Path(base)}
		targets = append(targets, t)
		if prev, ok := seen[t.name]; ok {
			return nil, fmt.Errorf("%s and %s are the same file %s", prev, c.Path, t.name)
		}
		seen[t.name] = c.Path
		if _, err := statRegular(t); err != nil {
			return nil, err
		}
	}
	for _, t := range targets {
		if t.bname, err = backupPath(root, t.name, suffix, opts); err != nil {
			return nil, fmt.Errorf("%s: %w", t.change.Path, err)
		}
	}

	// Every file of the configuration, for the clean-up of a killed run.
	type file struct {
		dir  *rootfs.Dir
		base string
	}
	var files []file
	for _, t := range targets {
		files = append(files, file{t.dir, t.base})
	}
	for _, f := range opts.Files {
		// seen holds resolved names: each file is resolved first.
		d, base, err := root.Target(f)
		if err != nil {
			continue // not there: nothing to clean
		}
		if _, ok := seen[d.Path(base)]; ok {
			d.Close()
			continue
		}
		seen[d.Path(base)] = f
		others = append(others, d)
		files = append(files, file{d, base})
	}
	if len(files) == 0 {
		return res, nil
	}

	// One lock per directory, in name order.
	var dirs []*rootfs.Dir
	for _, f := range files {
		dirs = append(dirs, f.dir)
	}
	slices.SortFunc(dirs, func(a, b *rootfs.Dir) int { return strings.Compare(a.Name(), b.Name()) })
	dirs = slices.CompactFunc(dirs, func(a, b *rootfs.Dir) bool { return a.Name() == b.Name() })
	lctx := ctx
	if opts.LockTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, opts.LockTimeout)
		defer cancel()
	}
	unlock, err := lockDirs(lctx, dirs)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := hook("locked", -1); err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.dir.Verify() == nil {
			cleanStale(root, f.dir, f.base, opts)
		}
	}
	if len(targets) == 0 {
		return res, nil
	}

	// Under the lock: the files must still be what the plan was made from,
	// in the directories their names designate.
	for _, t := range targets {
		if err := t.dir.Verify(); err != nil {
			return nil, fmt.Errorf("%s: %w; nothing was written", t.change.Path, err)
		}
		fi, err := statRegular(t)
		if err != nil {
			return nil, err
		}
		t.mode = fi.Mode().Perm()
		t.uid, t.gid = fileOwner(fi)
		same, err := t.dir.Holds(t.base, t.change.Old)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.change.Path, err)
		}
		if !same {
			return nil, fmt.Errorf("%s: %w; nothing was written", t.change.Path, ErrChanged)
		}
	}
	if err := hook("verified", -1); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// One file at a time: copy, replace, name the copy.
	for i, t := range targets {
		if err := makePending(root, t, backupDirOf(opts)); err != nil {
			err = fmt.Errorf("%s: backup: %w", t.change.Path, err)
			return nil, rollback(targets, i, err)
		}
		if err := hook("backup", i); err != nil {
			return nil, rollback(targets, i, err)
		}
		err := writeAtomic(t.dir, t.base, t.change.New, t.mode, t.uid, t.gid, func() error { return hook("temp", i) })
		if err != nil {
			err = fmt.Errorf("%s: %w", t.change.Path, err)
			return nil, rollback(targets, i, err)
		}
		if err := hook("renamed", i); err != nil {
			return nil, rollback(targets, i+1, err)
		}
		if err := namePending(root, t, opts.IncludeGlobs); err != nil {
			err = fmt.Errorf("%s: backup: %w", t.change.Path, err)
			return nil, rollback(targets, i+1, err)
		}
		if err := hook("named", i); err != nil {
			return nil, rollback(targets, i+1, err)
		}
	}
	if err := hook("written", -1); err != nil {
		return nil, rollback(targets, len(targets), err)
	}

	if opts.Validate != nil {
		if verr := opts.Validate(ctx); verr != nil {
			return nil, rollback(targets, len(targets), fmt.Errorf("%w: %w", ErrValidate, verr))
		}
	}
	for _, t := range targets {
		res.Files = append(res.Files, t.name)
		res.Backups = append(res.Backups, t.bdir.Path(t.backup))
	}
	return res, nil
}

// rollback restores the first n targets, which were replaced, to their old
// bytes, newest first; when all are restored it removes every backup of this
// run (copies of unchanged files). It returns cause extended with what
// happened ("nothing was written" when n is 0).
func rollback(targets []*target, n int, cause error) error {
	var failed []string
	for i := n - 1; i >= 0; i-- {
		t := targets[i]
		if err := writeAtomic(t.dir, t.base, t.change.Old, t.mode, t.uid, t.gid, nil); err != nil {
			kept := "its old bytes are in no backup"
			switch {
			case t.backup != "":
				kept = "its backup is " + t.bdir.Path(t.backup)
			case t.pending != "":
				kept = "its old bytes are in " + t.bdir.Path(t.pending)
			}
			failed = append(failed, fmt.Sprintf("%s (%v; %s)", t.change.Path, err, kept))
			continue
		}
		_ = hook("restored", i)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w; RESTORE FAILED for %s", cause, strings.Join(failed, ", "))
	}
	// Every file is back as it was; the backups are copies of it.
	removeBackups(targets)
	if n == 0 {
		return fmt.Errorf("%w; nothing was written", cause)
	}
	return fmt.Errorf("%w; every file was restored", cause)
}

// removeBackups deletes the backups and pending copies this run made (each
// a copy of a file that is unchanged).
func removeBackups(targets []*target) {
	for _, t := range targets {
		for _, p := range []*string{&t.pending, &t.backup} {
			if *p != "" {
				t.bdir.Remove(*p)
				t.bdir.Sync()
				*p = ""
			}
		}
	}
}

func statRegular(t *target) (fs.FileInfo, error) {
	name := t.change.Path
	fi, err := t.dir.Lstat(t.base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s), refusing to write it", name, fi.Mode().Type())
	}
	return fi, nil
}

func backupSuffix(opts ApplyOptions) (string, error) {
	s := opts.BackupSuffix
	if s == "" {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		return ".sshport-" + now().Format("20060102T150405"), nil
	}
	if strings.ContainsAny(s, "/\x00") {
		return "", fmt.Errorf("backup suffix %q: must not contain a slash or NUL", s)
	}
	if strings.HasSuffix(s, ".conf") {
		return "", fmt.Errorf("backup suffix %q ends in .conf: an Include of *.conf would make sshd read the backup", s)
	}
	return s, nil
}

// checkBackupName refuses a backup name (a path inside root) that an
// Include glob matches: by its text, or once the directories the glob
// names are followed through their symlinks inside root
// (sshcfg.IncludeMayRead: "Include /etc/ssh/sshd_config.d/*" reads
// /etc/ssh/real.d/x.bak when sshd_config.d links to real.d).
func checkBackupName(root *rootfs.Root, name string, globs []string) error {
	for _, g := range globs {
		abs := g
		if !path.IsAbs(abs) {
			abs = path.Join("/etc/ssh", abs)
		}
		// path.Match lets "*" match a leading dot where glob(3) does not:
		// erring on the side of refusing.
		ok, _ := path.Match(abs, name)
		if !ok && root != nil {
			ok = sshcfg.IncludeMayRead(root, g, path.Dir(name), path.Base(name))
		}
		if ok {
			return fmt.Errorf("backup %s would be read by sshd through Include %s; choose another backup suffix", name, g)
		}
	}
	return nil
}

// makePending writes a complete copy of the target's old bytes, mode and
// owner as a hidden file in the directory of its backup (made inside the
// root when missing: mode 0700 from the backup directory bdir down, 0755
// for its missing parents such as /var/backups, as a system makes them),
// fsynced, and links it to its pending name
// "." + NAME + pendingMark + digits + "-" + backup suffix. Until namePending gives
// it the backup's name, it is what the next run finds if this one is killed.
func makePending(root *rootfs.Root, t *target, bdir string) error {
	bdirName, bbase := path.Split(t.bname)
	bdirName = path.Clean(bdirName)
	if t.bdir == nil {
		if bdirName == t.dir.Name() {
			t.bdir = t.dir
		} else {
			if parent := path.Dir(path.Clean("/" + bdir)); parent != "/" {
				p, err := root.MkdirAll(parent, 0o755)
				if err != nil {
					return err
				}
				p.Close()
			}
			d, err := root.MkdirAll(bdirName, 0o700)
			if err != nil {
				return err
			}
			t.bdir = d
		}
	}
	suffix := strings.TrimPrefix(bbase, t.base)
	// Written under a temporary name first, so that a pending name always
	// holds a complete copy.
	prefix := "." + t.base + tmpMark
	tmp, tmpName, err := t.bdir.CreateTemp(prefix)
	if err != nil {
		return err
	}
	defer t.bdir.Remove(tmpName)
	err = fillFile(tmp, t.change.Old, t.mode, t.uid, t.gid)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	pending := "." + t.base + pendingMark + strings.TrimPrefix(tmpName, prefix) + "-" + suffix
	if err := t.bdir.Link(tmpName, pending); err != nil {
		return err
	}
	t.pending = pending
	return t.bdir.Sync()
}

// namePending links the target's pending copy to its backup name (or the
// name with "-1", "-2", ... when that exists) and removes the pending name.
func namePending(root *rootfs.Root, t *target, globs []string) error {
	name, err := linkUnique(root, t.bdir, t.pending, path.Base(t.bname), globs)
	if err != nil {
		return err
	}
	t.backup = name
	t.bdir.Remove(t.pending)
	t.pending = ""
	return t.bdir.Sync()
}

// linkUnique hard-links src to name in d, or to name-1, name-2, ... when
// name exists, and returns the name used. It never overwrites a file, and
// refuses a name an Include glob matches (checkBackupName: d may have been
// made since the name was chosen).
func linkUnique(root *rootfs.Root, d *rootfs.Dir, src, name string, globs []string) (string, error) {
	for n := 0; n < 100; n++ {
		dst := name
		if n > 0 {
			dst += fmt.Sprintf("-%d", n)
		}
		if err := checkBackupName(root, d.Path(dst), globs); err != nil {
			return "", err
		}
		err := d.Link(src, dst)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return dst, nil
	}
	return "", fmt.Errorf("too many backups named %s-N", d.Path(name))
}

// fillFile writes data to f, gives it mode and owner, and fsyncs it.
func fillFile(f *os.File, data []byte, mode fs.FileMode, uid, gid int) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := chownFile(f, uid, gid); err != nil {
		return err
	}
	// After chown, which may clear set-id bits.
	if err := f.Chmod(mode); err != nil {
		return err
	}
	return f.Sync()
}

// SSHDValidator returns a Validate function that runs `sshd -t -f config
// extraArgs...` (sshd is a path or a name looked up in $PATH). Its error
// holds sshd's own message and exit status (255 for a bad configuration).
func SSHDValidator(sshd, config string, extraArgs ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		args := append([]string{"-t", "-f", config}, extraArgs...)
		cmd := exec.CommandContext(ctx, sshd, args...)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		err := cmd.Run()
		if err == nil {
			return nil
		}
		msg := strings.TrimSpace(out.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return fmt.Errorf("%s -t -f %s: %s (%v)", sshd, config, msg, ee)
		}
		if msg != "" {
			return fmt.Errorf("%s -t -f %s: %w: %s", sshd, config, err, msg)
		}
		return fmt.Errorf("%s -t -f %s: %w", sshd, config, err)
	}
}
