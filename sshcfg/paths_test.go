package sshcfg_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
)

// pathCase is a tree whose Include paths test one rule of the kernel's path
// walk or of sshd's glob(3), and the ports sshd reads from it (nil: sshd
// refuses it).
type pathCase struct {
	name     string
	main     string            // /etc/ssh/sshd_config
	files    map[string]string // other files, absolute
	symlinks map[string]string
	ports    []int
	files2   []string // the files sshcfg reports, in order (nil: not checked)
}

// Every case lives under /etc/ssh, which sshdtest.Run binds over the
// machine's, so that sshd reads exactly the same tree.
var pathCases = []pathCase{
	{name: "dotdot after a regular file is ENOTDIR",
		main:  "Include /etc/ssh/x/cfg1/../extra.conf\n",
		files: map[string]string{"/etc/ssh/x/cfg1": "Port 1111\n", "/etc/ssh/x/extra.conf": "Port 2222\n"},
		ports: []int{22}, files2: []string{"/etc/ssh/sshd_config"}},
	{name: "dot after a regular file is ENOTDIR",
		main:  "Include /etc/ssh/x/cfg1/.\n",
		files: map[string]string{"/etc/ssh/x/cfg1": "Port 1111\n"},
		ports: []int{22}},
	{name: "trailing slash after a regular file is ENOTDIR",
		main:  "Include /etc/ssh/x/cfg1/\n",
		files: map[string]string{"/etc/ssh/x/cfg1": "Port 1111\n"},
		ports: []int{22}},
	{name: "dotdot after a regular file under a wildcard",
		main:  "Include /etc/ssh/x/cfg1/../*.conf\n",
		files: map[string]string{"/etc/ssh/x/cfg1": "Port 1111\n", "/etc/ssh/x/extra.conf": "Port 2222\n"},
		ports: []int{22}},
	{name: "dotdot after a directory",
		main:  "Include /etc/ssh/x/d/../extra.conf\n",
		files: map[string]string{"/etc/ssh/x/d/keep": "", "/etc/ssh/x/extra.conf": "Port 2222\n"},
		ports: []int{2222}, files2: []string{"/etc/ssh/sshd_config", "/etc/ssh/x/d/../extra.conf"}},
	{name: "dotdot after an absolute symlinked directory",
		main:     "Include /etc/ssh/x/link/../extra.conf\n",
		files:    map[string]string{"/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/real/extra.conf": "Port 4444\n", "/etc/ssh/real/sub/keep": ""},
		symlinks: map[string]string{"/etc/ssh/x/link": "/etc/ssh/real/sub"},
		ports:    []int{4444}},
	{name: "dotdot after a relative symlinked directory",
		main:     "Include /etc/ssh/x/link/../extra.conf\n",
		files:    map[string]string{"/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/real/extra.conf": "Port 4444\n", "/etc/ssh/real/sub/keep": ""},
		symlinks: map[string]string{"/etc/ssh/x/link": "../real/sub"},
		ports:    []int{4444}},
	{name: "dotdot after a symlinked directory under a wildcard",
		main:     "Include /etc/ssh/x/link/../*.conf\n",
		files:    map[string]string{"/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/real/extra.conf": "Port 4444\n", "/etc/ssh/real/sub/keep": ""},
		symlinks: map[string]string{"/etc/ssh/x/link": "/etc/ssh/real/sub"},
		ports:    []int{4444}},
	{name: "wildcard directory then dotdot",
		main:     "Include /etc/ssh/x/l*/../extra.conf\n",
		files:    map[string]string{"/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/real/extra.conf": "Port 4444\n", "/etc/ssh/real/sub/keep": ""},
		symlinks: map[string]string{"/etc/ssh/x/link": "/etc/ssh/real/sub"},
		ports:    []int{4444}},
	{name: "symlinked file whose target goes through a regular file",
		main:     "Include /etc/ssh/x/a.conf\n",
		files:    map[string]string{"/etc/ssh/x/cfg1": "Port 1111\n", "/etc/ssh/x/extra.conf": "Port 2222\n"},
		symlinks: map[string]string{"/etc/ssh/x/a.conf": "cfg1/../extra.conf"},
		ports:    nil},
	{name: "unclosed bracket is a plain character",
		main:  "Include /etc/ssh/x/[x.conf\n",
		files: map[string]string{"/etc/ssh/x/[x.conf": "Port 3333\n", "/etc/ssh/x/x.conf": "Port 2222\n"},
		ports: []int{3333}, files2: []string{"/etc/ssh/sshd_config", "/etc/ssh/x/[x.conf"}},
	{name: "unclosed bracket with a star",
		main:  "Include /etc/ssh/x/[x*\n",
		files: map[string]string{"/etc/ssh/x/[x.conf": "Port 3333\n", "/etc/ssh/x/x.conf": "Port 2222\n"},
		ports: []int{3333}},
	{name: "bracket set",
		main:  "Include /etc/ssh/x/[xy].conf\n",
		files: map[string]string{"/etc/ssh/x/x.conf": "Port 2222\n", "/etc/ssh/x/y.conf": "Port 3333\n", "/etc/ssh/x/z.conf": "Port 4444\n"},
		ports: []int{2222, 3333}},
	{name: "negated set with bang",
		main:  "Include /etc/ssh/x/[!x].conf\n",
		files: map[string]string{"/etc/ssh/x/x.conf": "Port 2222\n", "/etc/ssh/x/y.conf": "Port 3333\n"},
		ports: []int{3333}},
	{name: "caret is a plain member",
		main:  "Include /etc/ssh/x/[^x].conf\n",
		files: map[string]string{"/etc/ssh/x/x.conf": "Port 2222\n", "/etc/ssh/x/y.conf": "Port 3333\n", "/etc/ssh/x/^.conf": "Port 4444\n"},
		ports: []int{4444, 2222}},
	{name: "closing bracket first is a member",
		main:  "Include /etc/ssh/x/[]x].conf\n",
		files: map[string]string{"/etc/ssh/x/x.conf": "Port 2222\n", "/etc/ssh/x/].conf": "Port 3333\n"},
		ports: []int{3333, 2222}},
	{name: "empty brackets are plain",
		main:  "Include /etc/ssh/x/[].conf\n",
		files: map[string]string{"/etc/ssh/x/[].conf": "Port 2222\n"},
		ports: []int{2222}},
	{name: "range and class",
		main:  "Include /etc/ssh/x/[a-c][[:digit:]].conf\n",
		files: map[string]string{"/etc/ssh/x/a1.conf": "Port 2222\n", "/etc/ssh/x/d1.conf": "Port 3333\n", "/etc/ssh/x/bx.conf": "Port 4444\n"},
		ports: []int{2222}},
	{name: "unknown class matches nothing",
		main:  "Include /etc/ssh/x/[[:nosuch:]].conf\n",
		files: map[string]string{"/etc/ssh/x/a.conf": "Port 2222\n", "/etc/ssh/x/[[:nosuch:]].conf": "Port 3333\n"},
		ports: []int{22}},
	{name: "a set closed only by its class crashes sshd",
		main:  "Include /etc/ssh/x/[[:digit:]\n",
		files: map[string]string{"/etc/ssh/x/1": "Port 2222\n"},
		ports: nil},
	{name: "set across a slash matches nothing",
		main:  "Include /etc/ssh/x/[a/b]\n",
		files: map[string]string{"/etc/ssh/x/a": "Port 2222\n", "/etc/ssh/x/[a/b]": "Port 3333\n"},
		ports: []int{22}},
	{name: "escaped bracket",
		main:  "Include /etc/ssh/x/\\[x].conf\n",
		files: map[string]string{"/etc/ssh/x/[x].conf": "Port 3333\n", "/etc/ssh/x/x.conf": "Port 2222\n"},
		ports: []int{3333}},
	{name: "star skips dot files",
		main:  "Include /etc/ssh/x/*\n",
		files: map[string]string{"/etc/ssh/x/.hidden": "Port 3333\n", "/etc/ssh/x/a": "Port 2222\n"},
		ports: []int{2222}},
	{name: "bracket dot does not match a leading dot",
		main:  "Include /etc/ssh/x/[.]*\n",
		files: map[string]string{"/etc/ssh/x/.hidden": "Port 3333\n", "/etc/ssh/x/a": "Port 2222\n"},
		ports: []int{22}},
	{name: "dot star matches dot and dotdot",
		main:  "Include /etc/ssh/x/y/.*/extra.conf\n",
		files: map[string]string{"/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/x/y/extra.conf": "Port 3333\n", "/etc/ssh/x/y/.d/extra.conf": "Port 4444\n"},
		ports: []int{2222, 3333, 4444}, files2: []string{"/etc/ssh/sshd_config", "/etc/ssh/x/y/../extra.conf", "/etc/ssh/x/y/./extra.conf", "/etc/ssh/x/y/.d/extra.conf"}},
	{name: "escaped dot matches a leading dot",
		main:  "Include /etc/ssh/x/\\.h*\n",
		files: map[string]string{"/etc/ssh/x/.hidden": "Port 3333\n"},
		ports: []int{3333}},
	{name: "double slash is kept in the name",
		main:  "Include /etc/ssh//x/a.conf\n",
		files: map[string]string{"/etc/ssh/x/a.conf": "Port 2222\n"},
		ports: []int{2222}, files2: []string{"/etc/ssh/sshd_config", "/etc/ssh//x/a.conf"}},
	{name: "dangling symlink is matched and refused",
		main:     "Include /etc/ssh/x/*.conf\n",
		symlinks: map[string]string{"/etc/ssh/x/a.conf": "/etc/ssh/nowhere"},
		ports:    nil},
	{name: "symlink loop is skipped",
		main:     "Include /etc/ssh/x/loop/a.conf\n",
		symlinks: map[string]string{"/etc/ssh/x/loop": "loop"},
		ports:    []int{22}},
	{name: "symlink loop as the file is matched and refused",
		main:     "Include /etc/ssh/x/loop.conf\n",
		symlinks: map[string]string{"/etc/ssh/x/loop.conf": "loop.conf"},
		ports:    nil},
	{name: "directory with a trailing slash reads nothing",
		main:  "Include /etc/ssh/x/\nPort 2222\n",
		files: map[string]string{"/etc/ssh/x/a.conf": "Port 3333\n"},
		ports: []int{2222}},
	{name: "symlink to a directory with a trailing slash",
		main:     "Include /etc/ssh/x/l/\nPort 2222\n",
		files:    map[string]string{"/etc/ssh/real/sub/a.conf": "Port 3333\n"},
		symlinks: map[string]string{"/etc/ssh/x/l": "/etc/ssh/real/sub"},
		ports:    []int{2222}},
	{name: "main config through dotdot",
		main:  "Include /etc/ssh/x/../x/a.conf\n",
		files: map[string]string{"/etc/ssh/x/a.conf": "Port 2222\n"},
		ports: []int{2222}},
}

