//go:build unix

package suggest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/internal/rootfs/rootfstest"
)

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC) }

const fixedSuffix = ".sshport-20260102T150405"

const (
	mainPath   = "/etc/ssh/sshd_config"
	dropinPath = "/etc/ssh/sshd_config.d/50-cloud-init.conf"
)

// twoFiles is a drop-in and the main file, both changing.
func twoFiles() []FileChange {
	return []FileChange{
		{Path: dropinPath, Old: []byte("PasswordAuthentication no\nPort 2222\n"), New: []byte("PasswordAuthentication no\nPort 20022\n")},
		{Path: mainPath, Old: []byte(mainCfg), New: []byte(strings.Replace(mainCfg, "\nPort 22\n", "\n#Port 22\n", 1))},
	}
}

// host returns the host path of an sshd path under root.
func host(root, name string) string { return filepath.Join(root, filepath.FromSlash(name)) }

// listFiles returns every non-directory below root, as sshd paths, sorted.
func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, "/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApply(t *testing.T) {
	errHook := errors.New("injected failure")
	tests := []struct {
		name    string
		changes []FileChange
		opts    ApplyOptions
		setup   func(t *testing.T, root string) // after the Old files are laid
		hook    func(step string, i int) error
		wantErr string // substring; "" means success
		wantIs  error
		// wantNew lists the paths that must hold New afterwards; every
		// other change must hold Old.
		wantNew []string
		// wantFiles is every file under the root afterwards (sshd paths).
		wantFiles []string
	}{
		{
			name:      "one file, default suffix",
			changes:   twoFiles()[1:],
			wantNew:   []string{mainPath},
			wantFiles: []string{mainPath, mainPath + fixedSuffix},
		},
		{
			name:      "drop-in and main",
			changes:   twoFiles(),
			wantNew:   []string{dropinPath, mainPath},
			wantFiles: []string{dropinPath, dropinPath + fixedSuffix, mainPath, mainPath + fixedSuffix},
		},
		{
			name:      "custom suffix",
			changes:   twoFiles()[1:],
			opts:      ApplyOptions{BackupSuffix: ".orig"},
			wantNew:   []string{mainPath},
			wantFiles: []string{mainPath, mainPath + ".orig"},
		},
		{
			name: "unchanged file skipped",
			changes: []FileChange{
				{Path: dropinPath, Old: []byte("Port 2\n"), New: []byte("Port 2\n")},
				twoFiles()[1],
			},
			wantNew:   []string{mainPath},
			wantFiles: []string{dropinPath, mainPath, mainPath + fixedSuffix},
		},
		{
			name: "nothing changes",
			changes: []FileChange{
				{Path: mainPath, Old: []byte("Port 2\n"), New: []byte("Port 2\n")},
			},
			wantFiles: []string{mainPath},
		},
		{
			name:    "existing backup gets a counter",
			changes: twoFiles()[1:],
			setup: func(t *testing.T, root string) {
				os.WriteFile(host(root, mainPath+fixedSuffix), []byte("older backup"), 0o644)
			},
			wantNew:   []string{mainPath},
			wantFiles: []string{mainPath, mainPath + fixedSuffix, mainPath + fixedSuffix + "-1"},
		},
		{
			name:    "main changed since read",
			changes: twoFiles(),
			setup: func(t *testing.T, root string) {
				os.WriteFile(host(root, mainPath), []byte(mainCfg+"# edited meanwhile\n"), 0o644)
			},
			wantErr:   "/etc/ssh/sshd_config: file changed since it was read",
			wantIs:    ErrChanged,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:      "backup suffix ending in .conf",
			changes:   twoFiles(),
			opts:      ApplyOptions{BackupSuffix: ".bak.conf"},
			wantErr:   "ends in .conf",
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:      "backup suffix with a slash",
			changes:   twoFiles(),
			opts:      ApplyOptions{BackupSuffix: "/../x"},
			wantErr:   "must not contain a slash",
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			// "Include sshd_config.d/*" would read a backup beside the
			// drop-in: it goes to the backup directory instead.
			name:    "backup matched by an Include glob",
			changes: twoFiles(),
			opts:    ApplyOptions{IncludeGlobs: []string{"sshd_config.d/*"}},
			wantNew: []string{dropinPath, mainPath},
			wantFiles: []string{dropinPath, mainPath, mainPath + fixedSuffix,
				DefaultBackupDir + dropinPath + fixedSuffix},
		},
		{
			name:    "--backup-dir takes every backup",
			changes: twoFiles(),
			opts:    ApplyOptions{BackupDir: "/srv/bk"},
			wantNew: []string{dropinPath, mainPath},
			wantFiles: []string{dropinPath, mainPath, "/srv/bk" + mainPath + fixedSuffix,
				"/srv/bk" + dropinPath + fixedSuffix},
		},
		{
			name:      "relative backup directory",
			changes:   twoFiles(),
			opts:      ApplyOptions{BackupDir: "bk"},
			wantErr:   `backup directory "bk": not an absolute path`,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:      "backup directory matched by an Include glob too",
			changes:   twoFiles(),
			opts:      ApplyOptions{IncludeGlobs: []string{"sshd_config.d/*", "/var/backups/sshport/etc/ssh/sshd_config.d/*"}},
			wantErr:   "would be read by sshd through Include /var/backups/sshport/etc/ssh/sshd_config.d/*",
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:    "stale files of a killed run are cleaned up",
			changes: twoFiles(),
			setup: func(t *testing.T, root string) {
				// renameio's temporary file, an older sshport's backup
				// temporary, and pending copies of the main file: one
				// whose file was replaced (becomes a backup), one whose
				// file was not (removed).
				os.WriteFile(host(root, "/etc/ssh/.sshd_config1234567"), []byte("half"), 0o600)
				os.WriteFile(host(root, "/etc/ssh/sshd_config.d/.50-cloud-init.conf.sshport-tmp-99"), []byte("x"), 0o600)
				os.WriteFile(host(root, "/etc/ssh/sshd_config.d/.50-cloud-init.conf"+pendingMark+"42-.old"), []byte("Port 1\n"), 0o600)
				os.WriteFile(host(root, "/etc/ssh/.sshd_config"+pendingMark+"43-.same"), []byte(mainCfg), 0o600)
				os.WriteFile(host(root, "/etc/ssh/.keep"), []byte("not ours"), 0o600)
			},
			wantNew: []string{dropinPath, mainPath},
			wantFiles: []string{dropinPath, mainPath, mainPath + fixedSuffix, dropinPath + fixedSuffix,
				dropinPath + ".old", "/etc/ssh/.keep"},
		},
		{
			// Killed between linking the backup and removing the
			// pending name: the backup exists; no second one is made.
			name:    "a pending copy already named is removed",
			changes: []FileChange{{Path: mainPath, Old: []byte(mainCfg), New: []byte(mainCfg)}},
			setup: func(t *testing.T, root string) {
				os.WriteFile(host(root, mainPath+".old"), []byte("Port 1\n"), 0o600)
				os.Link(host(root, mainPath+".old"), host(root, "/etc/ssh/.sshd_config"+pendingMark+"7-.old"))
			},
			opts:      ApplyOptions{Files: []string{mainPath}},
			wantFiles: []string{mainPath, mainPath + ".old"},
		},
		{
			name:    "an unchanged file of the configuration is cleaned up too",
			changes: []FileChange{{Path: mainPath, Old: []byte(mainCfg), New: []byte(mainCfg)}},
			setup: func(t *testing.T, root string) {
				os.WriteFile(host(root, "/etc/ssh/.sshd_config987"), []byte("half"), 0o600)
			},
			opts:      ApplyOptions{Files: []string{mainPath}},
			wantFiles: []string{mainPath},
		},
		{
			name:    "directory instead of a file",
			changes: []FileChange{{Path: "/etc/ssh/dir", Old: []byte("a"), New: []byte("b")}},
			setup: func(t *testing.T, root string) {
				os.Remove(host(root, "/etc/ssh/dir"))
				os.Mkdir(host(root, "/etc/ssh/dir"), 0o755)
			},
			wantErr:   "not a regular file",
			wantFiles: []string{},
		},
		{
			name:    "fifo instead of a file",
			changes: []FileChange{{Path: "/etc/ssh/fifo", Old: []byte("a"), New: []byte("b")}},
			setup: func(t *testing.T, root string) {
				os.Remove(host(root, "/etc/ssh/fifo"))
				if err := syscall.Mkfifo(host(root, "/etc/ssh/fifo"), 0o644); err != nil {
					t.Skip(err)
				}
			},
			wantErr:   "not a regular file",
			wantFiles: []string{"/etc/ssh/fifo"},
		},
		{
			name:    "missing file",
			changes: twoFiles(),
			setup: func(t *testing.T, root string) {
				os.Remove(host(root, dropinPath))
			},
			wantErr:   "no such file",
			wantFiles: []string{mainPath},
		},
		{
			name: "link and target both listed",
			changes: []FileChange{
				{Path: "/etc/ssh/sshd_config", Old: []byte("Port 1\n"), New: []byte("Port 2\n")},
				{Path: "/etc/ssh/link", Old: []byte("Port 1\n"), New: []byte("Port 3\n")},
			},
			setup: func(t *testing.T, root string) {
				os.Remove(host(root, "/etc/ssh/link"))
				os.Symlink("sshd_config", host(root, "/etc/ssh/link"))
			},
			wantErr:   "are the same file",
			wantFiles: []string{"/etc/ssh/link", mainPath},
		},
		{
			name:    "second temp file fails: first restored",
			changes: twoFiles(),
			hook: func(step string, i int) error {
				if step == "temp" && i == 1 {
					return errHook
				}
				return nil
			},
			wantErr:   "injected failure; every file was restored",
			wantIs:    errHook,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:    "failure after both renames: both restored",
			changes: twoFiles(),
			hook: func(step string, i int) error {
				if step == "renamed" && i == 1 {
					return errHook
				}
				return nil
			},
			wantErr:   "every file was restored",
			wantIs:    errHook,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:    "second backup fails: first backup removed",
			changes: twoFiles(),
			hook: func(step string, i int) error {
				if step == "backup" && i == 1 {
					return errHook
				}
				return nil
			},
			wantErr:   "injected failure; every file was restored",
			wantIs:    errHook,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			// No file was replaced yet: no "restored" in the message.
			name:    "first backup fails: nothing was written",
			changes: twoFiles(),
			hook: func(step string, i int) error {
				if step == "backup" && i == 0 {
					return errHook
				}
				return nil
			},
			wantErr:   "injected failure; nothing was written",
			wantIs:    errHook,
			wantFiles: []string{dropinPath, mainPath},
		},
		{
			name:    "validator fails: both restored",
			changes: twoFiles(),
			opts: ApplyOptions{Validate: func(context.Context) error {
				return errors.New("line 3: Bad port")
			}},
			wantErr:   "the new configuration failed validation: line 3: Bad port; every file was restored",
			wantIs:    ErrValidate,
			wantFiles: []string{dropinPath, mainPath},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.changes)
			if tc.setup != nil {
				tc.setup(t, root)
			}
			testHook = tc.hook
			defer func() { testHook = nil }()
			opts := tc.opts
			opts.Root = rootfstest.Open(t, root)
			opts.Now = fixedNow
			res, err := Apply(context.Background(), tc.changes, opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Apply error = %v, want it to contain %q", err, tc.wantErr)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("Apply error %v does not wrap %v", err, tc.wantIs)
				}
				if res != nil {
					t.Errorf("Apply returned a result with an error: %+v", res)
				}
			}
			for _, c := range tc.changes {
				if fi, err := os.Lstat(host(root, c.Path)); err != nil || !fi.Mode().IsRegular() {
					continue // checked by wantFiles
				}
				b := readFile(t, host(root, c.Path))
				want := c.Old
				if slices.Contains(tc.wantNew, c.Path) {
					want = c.New
				}
				if tc.setup != nil && !bytes.Equal(b, want) && tc.wantErr != "" {
					continue // the setup changed it on purpose; wantFiles still holds
				}
				if !bytes.Equal(b, want) {
					t.Errorf("%s = %q, want %q", c.Path, b, want)
				}
			}
			want := slices.Sorted(slices.Values(tc.wantFiles))
			if got := listFiles(t, root); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("files under root = %q, want %q", got, tc.wantFiles)
			}
			if err != nil {
				return
			}
			// Each backup holds the old bytes; the result names them.
			var wantWritten []string
			for _, c := range tc.changes {
				if c.Changed() {
					wantWritten = append(wantWritten, c.Path)
				}
			}
			if !slices.Equal(res.Files, wantWritten) && !(len(res.Files) == 0 && len(wantWritten) == 0) {
				t.Errorf("result Files = %q, want %q", res.Files, wantWritten)
			}
			if len(res.Backups) != len(res.Files) {
				t.Fatalf("result Backups = %q for Files %q", res.Backups, res.Files)
			}
			for i, b := range res.Backups {
				if !strings.HasPrefix(b, res.Files[i]) && !strings.Contains(b, "/var/backups/sshport/") && !strings.Contains(b, "/srv/bk/") {
					t.Errorf("backup %s is not beside %s nor in a backup directory", b, res.Files[i])
				}
				old := readFile(t, host(root, b))
				if !bytes.Equal(old, tc.changes[len(tc.changes)-len(res.Files)+i].Old) {
					t.Errorf("backup %s = %q, want the old bytes", b, old)
				}
			}
		})
	}
}

