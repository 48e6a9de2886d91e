package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/sshport/sshport/client"
	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/suggest"
)

func clientCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "client",
		Usage:     "make ssh clients follow a moved port: edit ssh_config, copy trusted keys in known_hosts",
		UsageText: "sshport client --host ALIAS --port N [--file PATH] [--known-hosts FILE|auto]... [--apply] [--json]",
		Description: "Finds the line that decides the port ssh uses for ALIAS, as ssh reads the file (first value\n" +
			"obtained wins; Host patterns; Include), and prints the smallest edit that sets port N: that\n" +
			"Port line when its Host block is ALIAS's own, else a new \"Host ALIAS\" block placed before the\n" +
			"block that would win. A Port line in a Match block is refused (Match is not evaluated).\n" +
			"With --known-hosts, every key already trusted for ALIAS or its HostName (on the old port, or\n" +
			"recorded without a port) is added for [ALIAS]:N and [HOSTNAME]:N, hashed like the entry it\n" +
			"comes from, so that StrictHostKeyChecking clients connect without a prompt; no trust is\n" +
			"invented. --apply writes atomically with backups and checks the result with `ssh -G`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Usage: "the `ALIAS` as typed after ssh (a literal name)"},
			&cli.IntFlag{Name: "port", Usage: "the new port `N`"},
			&cli.StringFlag{Name: "file", Usage: "ssh client configuration `PATH` (default ~/.ssh/config; may be /etc/ssh/ssh_config)"},
			&cli.StringSliceFlag{Name: "known-hosts", Usage: "known_hosts `FILE` to update (repeatable); auto: the UserKnownHostsFile files ssh uses for ALIAS"},
			&cli.IntFlag{Name: "old-port", Usage: "with --known-hosts: copy the keys trusted on port `M` (default: the port the file gives ALIAS now)"},
			&cli.BoolFlag{Name: "apply", Usage: "write the change: lock, backup, atomic write, ssh -G check, roll back on failure"},
			&cli.StringFlag{Name: "backup-suffix", Usage: "name backups FILE`SUFFIX` (default .sshport-YYYYMMDDTHHMMSS)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON for scripts instead of the report"},
		},
		Action: func(c *cli.Context) error { return runClient(c, e) },
	}
}

// clientReport is the JSON wire format of `sshport client`.
type clientReport struct {
	Host       string         `json:"host"`
	Port       int            `json:"port"`
	OldPort    int            `json:"old_port"`
	File       string         `json:"file"`
	Deciding   string         `json:"deciding,omitempty"`
	Action     string         `json:"action"`
	Changed    bool           `json:"changed"`
	Applied    bool           `json:"applied"`
	Validated  bool           `json:"validated"`
	Diff       string         `json:"diff"`
	Files      []string       `json:"files"`
	Backups    []string       `json:"backups"`
	KnownHosts []jsonKnownAdd `json:"known_hosts_added"`
	Notes      []string       `json:"notes"`
}

type jsonKnownAdd struct {
	File        string `json:"file"`
	Name        string `json:"name"`
	KeyType     string `json:"key_type"`
	Fingerprint string `json:"fingerprint"`
	Hashed      bool   `json:"hashed"`
	Marker      string `json:"marker,omitempty"`
	From        string `json:"from"`
}

