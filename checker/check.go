package checker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Finding codes. They are stable: scripts may match on them.
const (
	CodeDefaultPort  = "default-port"  // port 22
	CodeWellKnown    = "well-known"    // 0-1023
	CodeEphemeralOS  = "ephemeral-os"  // inside the OS ephemeral range, not reserved
	CodeDynamicIANA  = "dynamic-iana"  // 49152-65535
	CodeIANAAssigned = "iana-assigned" // IANA assigns the port to another TCP service
	CodeInUse        = "in-use"        // another socket holds an address sshd would bind
	CodeDuplicate    = "duplicate"     // the port is configured more than once
	CodeScannerPort  = "scanner-port"  // an alternate SSH port scanners try right after 22
)

// ScannerPorts are the alternate SSH ports that internet-wide scanners and
// SSH honeypots try right after 22, because admins so often move sshd there.
// A port among them is not safe (finding scanner-port), even one IANA
// leaves unassigned (10022): check reports it and suggest never picks it.
var ScannerPorts = []int{222, 1022, 2022, 2200, 2222, 8022, 10022, 22222}

// Severities.
const (
	SevError   = "error"
	SevWarning = "warning"
)

// Finding is one problem with one port.
type Finding struct {
	Port     int
	Code     string
	Severity string
	Message  string
}

// Candidate is a port sshd listens on, or would.
type Candidate struct {
	Port int
	// Endpoints are the addresses sshd binds for Port (only their addresses
	// are used). Empty means sshd's default, 0.0.0.0 and [::]. sshd sets
	// IPV6_V6ONLY on its IPv6 sockets, so IPv6 endpoints are IPv6-only.
	Endpoints []netip.AddrPort
	// SSHDOwn says Port is one of sshd's configured ports: a listener owned
	// by a process named sshd, or by systemd (pid 1, socket activation), is
	// then expected, not a conflict.
	SSHDOwn bool
	// Holder, when set, classifies a listener's owner (see [Live.Holder]):
	// an sshd that is not this configuration's is reported as
	// foreign-listener. Nil keeps the SSHDOwn rule.
	Holder func(Listener) Holder
	// Describe, when set, names a listener's owner in messages instead of
	// [Listener.Owner] (see [Live.Describe]).
	Describe func(Listener) string
	// Others are the other configured ports (this occurrence left out); Port
	// among them is a duplicate.
	Others []int
}

var defaultEndpoints = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}

// Check judges one candidate against the host facts. It makes no system
// call. Findings come in a fixed order: in-use, duplicate, default-port,
// well-known, iana-assigned, ephemeral-os, dynamic-iana, scanner-port.
// A port with no finding is safe: that is the one definition check and
// suggest share.
//
// Severity is "error" for in-use (sshd would fail to bind), except that an
// unknown owner on sshd's own port is a "warning" (it may be sshd itself,
// seen without the right to read its /proc entry); every other finding is a
// "warning".
func Check(c Candidate, f Facts) []Finding {
	var out []Finding
	out = append(out, inUse(c, f)...)
	n := 0
	for _, o := range c.Others {
		if o == c.Port {
			n++
		}
	}
	if n > 0 {
		out = append(out, Finding{c.Port, CodeDuplicate, SevWarning,
			fmt.Sprintf("port %d is configured %d times; sshd binds it once and logs \"Address already in use\" for the rest", c.Port, n+1)})
	}
	r := classify(c.Port, &f)
	for _, code := range r.Codes() {
		if code == CodeInUse {
			continue
		}
		out = append(out, Finding{c.Port, code, SevWarning, message(code, c.Port, &f)})
	}
	return out
}

func message(code string, port int, f *Facts) string {
	switch code {
	case CodeDefaultPort:
		return "port 22 is sshd's default: every scanner and brute-force bot tries it first"
	case CodeWellKnown:
		return fmt.Sprintf("port %d is in the well-known range 0-1023 (IANA system ports)", port)
	case CodeIANAAssigned:
		a, _ := IANA(port)
		s := fmt.Sprintf("port %d is assigned by IANA to %s", port, a.Names[0])
		if len(a.Names) > 1 {
			s += " (also " + strings.Join(a.Names[1:], ", ") + ")"
		}
		if a.Description != "" {
			s += ": " + a.Description
		}
		return s
	case CodeEphemeralOS:
		return fmt.Sprintf("port %d is inside the OS ephemeral range %s (%s): an outgoing connection may hold it when sshd starts", port, f.Ephemeral, f.EphemeralSource)
	case CodeDynamicIANA:
		return fmt.Sprintf("port %d is in IANA's dynamic range 49152-65535, meant for ephemeral ports", port)
	case CodeScannerPort:
		return fmt.Sprintf("port %d is an alternate SSH port that scanners and honeypots probe right after 22", port)
	}
	return code
}

