package suggest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/sshcfg"
)

// Options is what the user asked of Decide.
type Options struct {
	// Port, when not 0, is the port asked for (--port): refused when it is
	// not safe, unless Force.
	Port  int
	Force bool
	// Range limits the search; the zero value means checker.IANARegistered.
	Range checker.Range
	// KeepOld keeps the current ports beside the new one (phase 1 of a
	// migration); Finish keeps the safe port sshd already listens on and
	// drops the others (phase 2). At most one of them.
	KeepOld bool
	Finish  bool
	// Live says the system's sockets are checked: the running system, or an
	// image with --probe. Every port Decide returns as free has then been
	// bind-probed on the addresses sshd would bind.
	Live bool
	// Root is the system looked at, handed to the prober; nil for the
	// running system.
	Root *rootfs.Root
	// Command is how the user runs sshport on this configuration
	// ("sshport -f /x"), for the messages that name the next run; ""
	// means "sshport".
	Command string
}

// MaxProbes bounds the choose-and-verify loop: a live system where this
// many chosen ports in a row turn out busy is an error, not a long wait.
const MaxProbes = 64

// Decision is the port sshd should listen on and why.
type Decision struct {
	Port    int   // the port to move to (or keep)
	Current []int // the ports sshd listens on now, in order
	// Change is false when nothing needs to change (the current ports are
	// already safe); Port is then the first of them.
	Change bool
	Why    []string
	// Compromise: no port in the range was safe and Port gives something
	// up (Why says what). Forced: --port --force took an unsafe port.
	Compromise, Forced bool
	// Probed says Port was bind-probed on this system.
	Probed bool
	// Finished: with Options.Finish, the configuration already listens
	// on the safe port only (phase 2 is written; Change is false).
	Finished bool
	// Facts are the host facts the decision was made with.
	Facts checker.Facts
}

// RefusedError is Decide's error for a --port that is not safe.
type RefusedError struct {
	Port     int
	Findings []checker.Finding
	// Forceable is false when --force cannot help (the port is in use).
	Forceable bool
}

func (e *RefusedError) Error() string {
	var msgs []string
	for _, f := range e.Findings {
		msgs = append(msgs, fmt.Sprintf("[%s] %s", f.Code, f.Message))
	}
	hint := " (use --force to take it anyway)"
	if !e.Forceable {
		hint = " (sshd could not bind it: --force does not override a port in use)"
	}
	return fmt.Sprintf("port %d refused: %s%s", e.Port, strings.Join(msgs, "; "), hint)
}

// Safe reports whether the findings leave a port safe: none at all. It is
// the one definition of "safe" that check (exit 0, "OK: safe to keep") and
// suggest (keeps a port, or picks one) share.
func Safe(fs []checker.Finding) bool { return len(fs) == 0 }