func TestApplySymlink(t *testing.T) {
	tests := []struct {
		name, link, linkTarget, target string
		globs                          []string // ApplyOptions.IncludeGlobs
		backup                         string   // "": the target + fixedSuffix
	}{
		{name: "absolute link", link: mainPath, linkTarget: "/srv/config/sshd_config", target: "/srv/config/sshd_config"},
		{name: "relative link", link: dropinPath, linkTarget: "../../../srv/config/50.conf", target: "/srv/config/50.conf"},
		{name: "link through a linked directory", link: "/etc/ssh/conf.d/x.conf", linkTarget: "/srv/config", target: "/srv/config/x.conf"},
		// sshd reads the glob through the link: a backup beside the
		// target would be read, so it goes to the backup directory.
		{name: "Include glob through a linked directory", link: "/etc/ssh/sshd_config.d/x.conf", linkTarget: "real.d",
			target: "/etc/ssh/real.d/x.conf", globs: []string{"/etc/ssh/sshd_config.d/*"},
			backup: DefaultBackupDir + "/etc/ssh/real.d/x.conf" + fixedSuffix},
		{name: "relative Include glob through a linked directory", link: "/etc/ssh/sshd_config.d/x.conf", linkTarget: "/srv/drop",
			target: "/srv/drop/x.conf", globs: []string{"sshd_config.d/*"},
			backup: DefaultBackupDir + "/srv/drop/x.conf" + fixedSuffix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			c := FileChange{Path: tc.link, Old: []byte("Port 22\n"), New: []byte("Port 20022\n")}
			tgt := host(root, tc.target)
			os.MkdirAll(filepath.Dir(tgt), 0o755)
			if err := os.WriteFile(tgt, c.Old, 0o644); err != nil {
				t.Fatal(err)
			}
			linkHost := host(root, tc.link)
			if strings.HasSuffix(tc.name, "linked directory") {
				linkHost = filepath.Dir(linkHost) // the directory is the link
			}
			os.MkdirAll(filepath.Dir(linkHost), 0o755)
			if err := os.Symlink(tc.linkTarget, linkHost); err != nil {
				t.Fatal(err)
			}
			// The diff names the target, so that patch and git apply,
			// which refuse symlinks, apply it to a copy of the root.
			resolved, err := ResolveTargets(rootfstest.Open(t, root), []FileChange{c})
			if err != nil {
				t.Fatal(err)
			}
			if resolved[0].Path != tc.target {
				t.Errorf("ResolveTargets path = %s, want %s", resolved[0].Path, tc.target)
			}
			applyWithTools(t, Diff(resolved), resolved)

			res, err := Apply(context.Background(), []FileChange{c}, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow, IncludeGlobs: tc.globs})
			if err != nil {
				t.Fatal(err)
			}
			backup := tc.backup
			if backup == "" {
				backup = tc.target + fixedSuffix
			}
			if got, err := os.Readlink(linkHost); err != nil || got != tc.linkTarget {
				t.Errorf("link now reads %q, %v; want it kept as %q", got, err, tc.linkTarget)
			}
			if got := readFile(t, tgt); !bytes.Equal(got, c.New) {
				t.Errorf("target = %q, want %q", got, c.New)
			}
			if !slices.Equal(res.Files, []string{tc.target}) || !slices.Equal(res.Backups, []string{backup}) {
				t.Errorf("result = %+v, want the target %s and its backup %s", res, tc.target, backup)
			}
			if got := readFile(t, host(root, backup)); !bytes.Equal(got, c.Old) {
				t.Errorf("backup = %q, want %q", got, c.Old)
			}
		})
	}
}

