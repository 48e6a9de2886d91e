package hostenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path"
	"slices"
	"strings"
)

// Facts is what Detect found around sshd.
type Facts struct {
	Systemd  Systemd  `json:"systemd"`
	Firewall Firewall `json:"firewall"`
	SELinux  SELinux  `json:"selinux"`
	Fail2ban Fail2ban `json:"fail2ban"`
	// Notes are caveats about what could not be read.
	Notes []string `json:"notes"`
}

// Options says what Detect should look at.
type Options struct {
	// Live: fsys is the running system, whose live state (nft ruleset,
	// semanage) may be asked through Runner. False for an image.
	Live bool
	// OldPorts are the ports sshd listens on now (firewall rules and
	// fail2ban jails naming them are looked for).
	OldPorts []int
	// NewPort is the port sshd moves to (SELinux's type of it is looked up).
	NewPort int
	// Runner runs the few live commands; nil uses os/exec. Never used
	// unless Live.
	Runner Runner
}

// Runner runs a command of the live system and returns its standard output.
type Runner interface {
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs commands with os/exec.
type ExecRunner struct{}

// Output runs name with args and returns its standard output.
func (ExecRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).Output()
}

// Detect reads the system rooted at fsys.
func Detect(ctx context.Context, fsys fs.FS, o Options) Facts {
	if o.Runner == nil {
		o.Runner = ExecRunner{}
	}
	d := &detector{ctx: ctx, fsys: fsys, o: o}
	f := Facts{Notes: []string{}}
	f.Systemd = d.systemd()
	f.Firewall = d.firewall()
	f.SELinux = d.selinux()
	f.Fail2ban = d.fail2ban()
	f.Notes = append(f.Notes, d.notes...)
	return f
}

type detector struct {
	ctx   context.Context
	fsys  fs.FS
	o     Options
	notes []string
	// nftRead counts ruleset files read (includes are bounded).
	nftRead int
}

// read returns the file's bytes, or nil when it is missing or unreadable
// (unreadable is noted).
func (d *detector) read(name string) []byte {
	b, err := fs.ReadFile(d.fsys, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
			d.notes = append(d.notes, "cannot read /"+name+": "+err.Error())
		}
		return nil
	}
	return b
}

// exists reports whether name exists (a dangling symlink counts: an
// enablement link in an image may point at a path only the image resolves).
func (d *detector) exists(name string) bool {
	if _, err := fs.Stat(d.fsys, name); err == nil {
		return true
	}
	ents, err := fs.ReadDir(d.fsys, path.Dir(name))
	if err != nil {
		return false
	}
	return slices.ContainsFunc(ents, func(e fs.DirEntry) bool { return e.Name() == path.Base(name) })
}

// glob lists dir's entries ending in suffix, sorted by name.
func (d *detector) glob(dir, suffix string) []string {
	ents, err := fs.ReadDir(d.fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out
}

// keyValues reads a KEY=value file (ufw.conf, selinux/config,
// firewalld.conf, EnvironmentFile): comments, blank lines, optional quotes.
func keyValues(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		l = strings.TrimPrefix(l, "export ")
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		m[strings.TrimSpace(k)] = v
	}
	return m
}

// unitEnabled reports whether unit is enabled for boot: a link in one of
// the .wants directories of /etc/systemd/system.
func (d *detector) unitEnabled(unit string, targets ...string) bool {
	for _, t := range targets {
		if d.exists("etc/systemd/system/" + t + ".wants/" + unit) {
			return true
		}
	}
	return false
}
