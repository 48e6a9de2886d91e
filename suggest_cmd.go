package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

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
			&cli.BoolFlag{Name: "force", Usage: "with --port: accept an unsafe port"},
			&cli.StringFlag{Name: "range", Usage: "look only in `LOW-HIGH`"},
			&cli.BoolFlag{Name: "keep-old", Usage: "phase 1 of a migration: keep the current ports and add the new one (listen on both)"},
			&cli.BoolFlag{Name: "finish", Usage: "phase 2 of a migration: keep the safe port sshd already listens on and drop the old ones"},
			&cli.BoolFlag{Name: "apply", Usage: "write the change: lock, backup, atomic write, sshd -t, roll back on failure"},
			&cli.StringFlag{Name: "backup-suffix", Usage: "name backups FILE`SUFFIX` (default .sshport-YYYYMMDDTHHMMSS)"},
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
	cfg, err := t.load()
	if err != nil {
		return err
	}
	if len(cfg.Incomplete) > 0 {
		// The plan could leave a port sshd uses, or miss a file that
		// must change: neither a diff nor --apply can be trusted.
		return usageErr("%v; suggest needs the whole configuration and changes nothing (run it as a user who can read every Include)", cfg.Incomplete[0])
	}
	current := suggest.ListenPorts(cfg)
	rep := &suggestReport{Previous: current, Files: []string{}, Backups: []string{}, Why: []string{}, Notes: []string{}, NextSteps: []suggest.Step{}, Ports: current}
	if c.Bool("finish") && c.Bool("keep-old") {
		return usageErr("--finish and --keep-old are the two phases of a migration: give one")
	}

	live := !t.image || c.Bool("probe")
	req := checker.Request{Live: live, Owners: current}
	if t.image {
		req.Root = t.root
	}
	for _, p := range current {
		req.Bind = append(req.Bind, endpointsFor(cfg, p, false)...)
	}
	facts, err := e.prober.Probe(c.Context, req)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	judge := func(p int) []checker.Finding {
		cand := checker.Candidate{Port: p, SSHDOwn: slices.Contains(current, p), Endpoints: endpointsFor(cfg, p, !slices.Contains(current, p))}
		return checker.Check(cand, facts)
	}

	var port int
	switch {
	case c.IsSet("port"):
		port = c.Int("port")
		if port < 1 || port > 65535 {
			return usageErr("--port %d: not a port number 1-65535", port)
		}
		if c.Bool("finish") && !slices.Contains(current, port) {
			return usageErr("--finish --port %d: phase 2 keeps a port sshd already listens on (now: %s)", port, intsJoin(current))
		}
		if !slices.Contains(current, port) {
			// Probe the candidate's own addresses: listing misses
			// sockets bound but not listening.
			f2, err := e.prober.Probe(c.Context, checker.Request{Live: live, Root: req.Root, Owners: []int{port}, Bind: endpointsFor(cfg, port, true)})
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			facts = mergeFacts(facts, f2)
		}
		fs := judge(port)
		if slices.Contains(suggest.ScannerPorts, port) {
			fs = append(fs, checker.Finding{Port: port, Code: "scanner-port", Severity: checker.SevWarning,
				Message: fmt.Sprintf("%d is an alternate SSH port that scanners probe right after 22", port)})
		}
		if len(fs) > 0 && !c.Bool("force") {
			var msgs []string
			for _, f := range fs {
				msgs = append(msgs, fmt.Sprintf("[%s] %s", f.Code, f.Message))
			}
			return usageErr("port %d refused: %s (use --force to take it anyway)", port, strings.Join(msgs, "; "))
		}
		for _, f := range fs {
			rep.Why = append(rep.Why, "forced despite: "+f.Message)
			rep.Forced = true
		}
	default:
		var safe []int
		for _, p := range current {
			if len(judge(p)) == 0 && !slices.Contains(suggest.ScannerPorts, p) {
				safe = append(safe, p)
			}
		}
		if c.Bool("finish") && len(safe) == 0 {
			return usageErr("--finish: sshd listens on no safe port beside %s, so there is no migration to finish (phase 1 is: sshport suggest --keep-old --apply)", intsJoin(current))
		}
		switch {
		case len(safe) > 0 && len(safe) == len(current) && c.Bool("finish"):
			rep.Port = current[0]
			rep.Phase = string(suggest.PhaseFinish)
			rep.Why = append(rep.Why, fmt.Sprintf("the migration is finished: sshd is configured for %s only", intsJoin(current)))
			if !t.image {
				// The running sshd may still hold a dropped port: then
				// the reload of phase 2 has not happened yet.
				stale, err := e.staleSSHDPorts(c, cfg, current)
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				if len(stale) > 0 {
					rep.Why = append(rep.Why, fmt.Sprintf("the running sshd still listens on %s: reload it (next steps)", intsJoin(stale)))
					rep.Previous, rep.Applied = append(slices.Clone(current), stale...), true
					rep.NextSteps = suggest.NextSteps(stepFacts(c, t, cfg, rep, facts))
					rep.Applied = false
				}
			}
			return e.finishSuggest(t, rep)
		case len(safe) > 0 && len(safe) == len(current):
			rep.Port = current[0]
			rep.Why = append(rep.Why, fmt.Sprintf("sshd already listens only on safe ports (%s): nothing to change", intsJoin(current)))
			return e.finishSuggest(t, rep)
		case len(safe) > 0 && c.Bool("keep-old"):
			rep.Port = safe[0]
			rep.Phase = string(suggest.PhaseKeepOld)
			rep.Why = append(rep.Why, fmt.Sprintf("phase 1 is done: sshd already listens on the safe port %d beside the old ones (%s); phase 2 drops them: %s suggest --finish --apply", safe[0], intsJoin(without(current, safe[0])), t.invocation()))
			return e.finishSuggest(t, rep)
		case len(safe) > 0:
			// Finishing a migration: keep the safe port sshd already
			// listens on (the one clients were moved to) and drop the rest.
			port = safe[0]
			rep.Why = append(rep.Why, fmt.Sprintf("%d is already configured and safe: keeping it and dropping %s", port, intsJoin(slices.DeleteFunc(slices.Clone(current), func(p int) bool { return p == port }))))
		}
		if port != 0 {
			break
		}
		avoid := slices.Clone(current)
		for _, la := range cfg.ListenAddresses {
			if la.Port != 0 {
				avoid = append(avoid, la.Port)
			}
		}
		for attempt := 0; ; attempt++ {
			ch, err := suggest.Choose(suggest.ChooseOptions{Screen: checker.NewScreen(facts), Facts: facts, Range: rng, Avoid: avoid})
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			port, rep.Why, rep.Compromise = ch.Port, ch.Why, ch.Compromise
			if !live || attempt == 4 {
				break
			}
			f2, err := e.prober.Probe(c.Context, checker.Request{Live: true, Root: req.Root, Bind: endpointsFor(cfg, port, true)})
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			facts = mergeFacts(facts, f2)
			if len(judge(port)) == 0 || ch.Compromise {
				break
			}
			avoid = append(avoid, port)
		}
	}
	rep.Port = port

	plan, err := suggest.MakePlan(cfg, sshcfg.Root(t.root), port, suggest.PlanOptions{KeepOld: c.Bool("keep-old")})
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	rep.Ports, rep.Changed, rep.Notes = plan.Ports, plan.Changed, append(rep.Notes, plan.Notes...)
	if !plan.Changed {
		rep.Why = append(rep.Why, fmt.Sprintf("sshd already listens on %s: nothing to change", intsJoin(plan.Ports)))
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
		opts := suggest.ApplyOptions{Root: t.root, BackupSuffix: c.String("backup-suffix")}
		for _, d := range cfg.Directives {
			if d.Key == "include" {
				for _, a := range d.Line.Args {
					opts.IncludeGlobs = append(opts.IncludeGlobs, a.Text)
				}
			}
		}
		sshd := findSSHD(c.String("sshd"))
		switch {
		case t.image && !c.Bool("validate"):
			rep.Notes = append(rep.Notes, "not validated with sshd -t: --root is an image (add --validate to run this system's sshd on it)")
		case sshd == "":
			rep.Notes = append(rep.Notes, "not validated: no sshd found (give --sshd PATH)")
		default:
			cfgPath := t.config
			if t.image {
				cfgPath = filepath.Join(t.root, t.config)
			}
			opts.Validate = suggest.SSHDValidator(sshd, cfgPath)
			rep.Validated = true
		}
		res, err := suggest.Apply(c.Context, plan.Changes, opts)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		rep.Applied = true
		for _, b := range res.Backups {
			rep.Backups = append(rep.Backups, t.display(b))
		}
	}
	rep.Phase = string(phaseOf(c, rep))
	sf := stepFacts(c, t, cfg, rep, facts)
	rep.NextSteps = suggest.NextSteps(sf)
	rep.Notes = append(rep.Notes, sf.Host.Notes...)
	return e.finishSuggest(t, rep)
}

func (e *env) finishSuggest(t target, rep *suggestReport) error {
	if t.json {
		writeJSON(e.stdout, rep)
		return nil
	}
	printSuggest(e.stdout, rep)
	return nil
}

// mergeFacts adds a later probe's listeners and bind results to f.
func mergeFacts(f, g checker.Facts) checker.Facts {
	f.Probes = append(f.Probes, g.Probes...)
	for _, l := range g.Listeners {
		if !slices.Contains(f.Listeners, l) {
			f.Listeners = append(f.Listeners, l)
		}
	}
	return f
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

func intsJoin(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
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