func TestApplyKeepsOwnerAndMode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another uid")
	}
	tests := []struct {
		name     string
		mode     fs.FileMode
		uid, gid int
	}{
		{"0600 owned by 1234:1234", 0o600, 1234, 1234},
		{"0640 root:4321", 0o640, 0, 4321},
		{"0444 read-only file", 0o444, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			changes := twoFiles()[1:]
			writeTree(t, root, changes)
			p := host(root, mainPath)
			if err := os.Chown(p, tc.uid, tc.gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			res, err := Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{p, host(root, res.Backups[0])} {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if fi.Mode() != tc.mode || int(st.Uid) != tc.uid || int(st.Gid) != tc.gid {
					t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", f, fi.Mode(), st.Uid, st.Gid, tc.mode, tc.uid, tc.gid)
				}
			}
			if got := readFile(t, p); !bytes.Equal(got, changes[0].New) {
				t.Errorf("file = %q, want new bytes", got)
			}
		})
	}
}

// fakeSSHD writes a shell script standing for sshd: it records its
// arguments in ARGS beside it, prints msg on stderr and exits with status.
func fakeSSHD(t *testing.T, msg string, status int) (sshd, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	sshd = filepath.Join(dir, "sshd")
	argsFile = filepath.Join(dir, "ARGS")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %q\nprintf '%%s\\n' %q >&2\nexit %d\n", argsFile, msg, status)
	if err := os.WriteFile(sshd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return sshd, argsFile
}

func TestApplyFakeSSHDValidator(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		status  int
		wantErr []string
	}{
		{"accepts", "", 0, nil},
		{"refuses", "/etc/ssh/sshd_config line 5: Badly formatted port number.", 255,
			[]string{"failed validation", "line 5: Badly formatted port number.", "exit status 255", "every file was restored"}},
		{"refuses silently", "", 1, []string{"failed validation", "exit status 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			changes := twoFiles()
			writeTree(t, root, changes)
			sshd, argsFile := fakeSSHD(t, tc.msg, tc.status)
			cfg := host(root, mainPath)
			v := SSHDValidator(sshd, cfg, "-h", "/key")
			_, err := Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow, Validate: v})
			if got, want := string(readFile(t, argsFile)), "-t\n-f\n"+cfg+"\n-h\n/key\n"; got != want {
				t.Errorf("sshd ran with %q, want %q", got, want)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkTree(t, "Apply", root, changes)
				return
			}
			if !errors.Is(err, ErrValidate) {
				t.Fatalf("err = %v, want ErrValidate", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			for _, c := range changes {
				if got := readFile(t, host(root, c.Path)); !bytes.Equal(got, c.Old) {
					t.Errorf("%s = %q, want the old bytes back", c.Path, got)
				}
			}
			if got := listFiles(t, root); !slices.Equal(got, []string{mainPath, dropinPath}) {
				t.Errorf("files left = %q, want only the two configs", got)
			}
		})
	}
}

