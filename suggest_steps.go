package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/hostenv"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

// phaseOf names where this run of suggest stands in a migration.
func phaseOf(c *cli.Context, r *suggestReport) suggest.Phase {
	switch {
	case c.Bool("keep-old"):
		return suggest.PhaseKeepOld
	case c.Bool("finish") || slices.Contains(r.Previous, r.Port):
		return suggest.PhaseFinish
	}
	return suggest.PhaseMove
}

// invocation is how to call sshport again on the same target.
func (t target) invocation() string {
	cmd := "sshport"
	if t.image {
		cmd += " --root " + suggest.ShellQuote(t.rootArg)
	}
	if t.config != sshcfg.DefaultConfig {
		cmd += " -f " + suggest.ShellQuote(t.config)
	}
	return cmd
}

// stepFacts gathers what the next steps depend on: the change, and what
// surrounds sshd on the system (or image).
func stepFacts(c *cli.Context, t target, cfg *sshcfg.Config, r *suggestReport, facts checker.Facts) suggest.StepFacts {
	f := suggest.StepFacts{
		Phase:         suggest.Phase(r.Phase),
		Old:           r.Previous,
		Ports:         r.Ports,
		New:           r.Port,
		Applied:       r.Applied,
		Sshport:       t.invocation(),
		Image:         t.image,
		Root:          t.rootArg,
		Config:        t.config,
		DefaultConfig: t.config == sshcfg.DefaultConfig,
		PidFile:       pidFile(cfg),
		Reserved:      facts.Reserved,
	}
	if !r.Applied {
		cmd := f.Sshport + " suggest --port " + fmt.Sprint(r.Port)
		switch f.Phase {
		case suggest.PhaseKeepOld:
			cmd += " --keep-old"
		case suggest.PhaseFinish:
			cmd += " --finish"
		}
		if r.Compromise || r.Forced {
			cmd += " --force"
		}
		f.ApplyCommand = cmd + " --apply"
	}
	if facts.OS == "linux" && facts.Ephemeral.Contains(r.Port) {
		f.Reserve = true
	}
	// Live, hostenv may run `nft -j list ruleset` and `semanage port -l`.
	// What starts sshd it reads with checker.ReadService, as check does.
	f.Host = hostenv.Detect(c.Context, t.root, hostenv.Options{Live: !t.image, OldPorts: r.Previous, NewPort: r.Port})
	return f
}

// pidFile returns the PidFile sshd's configuration sets, "" when unset.
func pidFile(cfg *sshcfg.Config) string {
	for d := range cfg.Directives() {
		if d.Key == "pidfile" && d.Active && len(d.Line().Args) > 0 {
			return d.Line().Args[0].Text
		}
	}
	return ""
}

// printSteps prints the next steps as a numbered list, each with its
// commands and when to run it.
func printSteps(w io.Writer, r *suggestReport) {
	if len(r.NextSteps) == 0 {
		return
	}
	switch suggest.Phase(r.Phase) {
	case suggest.PhaseKeepOld:
		fmt.Fprintf(w, "\nNext steps (phase 1 of 2: sshd listens on %s; `suggest --finish` is phase 2):\n", intsJoin(r.Ports))
	case suggest.PhaseFinish:
		fmt.Fprintf(w, "\nNext steps (phase 2 of 2: dropping %s, keeping %d):\n", intsJoin(without(r.Previous, r.Port)), r.Port)
	default:
		fmt.Fprintf(w, "\nNext steps (moving %s to %d in one go; --keep-old does it in two phases):\n", intsJoin(r.Previous), r.Port)
	}
	for i, s := range r.NextSteps {
		fmt.Fprintf(w, "  %d. [%s] %s\n", i+1, s.ID, s.Why)
		for _, c := range s.Commands {
			fmt.Fprintf(w, "       $ %s\n", c)
		}
		fmt.Fprintf(w, "     when: %s\n", s.When)
	}
}

func without(ps []int, p int) []int {
	return slices.DeleteFunc(slices.Clone(ps), func(q int) bool { return q == p })
}

// staleSSHDPorts returns the ports the running sshd of this configuration
// listens on beside the configured ones (checker.StaleListeners, the
// reading check's not-applied finding uses): after phase 2 they say the
// reload has not happened yet.
func (e *env) staleSSHDPorts(c *cli.Context, t target, cfg *sshcfg.Config, configured []int) ([]int, error) {
	f, err := e.prober.Probe(c.Context, checker.Request{Live: true, SSHD: true, PIDFiles: pidFiles(cfg)})
	if err != nil {
		return nil, err
	}
	var exp checker.Expect
	for _, p := range configured {
		exp.Endpoints = append(exp.Endpoints, suggest.Endpoints(cfg, p, false)...)
	}
	var stale []int
	for _, l := range checker.StaleListeners(checker.Live{Config: t.config, Facts: &f}, exp) {
		stale = append(stale, l.Port)
	}
	slices.Sort(stale)
	return slices.Compact(stale), nil
}

// sshdPID returns the pid in the running sshd's PidFile on this system (0
// when there is none). "PidFile none" is none, not a file named "none" in
// sshport's working directory.
func sshdPID(cfg *sshcfg.Config) int {
	for _, pf := range pidFiles(cfg) {
		if b, err := os.ReadFile(pf); err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return pid
		}
	}
	return 0
}

// finishNotInEffect refuses phase 2 (--finish, or plain suggest keeping a
// safe port the configuration already has) when the running sshd of this
// configuration (the pid in its PidFile) listens on old ports but not on
// the port phase 2 keeps: phase 1 was written but sshd was not reloaded, so
// the new port has never answered. Dropping the old ports then would leave
// sshd, at its next reload, on a port nobody has checked (and phase 2's
// steps no longer open it in a firewall). When no running sshd is seen,
// nothing is refused.
func (e *env) finishNotInEffect(c *cli.Context, t target, cfg *sshcfg.Config, d suggest.Decision) error {
	pid := sshdPID(cfg)
	if pid <= 0 {
		return nil
	}
	// Decide's facts name the owners of the current ports already.
	var on []int
	for _, l := range d.Facts.Listeners {
		if l.PID == pid && slices.Contains(d.Current, l.Port) && !slices.Contains(on, l.Port) {
			on = append(on, l.Port)
		}
	}
	if len(on) == 0 || slices.Contains(on, d.Port) {
		return nil
	}
	slices.Sort(on)
	prefix := ""
	if c.Bool("finish") {
		prefix = "--finish: "
	}
	return fmt.Errorf("%sthe running sshd (pid %d) listens on %s but not yet on %d, the port phase 2 keeps: phase 1 is not in effect; reload sshd as phase 1's next steps say, check the new port (%s verify --port %d), then finish; nothing was written",
		prefix, pid, intsJoin(on), d.Port, t.invocation(), d.Port)
}