// Decide chooses the port sshd should listen on, in this order:
//   - with o.Port: that port, refused when not safe unless o.Force (a port
//     in use is refused even then: sshd could not bind it); with o.Finish
//     it must be one sshd listens on already;
//   - with o.Finish and no current port safe: an error (there is no
//     migration to finish);
//   - when every current port is safe: no change;
//   - when some current port is safe (a migration half done): keep the
//     first safe one and drop the others (with KeepOld: no change);
//   - otherwise the first safe port of Choose's order in o.Range, or the
//     least compromise. When o.Live, each chosen port is bind-probed on
//     the addresses sshd would bind; one found in use is skipped and the
//     next is chosen, compromise or not, up to MaxProbes times.
func Decide(ctx context.Context, cfg *sshcfg.Config, prober checker.Prober, o Options) (Decision, error) {
	current := ListenPorts(cfg)
	d := Decision{Current: current}
	if o.KeepOld && o.Finish {
		return d, fmt.Errorf("--finish and --keep-old are the two phases of a migration: give one")
	}
	command := o.Command
	if command == "" {
		command = "sshport"
	}
	if o.Finish && o.Port != 0 && !slices.Contains(current, o.Port) {
		return d, fmt.Errorf("--finish --port %d: phase 2 keeps a port sshd already listens on (now: %s)", o.Port, joinInts(current))
	}
	req := checker.Request{Live: o.Live, Root: o.Root, Owners: current}
	for _, p := range current {
		req.Bind = append(req.Bind, Endpoints(cfg, p, false)...)
	}
	facts, err := prober.Probe(ctx, req)
	if err != nil {
		return d, err
	}
	d.Facts = facts
	// probe adds the facts of a bind probe of port's addresses.
	probe := func(port int) error {
		f, err := prober.Probe(ctx, checker.Request{Live: true, Root: o.Root, Owners: []int{port}, Bind: Endpoints(cfg, port, true)})
		if err != nil {
			return err
		}
		d.Facts = mergeFacts(d.Facts, f)
		return nil
	}
	judge := func(p int) []checker.Finding {
		own := slices.Contains(current, p)
		return checker.Check(checker.Candidate{Port: p, SSHDOwn: own, Endpoints: Endpoints(cfg, p, !own)}, d.Facts)
	}

	if o.Port != 0 {
		if o.Port < 1 || o.Port > 65535 {
			return d, fmt.Errorf("--port %d: not a port number 1-65535", o.Port)
		}
		d.Port, d.Change = o.Port, true
		if o.Live && !slices.Contains(current, o.Port) {
			// Listing misses sockets bound but not listening.
			if err := probe(o.Port); err != nil {
				return d, err
			}
		}
		d.Probed = o.Live
		fs := judge(o.Port)
		if Safe(fs) {
			d.Why = safeBecause(o.Port, d.Facts)
			return d, nil
		}
		busy := slices.ContainsFunc(fs, func(f checker.Finding) bool { return f.Code == checker.CodeInUse && f.Severity == checker.SevError })
		if !o.Force || busy {
			return d, &RefusedError{Port: o.Port, Findings: fs, Forceable: !busy}
		}
		for _, f := range fs {
			d.Why = append(d.Why, "forced despite: "+f.Message)
		}
		d.Forced = true
		return d, nil
	}

	var safe []int
	for _, p := range current {
		if Safe(judge(p)) {
			safe = append(safe, p)
		}
	}
	switch {
	case o.Finish && len(safe) == 0:
		return d, fmt.Errorf("--finish: sshd listens on no safe port beside %s, so there is no migration to finish (phase 1 is: %s suggest --keep-old --apply)", joinInts(current), command)
	case len(safe) == len(current) && o.Finish:
		d.Port, d.Finished = current[0], true
		d.Why = []string{fmt.Sprintf("the migration is finished: sshd is configured for %s only: nothing to change", joinInts(current))}
		return d, nil
	case len(safe) == len(current):
		d.Port = current[0]
		d.Why = []string{fmt.Sprintf("sshd already listens only on safe ports (%s): nothing to change", joinInts(current))}
		return d, nil
	case len(safe) > 0 && o.KeepOld:
		d.Port = safe[0]
		rest := slices.DeleteFunc(slices.Clone(current), func(p int) bool { return p == d.Port })
		d.Why = []string{fmt.Sprintf("phase 1 is done: sshd already listens on the safe port %d beside the old ones (%s); phase 2 drops them: %s suggest --finish --apply", safe[0], joinInts(rest), command)}
		return d, nil
	case len(safe) > 0:
		// Finishing a migration: keep the safe port sshd already listens
		// on (the one clients were moved to) and drop the rest. It was
		// bind-probed with the current ports.
		d.Port, d.Change, d.Probed = safe[0], true, o.Live
		rest := slices.DeleteFunc(slices.Clone(current), func(p int) bool { return p == d.Port })
		d.Why = []string{fmt.Sprintf("%d is already configured and safe: keeping it and dropping %s", d.Port, joinInts(rest))}
		return d, nil
	}

	avoid := slices.Clone(current)
	for _, la := range cfg.ListenAddresses {
		if la.Port != 0 {
			avoid = append(avoid, la.Port)
		}
	}
	var busy []int
	for range MaxProbes {
		ch, err := Choose(ChooseOptions{Screen: checker.NewScreen(d.Facts), Facts: d.Facts, Range: o.Range, Avoid: avoid})
		if err != nil {
			if len(busy) > 0 {
				err = fmt.Errorf("%w (a bind probe found %s in use)", err, joinInts(busy))
			}
			return d, err
		}
		d.Port, d.Change, d.Why, d.Compromise = ch.Port, true, ch.Why, ch.Compromise
		if !o.Live {
			return d, nil
		}
		if err := probe(ch.Port); err != nil {
			return d, err
		}
		if !inUse(judge(ch.Port)) {
			d.Probed = true
			return d, nil
		}
		// Busy, whatever else was given up: never returned as free.
		avoid = append(avoid, ch.Port)
		busy = append(busy, ch.Port)
	}
	return d, fmt.Errorf("no free port found: the last %d ports chosen (%s) were all in use", MaxProbes, joinInts(busy))
}

func inUse(fs []checker.Finding) bool {
	return slices.ContainsFunc(fs, func(f checker.Finding) bool { return f.Code == checker.CodeInUse })
}

// Endpoints returns the addresses sshd binds for port: those of its
// endpoints on port, or, for a candidate (a port sshd does not use yet),
// every address it listens on, since the edit moves them all.
func Endpoints(cfg *sshcfg.Config, port int, candidate bool) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ep := range cfg.Listen {
		if ep.Port != port && !candidate {
			continue
		}
		a, err := netip.ParseAddr(ep.Address)
		if err != nil {
			continue
		}
		ap := netip.AddrPortFrom(a.WithZone(""), uint16(port))
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}

// mergeFacts adds a later probe's listeners and bind results to f.
func mergeFacts(f, g checker.Facts) checker.Facts {
	f.Probes = append(slices.Clone(f.Probes), g.Probes...)
	for _, l := range g.Listeners {
		if !slices.Contains(f.Listeners, l) {
			f.Listeners = append(f.Listeners, l)
		}
	}
	return f
}

func joinInts(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}