func TestApplyRealSSHD(t *testing.T) {
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI installs openssh-server: %v", err)
		}
		t.Skip("sshd not installed")
	}
	keygen := needTool(t, "ssh-keygen")
	if os.Geteuid() == 0 {
		// sshd -t requires its privilege separation directory.
		os.MkdirAll("/run/sshd", 0o755)
	}
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	old := "# test config\nPort 22\nPasswordAuthentication no\n"
	tests := []struct {
		name    string
		newCfg  string
		wantErr string
	}{
		{"good port", "# test config\nPort 20022\nPasswordAuthentication no\n", ""},
		{"port 0", "# test config\nPort 0\nPasswordAuthentication no\n", "Badly formatted port number"},
		{"unknown keyword", "# test config\nPort 20022\nPortt 2\n", "Bad configuration option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			changes := []FileChange{{Path: mainPath, Old: []byte(old), New: []byte(tc.newCfg)}}
			writeTree(t, root, changes)
			v := SSHDValidator(sshd, host(root, mainPath), "-h", key)
			_, err := Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow, Validate: v})
			got := readFile(t, host(root, mainPath))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tc.newCfg {
					t.Errorf("config = %q, want %q", got, tc.newCfg)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrValidate) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want a validation error with %q", err, tc.wantErr)
			}
			if string(got) != old {
				t.Errorf("config = %q, want the old bytes %q", got, old)
			}
		})
	}
}

