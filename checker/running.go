package checker

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
)

// Finding codes about the service manager and the running sshd.
const (
	CodePortOverridden   = "port-overridden"   // a Port line binds nothing (info)
	CodeSocketActivation = "socket-activation" // a systemd socket, not sshd, binds the port
	CodeCmdlinePort      = "cmdline-port"      // sshd's command line (-p, -o Port=) sets the port
	CodeCmdlineConfig    = "cmdline-config"    // the service runs sshd with another -f file
	CodeForeignListener  = "foreign-listener"  // another sshd (or socket unit) holds an endpoint
	CodeNotApplied       = "not-applied"       // the running sshd listens elsewhere: reload pending
	CodeNotRunning       = "not-running"       // nothing listens for this configuration (info)
	CodeIPv6Unreachable  = "ipv6-unreachable"  // the host has IPv6, sshd binds IPv4 only (info)
	CodeIPv4Unreachable  = "ipv4-unreachable"  // the host has IPv4, sshd binds IPv6 only (info)
)

// SevInfo is for findings that describe rather than warn: they do not make
// check exit 1.
const SevInfo = "info"

// SSHDProcess is a running sshd that listens (the daemon, not a session):
// its pid and command line, as /proc/PID/cmdline gives them.
type SSHDProcess struct {
	PID  int
	Argv []string
	Unit string // the systemd unit whose cgroup holds it, when known
}

// Config returns the configuration file p runs: its -f, or sshd's default.
// A relative -f is taken from / (systemd and rc start sshd there).
func (p SSHDProcess) Config() string {
	c := "/etc/ssh/sshd_config"
	for _, a := range ParseSSHDArgs(p.Argv) {
		if a.Flag == "f" {
			c = a.Value
		}
	}
	if !strings.HasPrefix(c, "/") {
		c = "/" + c
	}
	return path.Clean(c)
}

// Holder says who holds a listener, for Candidate.Holder.
type Holder int

// Holders.
const (
	HolderOther   Holder = iota // another program: in-use
	HolderOurs                  // this configuration's sshd or socket unit: expected
	HolderForeign               // another sshd, or a socket unit that is not this configuration's
)

// Live says what "this configuration's sshd" is, to tell the listeners of
// the running system apart.
type Live struct {
	Config string // the configuration file, as sshd names it (absolute)
	// Socket: a systemd socket unit binds the ports (ServiceFacts.SocketActive),
	// so a listener of systemd (pid 1) is this configuration's.
	Socket bool
	Facts  *Facts
}

// process returns the sshd process of pid, if it is one.
func (lv Live) process(pid int) (SSHDProcess, bool) {
	for _, p := range lv.Facts.SSHD {
		if p.PID == pid {
			return p, true
		}
	}
	return SSHDProcess{}, false
}

// Holder classifies l's owner. An sshd whose command line is unknown (not
// found in Facts.SSHD) counts as this configuration's: it may well be.
func (lv Live) Holder(l Listener) Holder {
	if l.PID == 1 && l.Process == "systemd" {
		if lv.Socket {
			return HolderOurs
		}
		return HolderForeign
	}
	if l.Process != "sshd" {
		return HolderOther
	}
	p, ok := lv.process(l.PID)
	if !ok || p.Config() == path.Clean(lv.Config) {
		return HolderOurs
	}
	return HolderForeign
}

// Describe names l's owner: "pid 812 (sshd -D -f /etc/ssh/other_config)"
// for a known sshd, else as [Listener.Owner].
func (lv Live) Describe(l Listener) string {
	if p, ok := lv.process(l.PID); ok && l.Process == "sshd" {
		return fmt.Sprintf("pid %d (%s)", p.PID, strings.Join(p.Argv, " "))
	}
	return l.Owner()
}

// Ours returns the running sshd daemons that run the configuration.
func (lv Live) Ours() []SSHDProcess {
	var out []SSHDProcess
	for _, p := range lv.Facts.SSHD {
		if p.Config() == path.Clean(lv.Config) {
			out = append(out, p)
		}
	}
	return out
}

// Expect is where this configuration's sshd should listen, and what to do
// when it does not.
type Expect struct {
	Endpoints []netip.AddrPort // IPv6 endpoints are IPv6-only (as sshd binds them)
	// Apply names the step that makes a running sshd take a changed file:
	// "systemctl reload ssh.service", "systemctl daemon-reload && systemctl restart ssh.socket";
	// "" for an sshd no service manager runs ("kill -HUP PID" is named).
	Apply string
}