func (c pathCase) tree() sshdtest.Tree {
	t := sshdtest.Tree{Files: map[string][]byte{sshdtest.MainConfig: []byte(c.main)}, Symlinks: map[string]string{}}
	for p, b := range c.files {
		t.Files[p] = []byte(b)
	}
	for p, l := range c.symlinks {
		t.Symlinks[p] = l
	}
	return t
}

// TestIncludePaths reads each tree with sshcfg and, where sshd exists,
// requires the real `sshd -T` to read the same ports (or refuse too).
func TestIncludePaths(t *testing.T) {
	for _, c := range pathCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "root")
			if err := c.tree().Write(dir); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadTree(dir)
			var got []int
			if err == nil {
				for _, p := range cfg.Ports {
					got = append(got, p.Port)
				}
			}
			if (err != nil) != (c.ports == nil) || !slices.Equal(got, c.ports) {
				t.Errorf("sshcfg: ports %v, error %v; want ports %v", got, err, c.ports)
			}
			if c.files2 != nil && err == nil {
				var files []string
				for _, f := range cfg.Files {
					files = append(files, f.Path)
				}
				if !slices.Equal(files, c.files2) {
					t.Errorf("sshcfg read %q, want %q", files, c.files2)
				}
			}
			if len(cfg.Incomplete) > 0 {
				t.Errorf("incomplete as root: %v", cfg.Incomplete)
			}
			if sshdtest.Path() == "" || os.Geteuid() != 0 {
				return
			}
			sshdtest.Require(t)
			want := sshdtest.Run(t, dir, sshdtest.MainConfig)
			if want.Refused() != (c.ports == nil) || (!want.Refused() && !slices.Equal(want.Ports, c.ports)) {
				t.Errorf("the case disagrees with sshd -T: sshd ports %v (exit %d)\n%s", want.Ports, want.Exit, want.Err)
			}
			if d := disagreement(cfg, err, want); d != "" {
				t.Errorf("sshcfg disagrees with sshd: %s", d)
			}
		})
	}
}