func runClient(c *cli.Context, e *env) error {
	if c.Args().Len() > 0 {
		return usageErr("client takes no arguments (got %q)", c.Args().First())
	}
	for _, cc := range c.Lineage() {
		for _, n := range cc.LocalFlagNames() {
			if n == "root" || n == "config" || n == "f" {
				return usageErr("client does not take --root or --config (they name sshd's side); use --file")
			}
		}
	}
	jsonOut := c.Bool("json") || global(c, "json", (*cli.Context).Bool)
	alias := c.String("host")
	if !c.IsSet("host") || !c.IsSet("port") {
		return usageErr("client needs --host ALIAS and --port N")
	}
	if err := client.ValidAlias(alias); err != nil {
		return usageErr("--host: %v", err)
	}
	port := c.Int("port")
	if port < 1 || port > 65535 {
		return usageErr("--port %d: not a port number 1-65535", port)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	file := c.String("file")
	if file == "" {
		// ssh reads ~/.ssh/config from the password database's home
		// directory, and expands "~" elsewhere from $HOME.
		u, err := user.Current()
		if err != nil || u.HomeDir == "" {
			return usageErr("no home directory for the current user: give --file")
		}
		file = filepath.Join(u.HomeDir, ".ssh", "config")
	}
	if file, err = filepath.Abs(file); err != nil {
		return usageErr("--file: %v", err)
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return &exitErr{code: exitError, err: fmt.Errorf("%s does not exist: create it (install -m 600 /dev/null %s) and run again", file, file)}
	}
	system := strings.HasPrefix(file, "/etc/ssh/")
	opts := client.Options{FS: os.DirFS("/"), Home: home, System: system}
	cfg, err := client.Load(file, opts)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	plan, err := cfg.PlanPort(alias, port, client.PlanOptions{Writable: writable, LookupPort: lookupPort})
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	rep := &clientReport{Host: alias, Port: port, OldPort: plan.OldPort, File: file, Action: plan.Action,
		Files: []string{}, Backups: []string{}, KnownHosts: []jsonKnownAdd{}, Notes: append([]string{}, plan.Notes...)}
	if plan.Deciding != nil {
		rep.Deciding = plan.Deciding.String()
	}
	if system {
		// ssh reads the user's file first: a Port there wins.
		if u, err := user.Current(); err == nil && u.HomeDir != "" {
			uf := filepath.Join(u.HomeDir, ".ssh", "config")
			if uc, err := client.Load(uf, client.Options{FS: opts.FS, Home: home}); err == nil {
				if s := uc.Lookup(alias, "port"); s != nil {
					rep.Notes = append(rep.Notes, fmt.Sprintf("%s sets the port for %s first (ssh reads it before %s): that user still gets port %s", s.Ref, alias, file, s.Value()))
				}
			}
		}
	}
	var changes []suggest.FileChange
	for _, ch := range plan.Changes {
		changes = append(changes, suggest.FileChange{Path: ch.Path, Old: ch.Old, New: ch.New})
	}

	if c.IsSet("old-port") && len(c.StringSlice("known-hosts")) == 0 {
		return usageErr("--old-port needs --known-hosts")
	}
	if khs := c.StringSlice("known-hosts"); len(khs) > 0 {
		if o := c.Int("old-port"); c.IsSet("old-port") && (o < 1 || o > 65535) {
			return usageErr("--old-port %d: not a port number 1-65535", o)
		}
		chs, err := knownHostsChanges(cfg, alias, plan, c.Int("old-port"), home, khs, rep)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		changes = append(changes, chs...)
	}

	for _, ch := range changes {
		rep.Files = append(rep.Files, ch.Path)
	}
	rep.Changed = len(changes) > 0
	live, err := rootfs.Live()
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	defer live.Close()
	if rep.Changed {
		targets, err := suggest.ResolveTargets(live, changes)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		rep.Diff = string(suggest.Diff(targets))
	}
	if rep.Changed && c.Bool("apply") {
		ao := suggest.ApplyOptions{Root: live, BackupSuffix: c.String("backup-suffix"), IncludeGlobs: cfg.IncludePatterns()}
		if !system {
			// A backup that ssh would read through an Include glob goes
			// to a hidden directory beside the file, which the user can
			// write (the system default, /var/backups/sshport, is root's).
			ao.FallbackDir = filepath.Join(filepath.Dir(file), ".sshport-backups")
		}
		ssh, _ := exec.LookPath("ssh")
		switch {
		case plan.Action == client.ActionNone:
		case system:
			rep.Notes = append(rep.Notes, "not checked with ssh -G: ssh reads "+file+" after ~/.ssh/config, and -F would read its relative Includes from ~/.ssh")
		case ssh == "":
			rep.Notes = append(rep.Notes, "not checked with ssh -G: no ssh in $PATH")
		default:
			ao.Validate = sshGValidator(ssh, file, alias, port)
			rep.Validated = true
		}
		res, err := suggest.Apply(c.Context, changes, ao)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		rep.Applied = true
		rep.Backups = append(rep.Backups, res.Backups...)
	}
	if jsonOut {
		writeJSON(e.stdout, rep)
		return nil
	}
	printClient(e.stdout, rep)
	return nil
}

// knownHostsChanges plans the known_hosts additions for each --known-hosts
// value ("auto": the files ssh uses for the alias).
func knownHostsChanges(cfg *client.Config, alias string, plan *client.PortPlan, oldFlag int, home string, flags []string, rep *clientReport) ([]suggest.FileChange, error) {
	tgt, err := cfg.Target(alias)
	if err != nil {
		return nil, err
	}
	rep.Notes = append(rep.Notes, tgt.Notes...)
	if tgt.HostKeyAlias != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("HostKeyAlias %s: ssh looks the key up under that name whatever the port: known_hosts needs no change", tgt.HostKeyAlias))
		return nil, nil
	}
	var files []string
	auto := map[string]bool{}
	for _, f := range flags {
		switch {
		case f == "auto":
			files = append(files, tgt.KnownHosts...)
			for _, k := range tgt.KnownHosts {
				auto[k] = true
			}
			continue
		case f == "~" || strings.HasPrefix(f, "~/"):
			f = home + strings.TrimPrefix(f, "~")
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		files = append(files, abs)
	}
	// Keys trusted on the old port, and those recorded without a port:
	// ssh itself accepts those on any port when [host]:port is unknown
	// (sshconnect.c, "checking without port identifier").
	oldPort := plan.OldPort
	if oldFlag != 0 {
		oldPort = oldFlag
	}
	oldNames := client.HostNames(alias, tgt.HostName, oldPort)
	for _, n := range client.HostNames(alias, tgt.HostName, 22) {
		if !slices.Contains(oldNames, n) {
			oldNames = append(oldNames, n)
		}
	}
	newNames := client.HostNames(alias, tgt.HostName, plan.Port)
	var out []suggest.FileChange
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			if !auto[f] {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no such file: nothing trusted there", f))
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		kp, err := client.PlanKnownHosts(f, data, oldNames, newNames)
		if err != nil {
			return nil, err
		}
		rep.Notes = append(rep.Notes, kp.Notes...)
		for _, a := range kp.Adds {
			rep.KnownHosts = append(rep.KnownHosts, jsonKnownAdd{File: a.File, Name: a.Name, KeyType: a.KeyType,
				Fingerprint: a.Fingerprint, Hashed: a.Hashed, Marker: a.Marker, From: a.From})
		}
		if kp.Change != nil {
			if err := writable(f); err != nil {
				return nil, fmt.Errorf("%s cannot be changed: %v", f, err)
			}
			out = append(out, suggest.FileChange{Path: f, Old: kp.Change.Old, New: kp.Change.New})
		}
	}
	return out, nil
}