// RunningFindings compares the live listeners with e: not-applied when this
// configuration's sshd (or socket) listens but not on every endpoint of e,
// not-running (info) when nothing of it listens at all. The port of a
// finding is the first missing endpoint's (after --keep-old, the new port:
// the old ones are listened on and fine).
func RunningFindings(lv Live, e Expect) []Finding {
	if len(e.Endpoints) == 0 {
		return nil
	}
	held := map[netip.AddrPort]bool{}
	var ours []string // endpoints our sshd or socket holds
	for _, l := range lv.Facts.Listeners {
		if lv.Holder(l) != HolderOurs || (l.Process != "sshd" && l.PID != 1) {
			continue
		}
		ep := l.Endpoint()
		ours = append(ours, ep.String())
		held[ep] = true
		if l.Addr.Is6() && l.Addr.IsUnspecified() && !l.V6Only {
			held[netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(l.Port))] = true
		}
	}
	var missing []string
	port := 0
	for _, ep := range e.Endpoints {
		if !held[netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())] {
			missing = append(missing, ep.String())
			if port == 0 {
				port = int(ep.Port())
			}
		}
	}
	procs := lv.Ours()
	if len(missing) == 0 {
		return staleFindings(lv, e)
	}
	if len(ours) == 0 && len(procs) == 0 {
		if held := heldByOthers(lv, e); held {
			return nil // in-use or foreign-listener says it
		}
		return []Finding{{port, CodeNotRunning, SevInfo,
			fmt.Sprintf("nothing listens on %s for this configuration: sshd is not running (or runs in another network namespace)", strings.Join(missing, ", "))}}
	}
	who := "this configuration's sshd"
	if lv.Socket {
		who = "the socket unit (systemd, pid 1)"
	}
	apply := e.Apply
	if len(procs) > 0 {
		who = fmt.Sprintf("sshd pid %d (%s)", procs[0].PID, strings.Join(procs[0].Argv, " "))
		if apply == "" {
			apply = fmt.Sprintf("kill -HUP %d", procs[0].PID)
		}
	}
	if apply == "" {
		apply = "a reload (SIGHUP) of the sshd daemon"
	}
	if len(ours) == 0 {
		return []Finding{{port, CodeNotApplied, SevWarning,
			fmt.Sprintf("%s runs but listens on none of %s: a restart is pending (%s)", who, strings.Join(missing, ", "), apply)}}
	}
	slices.Sort(ours)
	ours = slices.Compact(ours)
	return []Finding{{port, CodeNotApplied, SevWarning,
		fmt.Sprintf("the configuration says %s, but %s listens on %s: the change is not applied yet (%s)", strings.Join(missing, ", "), who, strings.Join(ours, ", "), apply)}}
}

// StaleListeners returns the listeners a running sshd of this
// configuration (known by its command line, so never a socket unit or an
// sshd of another configuration) holds on ports the configuration no longer
// has: after phase 2 of a migration, the reload that drops the old port is
// pending. The Facts must come from a Request with SSHD set.
func StaleListeners(lv Live, e Expect) []Listener {
	pids := map[int]bool{}
	for _, p := range lv.Ours() {
		pids[p.PID] = true
	}
	want := map[int]bool{}
	for _, ep := range e.Endpoints {
		want[int(ep.Port())] = true
	}
	var out []Listener
	for _, l := range lv.Facts.Listeners {
		if pids[l.PID] && l.Process == "sshd" && !want[l.Port] {
			out = append(out, l)
		}
	}
	return out
}

// staleFindings says, as a not-applied warning, what StaleListeners found.
func staleFindings(lv Live, e Expect) []Finding {
	ls := StaleListeners(lv, e)
	if len(ls) == 0 {
		return nil
	}
	var stale []string
	for _, l := range ls {
		stale = append(stale, l.Endpoint().String())
	}
	slices.Sort(stale)
	stale = slices.Compact(stale)
	port, pid := ls[0].Port, ls[0].PID
	apply := e.Apply
	if apply == "" {
		apply = fmt.Sprintf("kill -HUP %d", pid)
	}
	return []Finding{{port, CodeNotApplied, SevWarning,
		fmt.Sprintf("sshd pid %d still listens on %s, which the configuration no longer has: the change is not applied yet (%s)", pid, strings.Join(stale, ", "), apply)}}
}

func heldByOthers(lv Live, e Expect) bool {
	for _, l := range lv.Facts.Listeners {
		for _, ep := range e.Endpoints {
			if l.Port == int(ep.Port()) && Blocks(l.Addr, l.V6Only, ep.Addr(), ep.Addr().Is6()) {
				return true
			}
		}
	}
	return false
}

// SingleFamily reports whether the non-loopback endpoints are all of one
// family: only then can FamilyFindings say anything (and Request.Families
// is worth asking).
func SingleFamily(eps []netip.AddrPort) bool {
	var v4, v6 bool
	for _, ep := range eps {
		if a := ep.Addr().Unmap(); !a.IsLoopback() {
			v4, v6 = v4 || a.Is4(), v6 || a.Is6()
		}
	}
	return v4 != v6
}

// FamilyFindings reports an address family the host has and sshd does not
// bind (info): ipv6-unreachable when the host has a non-loopback IPv6
// address and every endpoint is IPv4, ipv4-unreachable the reverse. Facts
// without HostFamilies (an image) give none; loopback endpoints do not count.
func FamilyFindings(eps []netip.AddrPort, f *Facts) []Finding {
	if len(eps) == 0 || f.HostFamilies == nil {
		return nil
	}
	var v4, v6 bool
	for _, ep := range eps {
		a := ep.Addr().Unmap()
		if a.IsLoopback() {
			continue // loopback is not meant to be reached from elsewhere
		}
		if a.Is4() {
			v4 = true
		} else {
			v6 = true
		}
	}
	has := func(fam string) bool { return slices.Contains(f.HostFamilies, fam) }
	port := int(eps[0].Port())
	switch {
	case v4 && !v6 && has("inet6"):
		return []Finding{{port, CodeIPv6Unreachable, SevInfo,
			"this host has IPv6 addresses, but sshd binds IPv4 only: clients reaching it over IPv6 get no answer (add ListenAddress :: or drop the IPv4-only setting if that is not meant)"}}
	case v6 && !v4 && has("inet"):
		return []Finding{{port, CodeIPv4Unreachable, SevInfo,
			"this host has IPv4 addresses, but sshd binds IPv6 only (its IPv6 sockets are IPv6-only): clients reaching it over IPv4 get no answer"}}
	}
	return nil
}