// Blocks reports whether a TCP socket bound (and listening) at held makes a
// bind of want on the same port fail with EADDRINUSE, both sockets using
// SO_REUSEADDR and neither SO_REUSEPORT, as on Linux. V6Only flags matter
// only for IPv6 addresses; IPv4-mapped addresses count as IPv4.
//
//   - same family: equal addresses, or either one the wildcard, conflict;
//   - a dual-stack (not IPv6-only) [::] holds every IPv4 address, so it
//     blocks 0.0.0.0 and 127.0.0.1, and any IPv4 socket blocks binding a
//     dual-stack [::];
//   - a dual-stack socket on a specific IPv6 address (::1) holds no IPv4
//     address (Linux 6.18 lets 0.0.0.0 bind beside it; some older kernels
//     refused);
//   - an IPv6-only socket and an IPv4 socket never conflict.
func Blocks(held netip.Addr, heldV6Only bool, want netip.Addr, wantV6Only bool) bool {
	held, want = held.Unmap(), want.Unmap()
	switch {
	case held.Is4() == want.Is4():
		return held == want || held.IsUnspecified() || want.IsUnspecified()
	case held.Is6(): // want is IPv4
		return !heldV6Only && held.IsUnspecified()
	default: // held IPv4, want IPv6
		return !wantV6Only && want.IsUnspecified()
	}
}

func expectedOwner(l Listener) bool {
	return l.Process == "sshd" || (l.PID == 1 && l.Process == "systemd")
}

func inUse(c Candidate, f Facts) []Finding {
	addrs := defaultEndpoints
	if len(c.Endpoints) > 0 {
		addrs = make([]netip.Addr, len(c.Endpoints))
		for i, e := range c.Endpoints {
			addrs[i] = e.Addr().Unmap()
		}
	}
	var out []Finding
	blocks := func(a netip.Addr, v6only bool) (bool, []netip.Addr) {
		var hit []netip.Addr
		for _, w := range addrs {
			if Blocks(a, v6only, w, w.Is6()) {
				hit = append(hit, w)
			}
		}
		return len(hit) > 0, hit
	}
	explained := map[netip.Addr]bool{} // candidate addresses a listener accounts for
	for _, l := range f.Listeners {
		if l.Port != c.Port {
			continue
		}
		ok, hit := blocks(l.Addr, l.V6Only)
		if !ok {
			continue
		}
		for _, h := range hit {
			explained[h] = true
		}
		code := CodeInUse
		if c.Holder != nil {
			switch c.Holder(l) {
			case HolderOurs:
				if c.SSHDOwn {
					continue
				}
			case HolderForeign:
				code = CodeForeignListener
			}
		} else if c.SSHDOwn && expectedOwner(l) {
			continue
		}
		sev := SevError
		owner := l.Owner()
		if c.Describe != nil {
			owner = c.Describe(l)
		}
		if l.PID == 0 && c.SSHDOwn {
			sev = SevWarning
			owner += " (perhaps sshd itself: run as root to see the owner)"
		}
		where := netip.AddrPortFrom(l.Addr, uint16(l.Port)).String()
		if l.Addr.Is6() && l.Addr.IsUnspecified() && !l.V6Only {
			where += " (dual-stack)"
		}
		msg := fmt.Sprintf("port %d is in use: %s is listened on by %s, so sshd cannot bind %s", c.Port, where, owner, joinAddrs(hit, c.Port))
		if code == CodeForeignListener {
			msg = fmt.Sprintf("port %d is held by another sshd: %s is listened on by %s, which does not run this configuration, so this one cannot bind %s", c.Port, where, owner, joinAddrs(hit, c.Port))
			if l.PID == 1 {
				msg = fmt.Sprintf("port %d is held by a systemd socket unit that is not this configuration's: %s is listened on by %s, so sshd cannot bind %s", c.Port, where, owner, joinAddrs(hit, c.Port))
			}
		}
		out = append(out, Finding{c.Port, code, sev, msg})
	}
	for _, p := range f.Probes {
		if !p.InUse || int(p.Endpoint.Port()) != c.Port {
			continue
		}
		a := p.Endpoint.Addr().Unmap()
		mine := false
		for _, w := range addrs {
			mine = mine || w == a
		}
		if !mine || explained[a] {
			continue
		}
		out = append(out, Finding{c.Port, CodeInUse, SevError,
			fmt.Sprintf("port %d is in use: binding %s failed (address in use) though nothing listens there: a socket bound but not listening, or the local end of a connection, holds it; owner unknown", c.Port, p.Endpoint)})
	}
	return out
}