// The fault and concurrency tests run Apply in child processes: the test
// binary re-executed with childEnv holding a childSpec.
const childEnv = "SUGGEST_APPLY_CHILD"

// Child exit statuses.
const (
	childOK      = 0
	childChanged = 3 // Apply refused: ErrChanged
	childErr     = 4 // any other Apply error (printed on stderr)
	childBad     = 5 // the child's own checks failed (printed on stderr)
)

type childSpec struct {
	Mode         string // "apply" or "fulldisk"
	Root         string
	Changes      []FileChange
	KillStep     string // SIGKILL self after this step...
	KillIndex    int    // ...of this file
	FailValidate bool
	BackupSuffix string
	IncludeGlobs []string
	WaitStdin    bool // read stdin to EOF before applying (a start barrier)
	FreePages    int  // fulldisk: pages left free after filling the tmpfs
}

func runChild(t *testing.T, spec childSpec, wrap ...string) *exec.Cmd {
	t.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	args := append(wrap, os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	return cmd
}

// TestApplyChild is not a test of its own: it is the child process of the
// fault and concurrency tests, and skips when run directly.
func TestApplyChild(t *testing.T) {
	js := os.Getenv(childEnv)
	if js == "" {
		t.Skip("helper process for the fault and concurrency tests")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(childBad)
	}
	if spec.Mode == "fulldisk" {
		fullDiskChild(spec)
	}
	if spec.WaitStdin {
		var buf [1]byte
		for {
			if _, err := os.Stdin.Read(buf[:]); err != nil {
				break
			}
		}
	}
	testHook = func(step string, i int) error {
		if step == spec.KillStep && i == spec.KillIndex {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}
	opts := ApplyOptions{Root: rootfstest.Open(t, spec.Root), Now: fixedNow, BackupSuffix: spec.BackupSuffix, IncludeGlobs: spec.IncludeGlobs}
	if spec.FailValidate {
		opts.Validate = func(context.Context) error { return errors.New("fake sshd -t failure") }
	}
	_, err := Apply(context.Background(), spec.Changes, opts)
	switch {
	case err == nil:
		os.Exit(childOK)
	case errors.Is(err, ErrChanged):
		os.Exit(childChanged)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(childErr)
	}
}

func TestApplyKilledAtEachStep(t *testing.T) {
	tests := []struct {
		step         string
		index        int
		failValidate bool
		wantNew      [2]bool // file 0 (drop-in) and file 1 (main) hold New
		wantBackup   [2]bool // a visible backup exists
		suffix       string  // --backup-suffix of the killed run ("": the default)
		// globs: "Include sshd_config.d/*", so the drop-in's pending copy
		// and backup are in the backup directory, not beside it.
		globs bool
	}{
		{"locked", -1, false, [2]bool{}, [2]bool{}, "", false},
		{"verified", -1, false, [2]bool{}, [2]bool{}, "", false},
		{"backup", 0, false, [2]bool{}, [2]bool{}, "", false},
		{"temp", 0, false, [2]bool{}, [2]bool{}, "", false},
		{"renamed", 0, false, [2]bool{true, false}, [2]bool{}, "", false},
		{"named", 0, false, [2]bool{true, false}, [2]bool{true, false}, "", false},
		{"backup", 1, false, [2]bool{true, false}, [2]bool{true, false}, "", false},
		{"temp", 1, false, [2]bool{true, false}, [2]bool{true, false}, "", false},
		{"renamed", 1, false, [2]bool{true, true}, [2]bool{true, false}, "", false},
		{"named", 1, false, [2]bool{true, true}, [2]bool{true, true}, "", false},
		{"written", -1, false, [2]bool{true, true}, [2]bool{true, true}, "", false},
		{"restored", 1, true, [2]bool{true, false}, [2]bool{true, true}, "", false},
		{"restored", 0, true, [2]bool{false, false}, [2]bool{true, true}, "", false},
		// A suffix starting with digits: the pending copy's name must
		// still tell its random digits from the suffix.
		{"renamed", 0, false, [2]bool{true, false}, [2]bool{}, "2024", false},
		{"renamed", 1, false, [2]bool{true, true}, [2]bool{true, false}, "1.orig", false},
		{"renamed", 0, false, [2]bool{true, false}, [2]bool{}, "", true},
		{"named", 0, false, [2]bool{true, false}, [2]bool{true, false}, "", true},
		{"renamed", 1, false, [2]bool{true, true}, [2]bool{true, false}, "", true},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s %d", tc.step, tc.index)
		if tc.failValidate {
			name += " during rollback"
		}
		if tc.suffix != "" {
			name += " suffix " + tc.suffix
		}
		sfx := fixedSuffix
		if tc.suffix != "" {
			sfx = tc.suffix
		}
		var globs []string
		if tc.globs {
			name += " backup directory"
			globs = []string{"sshd_config.d/*"}
		}
		// backupOf is where the backup of path with suffix goes.
		backupOf := func(path, sfx string) string {
			if tc.globs && path == dropinPath {
				return DefaultBackupDir + path + sfx
			}
			return path + sfx
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			changes := twoFiles()
			writeTree(t, root, changes)
			cmd := runChild(t, childSpec{Mode: "apply", Root: root, Changes: changes,
				KillStep: tc.step, KillIndex: tc.index, FailValidate: tc.failValidate, BackupSuffix: tc.suffix, IncludeGlobs: globs})
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at %s: %v\n%s", name, err, out)
			}
			var wantFiles []string
			for i, c := range changes {
				got, err := os.ReadFile(host(root, c.Path))
				if err != nil {
					t.Fatalf("%s after the kill: %v", c.Path, err)
				}
				isNew, isOld := bytes.Equal(got, c.New), bytes.Equal(got, c.Old)
				if !isNew && !isOld {
					t.Fatalf("%s is neither old nor new: %q", c.Path, got)
				}
				if isNew != tc.wantNew[i] {
					t.Errorf("%s new = %v, want %v", c.Path, isNew, tc.wantNew[i])
				}
				wantFiles = append(wantFiles, c.Path)
				b, err := os.ReadFile(host(root, backupOf(c.Path, sfx)))
				if (err == nil) != tc.wantBackup[i] {
					t.Errorf("backup of %s exists = %v, want %v", c.Path, err == nil, tc.wantBackup[i])
				}
				if err == nil {
					wantFiles = append(wantFiles, backupOf(c.Path, sfx))
					if !bytes.Equal(b, c.Old) {
						t.Errorf("backup of %s = %q, want the old bytes", c.Path, b)
					}
				}
			}
			// Anything else left behind is a hidden file, which no
			// Include glob of sshd matches.
			for _, f := range listFiles(t, root) {
				if !slices.Contains(wantFiles, f) && !strings.HasPrefix(filepath.Base(f), ".") {
					t.Errorf("unexpected file %s left after the kill", f)
				}
			}
			// The dead child's lock is gone: a new run completes the
			// change and cleans up: no hidden file is left, every file is
			// new with a backup of its old bytes.
			var again []FileChange
			for _, c := range changes {
				again = append(again, FileChange{Path: c.Path, Old: readFile(t, host(root, c.Path)), New: c.New})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := Apply(ctx, again, ApplyOptions{Root: rootfstest.Open(t, root), BackupSuffix: ".second", Files: []string{dropinPath, mainPath}, IncludeGlobs: globs}); err != nil {
				t.Fatalf("Apply after the kill: %v", err)
			}
			checkTree(t, "Apply after the kill", root, changes)
			for _, f := range listFiles(t, root) {
				if strings.HasPrefix(filepath.Base(f), ".") {
					t.Errorf("hidden file %s left after the next run", f)
				}
			}
			for _, c := range changes {
				n := 0
				for _, sfx := range []string{sfx, ".second"} {
					if b, err := os.ReadFile(host(root, backupOf(c.Path, sfx))); err == nil {
						n++
						if !bytes.Equal(b, c.Old) {
							t.Errorf("backup %s%s = %q, want the old bytes", c.Path, sfx, b)
						}
					}
				}
				if n == 0 {
					t.Errorf("%s is new with no backup after the next run", c.Path)
				}
			}
		})
	}
}

// concurrentChanges gives run i the same Old and its own New.
func concurrentChanges(i int) []FileChange {
	return []FileChange{{Path: mainPath, Old: []byte(mainCfg),
		New: []byte(strings.Replace(mainCfg, "\nPort 22\n", fmt.Sprintf("\nPort %d\n", 30000+i), 1))}}
}

// checkOneWinner requires that exactly one run won, that the file holds the
// winner's bytes, and that only its backup exists.
func checkOneWinner(t *testing.T, root string, won []bool) {
	t.Helper()
	winner := -1
	for i, w := range won {
		if w {
			if winner >= 0 {
				t.Fatalf("runs %d and %d both succeeded", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no run succeeded")
	}
	if got, want := readFile(t, host(root, mainPath)), concurrentChanges(winner)[0].New; !bytes.Equal(got, want) {
		t.Errorf("config = %q, want run %d's %q", got, winner, want)
	}
	if got := readFile(t, host(root, mainPath+fixedSuffix)); string(got) != mainCfg {
		t.Errorf("backup = %q, want the old config", got)
	}
	if got, want := listFiles(t, root), []string{mainPath, mainPath + fixedSuffix}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

const concurrentRuns = 20

func TestApplyConcurrentGoroutines(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, concurrentChanges(0))
	start := make(chan struct{})
	errs := make([]error, concurrentRuns)
	done := make(chan int)
	for i := range concurrentRuns {
		go func() {
			<-start
			_, errs[i] = Apply(context.Background(), concurrentChanges(i), ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow})
			done <- i
		}()
	}
	close(start)
	for range concurrentRuns {
		<-done
	}
	won := make([]bool, concurrentRuns)
	for i, err := range errs {
		switch {
		case err == nil:
			won[i] = true
		case !errors.Is(err, ErrChanged):
			t.Errorf("run %d: %v, want success or ErrChanged", i, err)
		}
	}
	checkOneWinner(t, root, won)
}

func TestApplyConcurrentProcesses(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, concurrentChanges(0))
	cmds := make([]*exec.Cmd, concurrentRuns)
	stdins := make([]interface{ Close() error }, concurrentRuns)
	outs := make([]bytes.Buffer, concurrentRuns)
	for i := range cmds {
		cmds[i] = runChild(t, childSpec{Mode: "apply", Root: root, Changes: concurrentChanges(i), WaitStdin: true})
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		w, err := cmds[i].StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdins[i] = w
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range stdins { // all children are started: let them go
		w.Close()
	}
	won := make([]bool, concurrentRuns)
	for i, cmd := range cmds {
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		switch code {
		case childOK:
			won[i] = true
		case childChanged:
		default:
			t.Errorf("run %d: %v\n%s", i, err, outs[i].String())
		}
	}
	checkOneWinner(t, root, won)
}

// inNamespace returns the command prefix that runs a child in a private
// mount namespace after the shell commands setup (with $d the directory),
// or skips the test when mount namespaces are not available.
func inNamespace(t *testing.T, setup string, dir string) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root (root bypasses permission bits, so only a read-only or full mount tests this)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare(1) not installed")
	}
	if out, err := exec.Command(unshare, "-m", "--propagation", "private", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a mount namespace here: %v %s", err, out)
	}
	return []string{unshare, "-m", "--propagation", "private", "sh", "-ec",
		`d="$1"; shift; ` + setup + `; exec "$@"`, "sh", dir}
}

func TestApplyReadOnlyDirectory(t *testing.T) {
	tests := []struct {
		name   string
		roDir  string // sshd path of the directory mounted read-only
		wantIn string
	}{
		{"main directory read-only", "/etc/ssh", "read-only file system"},
		{"drop-in writable, main read-only", "/etc/ssh/main", "read-only file system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			changes := twoFiles()
			changes[1].Path = "/etc/ssh/main/sshd_config"
			writeTree(t, root, changes)
			wrap := inNamespace(t, `mount --bind "$d" "$d"; mount -o remount,bind,ro "$d"`, host(root, tc.roDir))
			out, err := runChild(t, childSpec{Mode: "apply", Root: root, Changes: changes}, wrap...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != childErr || !strings.Contains(string(out), tc.wantIn) {
				t.Fatalf("child: %v, want Apply to fail with %q:\n%s", err, tc.wantIn, out)
			}
			for _, c := range changes {
				if got := readFile(t, host(root, c.Path)); !bytes.Equal(got, c.Old) {
					t.Errorf("%s = %q, want the old bytes", c.Path, got)
				}
			}
			if got := listFiles(t, root); !slices.Equal(got, []string{"/etc/ssh/main/sshd_config", dropinPath}) {
				t.Errorf("files left = %q, want only the configs (no backup, no temp)", got)
			}
		})
	}
}

func TestApplyFullDisk(t *testing.T) {
	tests := []struct {
		name      string
		freePages int
		wantIn    string
	}{
		{"no room for the backup", 0, "backup"},
		{"room for the backup but not the new file", 3, "no space left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wrap := inNamespace(t, `mount -t tmpfs -o size=64k sshport-test "$d"`, dir)
			out, err := runChild(t, childSpec{Mode: "fulldisk", Root: dir, FreePages: tc.freePages}, wrap...).CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.wantIn) {
				t.Errorf("child output lacks %q:\n%s", tc.wantIn, out)
			}
		})
	}
}

