package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

func suggestCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "suggest",
		Usage: "choose a safe port and print the diff that moves sshd there (--apply writes it)",
		Description: "Chooses 20022 when it is safe here, else the next safe port of a fixed order through\n" +
			"1024-49151 (never in use, well known, IANA-assigned, in the OS ephemeral range, or an\n" +
			"alternate SSH port scanners probe). Prints a unified diff over every file that changes;\n" +
			"`patch -d / -p1` applies it. With --apply it is written atomically, with backups, and\n" +
			"validated with `sshd -t` (rolled back if sshd refuses it). sshport never restarts sshd.\n" +
			"When the current ports are already safe nothing changes (exit 0).",
		Flags: append(globalFlags(),
			&cli.IntFlag{Name: "port", Usage: "move to port `N` (refused when unsafe, unless --force)"},
			&cli.BoolFlag{Name: "force", Usage: "with --port: accept an unsafe port (never one in use: sshd could not bind it)"},
			&cli.StringFlag{Name: "range", Usage: "look only in `LOW-HIGH`"},
			&cli.BoolFlag{Name: "keep-old", Usage: "phase 1 of a migration: keep the current ports and add the new one (listen on both)"},
			&cli.BoolFlag{Name: "finish", Usage: "phase 2 of a migration: keep the safe port sshd already listens on and drop the old ones"},
			&cli.BoolFlag{Name: "apply", Usage: "write the change: lock, backup, atomic write, sshd -t, roll back on failure"},
			&cli.StringFlag{Name: "backup-suffix", Usage: "name backups FILE`SUFFIX` (default .sshport-YYYYMMDDTHHMMSS)"},
			&cli.StringFlag{Name: "backup-dir", Usage: "put every backup under `DIR` (inside --root), at the file's own path (default: beside the file, or under /var/backups/sshport when an Include would make sshd read it there)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 5 * time.Second, Usage: "wait at most `DURATION` for another run's lock (0: no limit), then exit 2 naming the holder"},
			&cli.StringFlag{Name: "sshd", Usage: "sshd binary `PATH` for validation (default: sshd in $PATH, else /usr/sbin/sshd)"},
			&cli.BoolFlag{Name: "validate", Usage: "with --root: validate with sshd -t anyway (its absolute Includes resolve on this system)"},
			&cli.BoolFlag{Name: "probe", Usage: "with --root: check this system's sockets too"},
		),
		Action: func(c *cli.Context) error { return runSuggest(c, e) },
	}
}

type suggestReport struct {
	Port       int            `json:"port"`
	Previous   []int          `json:"previous"`
	Ports      []int          `json:"ports"`
	Changed    bool           `json:"changed"`
	Applied    bool           `json:"applied"`
	Validated  bool           `json:"validated"`
	Diff       string         `json:"diff"`
	Files      []string       `json:"files"`
	Backups    []string       `json:"backups"`
	Why        []string       `json:"why"`
	Notes      []string       `json:"notes"`
	Phase      string         `json:"phase"`
	NextSteps  []suggest.Step `json:"next_steps"`
	Compromise bool           `json:"compromise"`
	Forced     bool           `json:"forced"`
}