func joinAddrs(as []netip.Addr, port int) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = netip.AddrPortFrom(a, uint16(port)).String()
	}
	return strings.Join(s, " and ")
}

// Reason is a set of reasons a port is not safe, one bit per finding code.
type Reason uint8

// Reasons, one per code.
const (
	ReasonDefaultPort Reason = 1 << iota
	ReasonWellKnown
	ReasonIANAAssigned
	ReasonEphemeralOS
	ReasonDynamicIANA
	ReasonInUse
	ReasonInvalid // not a port number 1-65535; code "invalid-port"
	ReasonScannerPort
)

var reasonCodes = [...]string{CodeDefaultPort, CodeWellKnown, CodeIANAAssigned, CodeEphemeralOS, CodeDynamicIANA, CodeInUse, "invalid-port", CodeScannerPort}

// Codes gives the finding codes in r, in a fixed order.
func (r Reason) Codes() []string {
	var out []string
	for i, c := range reasonCodes {
		if r&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// String joins the codes with commas; "" when r is empty (the port is safe).
func (r Reason) String() string { return strings.Join(r.Codes(), ",") }

func classify(port int, f *Facts) Reason {
	var r Reason
	if port == 22 {
		r |= ReasonDefaultPort
	}
	switch ClassOf(port) {
	case WellKnown:
		r |= ReasonWellKnown
	case Dynamic:
		r |= ReasonDynamicIANA
	}
	// 22 is IANA's ssh: that is sshd's own assignment, not another service's.
	if port != 22 && IANAAssigned(port) {
		r |= ReasonIANAAssigned
	}
	if f.Ephemeral.Contains(port) && !reserved(port, f.Reserved) {
		r |= ReasonEphemeralOS
	}
	if slices.Contains(ScannerPorts, port) {
		r |= ReasonScannerPort
	}
	return r
}

func reserved(port int, rs []Range) bool {
	for _, r := range rs {
		if r.Contains(port) {
			return true
		}
	}
	return false
}

// Screen answers "is this port safe?" for many ports against one set of
// facts, with no system call and no allocation per port: the cheap test
// suggest runs over thousands of candidates.
type Screen struct {
	f    Facts
	used [65536 / 64]uint64
}

// NewScreen indexes f. Any listener on a port (whatever its address), and any
// bind probe that found a port in use, marks that port in use.
func NewScreen(f Facts) *Screen {
	s := &Screen{f: f}
	mark := func(p int) { s.used[p/64] |= 1 << (p % 64) }
	for _, l := range f.Listeners {
		if l.Port >= 0 && l.Port <= 65535 {
			mark(l.Port)
		}
	}
	for _, p := range f.Probes {
		if p.InUse {
			mark(int(p.Endpoint.Port()))
		}
	}
	return s
}

// Reasons returns why port is not safe; 0 means safe. Duplicates are the
// caller's business (it knows the configuration).
func (s *Screen) Reasons(port int) Reason {
	if port < 1 || port > 65535 {
		return ReasonInvalid
	}
	r := classify(port, &s.f)
	if s.used[port/64]&(1<<(port%64)) != 0 {
		r |= ReasonInUse
	}
	return r
}

// Message explains one reason for port in the words Check uses.
func (s *Screen) Message(port int, code string) string {
	if code == CodeInUse {
		return fmt.Sprintf("port %d is in use", port)
	}
	return message(code, port, &s.f)
}