// fullDiskChild runs inside a fresh 64 KiB tmpfs at spec.Root: it lays a
// 3-page config, fills the file system, frees spec.FreePages pages, runs
// Apply, requires it to fail with the config intact and no backup or
// temporary file left, prints the error and exits.
func fullDiskChild(spec childSpec) {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(childBad)
	}
	page := os.Getpagesize()
	old := append(bytes.Repeat([]byte("#"), 3*page-len("\nPort 22\n")), "\nPort 22\n"...)
	c := FileChange{Path: mainPath, Old: old, New: append(bytes.Clone(old[:len(old)-len("Port 22\n")]), "Port 20022\n"...)}
	cfg := host(spec.Root, mainPath)
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile(cfg, c.Old, 0o644); err != nil {
		fail("%v", err)
	}
	var fillers []string
	for n := 0; ; n++ {
		f := filepath.Join(spec.Root, fmt.Sprintf("filler%03d", n))
		if err := os.WriteFile(f, make([]byte, page), 0o644); err != nil {
			os.Remove(f)
			break
		}
		fillers = append(fillers, f)
	}
	if len(fillers) < spec.FreePages {
		fail("only %d filler pages", len(fillers))
	}
	for _, f := range fillers[:spec.FreePages] {
		os.Remove(f)
	}
	root, err := rootfs.Open(spec.Root)
	if err != nil {
		fail("%v", err)
	}
	_, err = Apply(context.Background(), []FileChange{c}, ApplyOptions{Root: root, Now: fixedNow})
	if err == nil {
		fail("Apply succeeded on a full disk")
	}
	if got, rerr := os.ReadFile(cfg); rerr != nil || !bytes.Equal(got, c.Old) {
		fail("config damaged after %v: %v", err, rerr)
	}
	ents, _ := os.ReadDir(filepath.Dir(cfg))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		fail("left in /etc/ssh: %q after %v", names, err)
	}
	fmt.Println(err)
	os.Exit(childOK)
}