// writable says why the invoking user cannot replace path (write it, and
// create and rename files in its directory), or nil.
func writable(path string) error {
	if err := unix.Access(path, unix.W_OK); err != nil {
		return fmt.Errorf("not writable by you: %w", err)
	}
	if err := unix.Access(filepath.Dir(path), unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("its directory is not writable by you: %w", err)
	}
	return nil
}

func lookupPort(name string) (int, error) { return net.LookupPort("tcp", name) }

// sshGValidator checks the written configuration with `ssh -G -F file
// alias`: it must say "port N".
func sshGValidator(ssh, file, alias string, port int) func(context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, ssh, "-G", "-F", file, "--", alias)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("ssh -G -F %s %s: %v: %s", file, alias, err, strings.TrimSpace(errb.String()))
		}
		want := fmt.Sprintf("port %d", port)
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "port ") {
				if l == want {
					return nil
				}
				return fmt.Errorf("ssh -G -F %s %s says %q, want %q", file, alias, l, want)
			}
		}
		return fmt.Errorf("ssh -G -F %s %s prints no port", file, alias)
	}
}

func printClient(w io.Writer, r *clientReport) {
	switch {
	case r.Action == client.ActionNone:
		fmt.Fprintf(w, "%s: ssh already uses port %d", r.Host, r.Port)
	default:
		fmt.Fprintf(w, "%s: port %d -> %d", r.Host, r.OldPort, r.Port)
	}
	if r.Deciding != "" {
		fmt.Fprintf(w, " (decided by %s)\n", r.Deciding)
	} else {
		fmt.Fprintf(w, " (no line of %s sets it)\n", r.File)
	}
	switch r.Action {
	case client.ActionEdit:
		fmt.Fprintln(w, "  change: that Port line (its Host block is this host's own)")
	case client.ActionAddPort:
		fmt.Fprintf(w, "  change: a Port line in the Host %s block\n", r.Host)
	case client.ActionAddBlock:
		fmt.Fprintf(w, "  change: a new Host %s block, read before any other that sets the port\n", r.Host)
	}
	for _, a := range r.KnownHosts {
		h := ""
		if a.Hashed {
			h = ", hashed"
		}
		m := ""
		if a.Marker != "" {
			m = "@" + a.Marker + " "
		}
		fmt.Fprintf(w, "  known_hosts: %s%s %s %s (from %s%s)\n", m, a.Name, a.KeyType, a.Fingerprint, a.From, h)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Diff != "" {
		fmt.Fprintf(w, "\n%s", r.Diff)
	}
	if r.Applied {
		fmt.Fprintf(w, "\nApplied to %s.\n", joinComma(r.Files))
		fmt.Fprintf(w, "Backups: %s\n", joinComma(r.Backups))
		if r.Validated {
			fmt.Fprintf(w, "Checked: ssh -G %s says port %d.\n", r.Host, r.Port)
		}
	} else if r.Changed {
		fmt.Fprintln(w, "\nNothing written: add --apply to write it.")
	}
}