func runSuggest(c *cli.Context, e *env) error {
	if c.Args().Len() > 0 {
		return usageErr("suggest takes no arguments (got %q)", c.Args().First())
	}
	t, err := targetOf(c)
	if err != nil {
		return usageErr("%v", err)
	}
	defer t.root.Close()
	var rng checker.Range
	if s := c.String("range"); s != "" {
		lo, hi, ok := strings.Cut(s, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		rng = checker.Range{Lo: a, Hi: b}
		if !ok || err1 != nil || err2 != nil || !rng.Valid() || a < 1 {
			return usageErr("--range %q: want LOW-HIGH within 1-65535", s)
		}
	}
	if p := c.Int("port"); c.IsSet("port") && (p < 1 || p > 65535) {
		return usageErr("--port %d: not a port number 1-65535", p)
	}
	if c.Bool("finish") && c.Bool("keep-old") {
		return usageErr("--finish and --keep-old are the two phases of a migration: give one")
	}
	if d := c.Duration("lock-timeout"); d < 0 {
		return usageErr("--lock-timeout %v: want a duration of 0 or more", d)
	}
	if b := c.String("backup-dir"); b != "" && !strings.HasPrefix(b, "/") {
		// Relative to what? Not the working directory: Apply takes it
		// inside the root, so "bk" would be /bk.
		return usageErr("--backup-dir %q: give an absolute path (inside --root when given)", b)
	}
	cfg, err := t.load()
	if err != nil {
		return err
	}
	if len(cfg.Incomplete) > 0 {
		// The plan could leave a port sshd uses, or miss a file that
		// must change: neither a diff nor --apply can be trusted.
		return usageErr("%v; suggest needs the whole configuration and changes nothing (run it as a user who can read every Include)", cfg.Incomplete[0])
	}
	d, err := suggest.Decide(c.Context, cfg, e.prober, suggest.Options{
		Port: c.Int("port"), Force: c.Bool("force"), Range: rng, KeepOld: c.Bool("keep-old"), Finish: c.Bool("finish"),
		Live: !t.image || c.Bool("probe"), Root: t.root, Command: t.invocation(),
	})
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	// Phase 2, asked for or not (plain suggest on a half-done migration
	// keeps the configured safe port too): refused while the running sshd
	// has not taken phase 1.
	if d.Change && !t.image && !c.Bool("keep-old") && slices.Contains(d.Current, d.Port) {
		if err := e.finishNotInEffect(c, t, cfg, d); err != nil {
			return &exitErr{code: exitError, err: err}
		}
	}
	rep := &suggestReport{Port: d.Port, Previous: d.Current, Ports: d.Current, Why: d.Why, Compromise: d.Compromise, Forced: d.Forced,
		Files: []string{}, Backups: []string{}, Notes: []string{}, NextSteps: []suggest.Step{}}
	var plan *suggest.Plan
	if d.Change {
		plan, err = suggest.MakePlan(cfg, t.root, d.Port, suggest.PlanOptions{KeepOld: c.Bool("keep-old")})
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		rep.Ports, rep.Changed, rep.Notes = plan.Ports, plan.Changed, append(rep.Notes, plan.Notes...)
		if !plan.Changed {
			rep.Why = append(rep.Why, fmt.Sprintf("sshd already listens on %s: nothing to change", intsJoin(plan.Ports)))
		}
	}
	if !rep.Changed {
		if c.Bool("apply") {
			// Nothing to write, but what a killed run left is cleaned up.
			if _, err := e.apply(c, t, cfg, nil, rep); err != nil {
				return err
			}
		}
		switch {
		case d.Finished && !t.image:
			// The configuration is done; the running sshd may still hold
			// a dropped port: then the reload of phase 2 is pending.
			rep.Phase = string(suggest.PhaseFinish)
			stale, err := e.staleSSHDPorts(c, t, cfg, d.Current)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if len(stale) > 0 {
				rep.Why = append(rep.Why, fmt.Sprintf("the running sshd still listens on %s: reload it (next steps)", intsJoin(stale)))
				rep.Previous, rep.Applied = append(slices.Clone(d.Current), stale...), true
				sf := stepFacts(c, t, cfg, rep, d.Facts)
				rep.NextSteps = suggest.NextSteps(sf)
				rep.Applied = false
			}
		case d.Finished:
			rep.Phase = string(suggest.PhaseFinish)
		case c.Bool("keep-old") && len(d.Current) > 1:
			rep.Phase = string(suggest.PhaseKeepOld)
		}
		return e.finishSuggest(t, rep)
	}
	// GNU patch and git apply refuse to write through a symlink: the
	// diff names each link's target, as Apply writes it.
	targets, err := suggest.ResolveTargets(t.root, plan.Changes)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	rep.Diff = string(suggest.Diff(targets))
	for _, ch := range plan.Changes {
		rep.Files = append(rep.Files, ch.Path)
	}
	if c.Bool("apply") {
		res, err := e.apply(c, t, cfg, plan.Writes, rep)
		if err != nil {
			return err
		}
		rep.Applied = true
		// Backups in the order of the files (Apply wrote them in its own).
		backupOf := map[string]string{}
		for i, f := range res.Files {
			backupOf[f] = res.Backups[i]
		}
		for _, tg := range targets {
			if b, ok := backupOf[tg.Path]; ok {
				rep.Backups = append(rep.Backups, b)
			}
		}
	}
	rep.Phase = string(phaseOf(c, rep))
	sf := stepFacts(c, t, cfg, rep, d.Facts)
	rep.NextSteps = suggest.NextSteps(sf)
	rep.Notes = append(rep.Notes, sf.Host.Notes...)
	return e.finishSuggest(t, rep)
}

// apply writes the changes (none: only cleans up after a killed run),
// validating with sshd -t when it can; it notes on rep what it could not do.
func (e *env) apply(c *cli.Context, t target, cfg *sshcfg.Config, writes []suggest.FileChange, rep *suggestReport) (*suggest.ApplyResult, error) {
	opts := suggest.ApplyOptions{Root: t.root, BackupSuffix: c.String("backup-suffix"), BackupDir: c.String("backup-dir"),
		IncludeGlobs: suggest.IncludeGlobs(cfg), Files: suggest.ConfigFiles(cfg), LockTimeout: c.Duration("lock-timeout")}
	if len(writes) > 0 {
		sshd := findSSHD(c.String("sshd"))
		switch {
		case t.image && !c.Bool("validate"):
			rep.Notes = append(rep.Notes, "not validated with sshd -t: --root is an image (add --validate to run this system's sshd on it)")
		case sshd == "":
			rep.Notes = append(rep.Notes, "not validated: no sshd found (give --sshd PATH)")
		default:
			cfgPath := t.config
			if t.image {
				// sshd -t is another program: it gets the host path.
				cfgPath = t.root.HostPath(t.config)
			}
			opts.Validate = suggest.SSHDValidator(sshd, cfgPath)
			rep.Validated = true
		}
	}
	res, err := suggest.Apply(c.Context, writes, opts)
	if err != nil {
		rep.Validated = false
		return nil, &exitErr{code: exitError, err: err}
	}
	return res, nil
}

func (e *env) finishSuggest(t target, rep *suggestReport) error {
	if t.json {
		writeJSON(e.stdout, rep)
		return nil
	}
	printSuggest(e.stdout, rep)
	return nil
}

// findSSHD returns the sshd to validate with, or "".
func findSSHD(flag string) string {
	if flag != "" {
		return flag
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd"
	}
	return ""
}

func printSuggest(w io.Writer, r *suggestReport) {
	if !r.Changed {
		fmt.Fprintf(w, "No change: sshd listens on %s.\n", intsJoin(r.Ports))
		for _, why := range r.Why {
			fmt.Fprintf(w, "  %s\n", why)
		}
		printSteps(w, r)
		return
	}
	fmt.Fprintf(w, "Suggested port: %d (now: %s)\n", r.Port, intsJoin(r.Previous))
	for _, why := range r.Why {
		fmt.Fprintf(w, "  - %s\n", why)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintf(w, "\n%s", r.Diff)
	if r.Applied {
		fmt.Fprintf(w, "\nApplied to %s.\n", joinComma(r.Files))
		fmt.Fprintf(w, "Backups: %s\n", joinComma(r.Backups))
		if r.Validated {
			fmt.Fprintln(w, "Validated with sshd -t.")
		}
	}
	printSteps(w, r)
}