func TestApplyLockHeld(t *testing.T) {
	root := t.TempDir()
	changes := twoFiles()
	writeTree(t, root, changes)
	// Another run holds the main directory's lock.
	d, _, err := rootfstest.Open(t, root).Target(mainPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	unlock, err := lockDirs(context.Background(), []*rootfs.Dir{d})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Apply(ctx, changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow})
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "another sshport run holds it") {
		t.Fatalf("Apply with the lock held = %v, want it to give up when ctx ends", err)
	}
	if got := listFiles(t, root); !slices.Equal(got, []string{mainPath, dropinPath}) {
		t.Errorf("files = %q after a refused run", got)
	}
	checkOld := func() {
		for _, c := range changes {
			if got := readFile(t, host(root, c.Path)); !bytes.Equal(got, c.Old) {
				t.Errorf("%s changed while the lock was held", c.Path)
			}
		}
	}
	checkOld()
	unlock()
	if _, err := Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow}); err != nil {
		t.Fatalf("Apply once the lock is free: %v", err)
	}
	checkTree(t, "Apply", root, changes)
}

// TestApplyLockTimeoutNamesHolder: another process (flock(1)) holds the
// lock; Apply gives up after LockTimeout and names it, writing nothing.
func TestApplyLockTimeoutNamesHolder(t *testing.T) {
	flock := needTool(t, "flock")
	root := t.TempDir()
	changes := twoFiles()
	writeTree(t, root, changes)
	holder := exec.Command(flock, host(root, "/etc/ssh"), "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	// Wait until the lock shows.
	f, err := os.Open(host(root, "/etc/ssh"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; lockHolder(f) == "" && runtime.GOOS == "linux"; i++ {
		if i > 200 {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	_, err = Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow, LockTimeout: 300 * time.Millisecond})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply with the lock held elsewhere = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Apply waited %v", d)
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), fmt.Sprintf("(pid %d, flock)", holder.Process.Pid)) {
		t.Errorf("error %q does not name the holder pid %d (flock)", err, holder.Process.Pid)
	}
	if got := listFiles(t, root); !slices.Equal(got, []string{mainPath, dropinPath}) {
		t.Errorf("files = %q after a refused run", got)
	}
}

// TestApplyBackupDirModes: the backup directory is private (0700) from
// itself down, but the system directories Apply has to make above it in a
// bare image (/var, /var/backups) get the usual 0755: a 0700 /var would lock
// every other user and service out of it.
func TestApplyBackupDirModes(t *testing.T) {
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	tests := []struct {
		name  string
		opts  ApplyOptions
		modes map[string]fs.FileMode
	}{
		{name: "default backup directory",
			opts: ApplyOptions{IncludeGlobs: []string{"sshd_config.d/*"}},
			modes: map[string]fs.FileMode{"/var": 0o755, "/var/backups": 0o755, "/var/backups/sshport": 0o700,
				"/var/backups/sshport/etc/ssh/sshd_config.d": 0o700}},
		{name: "--backup-dir",
			opts:  ApplyOptions{BackupDir: "/srv/bk/sshport"},
			modes: map[string]fs.FileMode{"/srv": 0o755, "/srv/bk": 0o755, "/srv/bk/sshport": 0o700, "/srv/bk/sshport/etc/ssh": 0o700}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			changes := twoFiles()
			writeTree(t, root, changes)
			opts := tc.opts
			opts.Root, opts.Now = rootfstest.Open(t, root), fixedNow
			if _, err := Apply(context.Background(), changes, opts); err != nil {
				t.Fatal(err)
			}
			for d, m := range tc.modes {
				fi, err := os.Stat(host(root, d))
				if err != nil {
					t.Fatal(err)
				}
				if want := m &^ fs.FileMode(umask); fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", d, fi.Mode().Perm(), want)
				}
			}
		})
	}
}