// TestIncludePathsLive runs the same cases on the live system (a live rootfs.Root):
// each tree is written under a temporary directory, its /etc/ssh paths
// rewritten to point there, and the real sshd -T reads it where it is,
// with no mount namespace.
func TestIncludePathsLive(t *testing.T) {
	sshd := sshdtest.Require(t)
	key := filepath.Join(t.TempDir(), "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	for _, c := range pathCases {
		t.Run(c.name, func(t *testing.T) {
			base, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			live := func(s string) string { return strings.ReplaceAll(s, "/etc/ssh/", base+"/") }
			tree := sshdtest.Tree{Files: map[string][]byte{}, Symlinks: map[string]string{}}
			for p, b := range c.tree().Files {
				tree.Files[live(p)] = []byte(live(string(b)))
			}
			for p, l := range c.tree().Symlinks {
				tree.Symlinks[live(p)] = live(l)
			}
			if err := tree.Write("/"); err != nil {
				t.Fatal(err)
			}
			main := live(sshdtest.MainConfig)
			cfg, err := sshcfg.Load(rootfstest.Live(t), main, &sshcfg.Options{Resolver: sshcfg.SystemResolver()})
			var got []int
			if err == nil {
				for _, p := range cfg.Ports {
					got = append(got, p.Port)
				}
			}
			if (err != nil) != (c.ports == nil) || !slices.Equal(got, c.ports) {
				t.Errorf("sshcfg live: ports %v, error %v; want %v", got, err, c.ports)
			}
			cmd := exec.Command(sshd, "-T", "-f", main, "-h", key)
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
			out, err := cmd.Output()
			var want sshdtest.Result
			if err != nil {
				want.Exit = 1
			} else if err := want.ParseKeyLines(string(out)); err != nil {
				t.Fatal(err)
			}
			if want.Refused() != (c.ports == nil) || (!want.Refused() && !slices.Equal(want.Ports, c.ports)) {
				t.Errorf("live sshd -T: ports %v, exit error %v; the case says %v", want.Ports, err, c.ports)
			}
		})
	}
}