// TestApplyFallbackDir: with FallbackDir, a backup sshd (or ssh) would read
// beside its file goes there, at the file's own path; one it would not read
// stays beside its file.
func TestApplyFallbackDir(t *testing.T) {
	root := t.TempDir()
	changes := twoFiles()
	writeTree(t, root, changes)
	res, err := Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), Now: fixedNow,
		IncludeGlobs: []string{"sshd_config.d/*"}, FallbackDir: "/home/u/.ssh/.sshport-backups"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		mainPath + fixedSuffix: true, // beside: no glob reads it
		"/home/u/.ssh/.sshport-backups" + dropinPath + fixedSuffix: true,
	}
	for _, b := range res.Backups {
		if !want[b] {
			t.Errorf("backup %s, want one of %v", b, want)
		}
		if _, err := os.Stat(host(root, b)); err != nil {
			t.Error(err)
		}
	}
	if len(res.Backups) != 2 {
		t.Errorf("backups %v", res.Backups)
	}
	if _, err := os.Stat(host(root, DefaultBackupDir)); err == nil {
		t.Errorf("%s was created although FallbackDir was given", DefaultBackupDir)
	}
	_, err = Apply(context.Background(), changes, ApplyOptions{Root: rootfstest.Open(t, root), FallbackDir: "rel"})
	if err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("relative FallbackDir: %v", err)
	}
}