// TestIncludeEditsOnlyReadFiles: suggest's edit lands in a file sshd reads,
// never in the one a textual "cfg1/.." would name.
func TestIncludeEditsOnlyReadFiles(t *testing.T) {
	c := pathCase{
		main:     "Include /etc/ssh/x/cfg1/../extra.conf\nInclude /etc/ssh/x/link/../extra.conf\n",
		files:    map[string]string{"/etc/ssh/x/cfg1": "#\n", "/etc/ssh/x/extra.conf": "Port 2222\n", "/etc/ssh/real/extra.conf": "Port 4444\n", "/etc/ssh/real/sub/keep": ""},
		symlinks: map[string]string{"/etc/ssh/x/link": "/etc/ssh/real/sub"},
	}
	dir := t.TempDir()
	if err := c.tree().Write(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := cfg.Edit(sshcfg.Edit{Ports: []int{20022}})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, ch := range changes {
		paths = append(paths, ch.Path)
	}
	if want := []string{"/etc/ssh/x/link/../extra.conf"}; !slices.Equal(paths, want) {
		t.Fatalf("edited %q, want %q", paths, want)
	}
	after, err := cfg.Reload(sshcfg.Overlay(rootfstest.Open(t, dir), changes))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(after.Ports[0].Port, len(after.Ports)); got != "20022 1" {
		t.Errorf("read back %v", after.Ports)
	}
}
