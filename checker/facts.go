package checker

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sshport/sshport/internal/rootfs"
)

// Range is an inclusive range of ports.
type Range struct{ Lo, Hi int }

// Contains reports whether port lies in r.
func (r Range) Contains(port int) bool { return r.Lo <= port && port <= r.Hi }

// Valid reports whether r is a non-empty range of ports 0-65535.
func (r Range) Valid() bool { return 0 <= r.Lo && r.Lo <= r.Hi && r.Hi <= 65535 }

// String gives "LO-HI", or "P" for a single port.
func (r Range) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(r.Lo)
	}
	return strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi)
}

// ParseRanges parses a port list as Linux writes ip_local_reserved_ports:
// "8080,9000-9010", possibly empty, separated by commas and/or white space.
func ParseRanges(s string) ([]Range, error) {
	var out []Range
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		a, b, isRange := strings.Cut(f, "-")
		lo, err := strconv.Atoi(a)
		if err != nil {
			return nil, fmt.Errorf("bad port list item %q", f)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(b); err != nil {
				return nil, fmt.Errorf("bad port list item %q", f)
			}
		}
		r := Range{lo, hi}
		if !r.Valid() {
			return nil, fmt.Errorf("bad port range %q", f)
		}
		out = append(out, r)
	}
	return out, nil
}

// Methods of listing listening sockets, as recorded in Facts.ListenMethod.
const (
	MethodNetlink = "netlink"    // NETLINK_SOCK_DIAG dump of LISTEN sockets, per family
	MethodProc    = "proc"       // /proc/net/tcp and /proc/net/tcp6, state 0A
	MethodBind    = "bind-probe" // no list: only Request.Bind endpoints were tested
	MethodSkipped = "skipped"    // not asked (an image under Request.Root without Live)
)

// Listener is one listening TCP socket.
type Listener struct {
	Addr    netip.Addr // IPv4-mapped IPv6 addresses are given as IPv4
	Port    int
	V6Only  bool   // IPv6 socket that does not accept IPv4 (IPV6_V6ONLY)
	Inode   uint64 // socket inode, 0 when unknown
	PID     int    // owner, 0 when not looked up or not found
	Process string // owner's name (/proc/PID/comm); "unknown" when looked up and not found
}

// Endpoint gives the listener's address and port.
func (l Listener) Endpoint() netip.AddrPort { return netip.AddrPortFrom(l.Addr, uint16(l.Port)) }

// Owner describes the owning process: "pid 812 (nginx)" or "unknown".
func (l Listener) Owner() string {
	if l.PID > 0 {
		return fmt.Sprintf("pid %d (%s)", l.PID, l.Process)
	}
	return "unknown"
}

// ProbeResult is the outcome of a bind probe of one endpoint.
type ProbeResult struct {
	Endpoint netip.AddrPort
	V6Only   bool   // the probe socket was IPv6-only (sshd sets IPV6_V6ONLY)
	InUse    bool   // bind failed with EADDRINUSE
	Err      string // another failure (EACCES, EADDRNOTAVAIL, ...): the result says nothing
}

// Facts is everything checker needs to know about the host. A Prober fills
// it; tests and other packages may build one by hand.
type Facts struct {
	OS              string  // GOOS of the facts' system
	Ephemeral       Range   // ports the OS hands out to outgoing connections
	EphemeralSource string  // where Ephemeral comes from, in words
	Reserved        []Range // ports the OS never hands out as ephemeral
	Listeners       []Listener
	ListenMethod    string // one of the Method* constants
	Probes          []ProbeResult
	Notes           []string // caveats a user should read
	// SSHD are the running sshd daemons found (Request.SSHD), with their
	// command lines; their listeners carry their pid.
	SSHD []SSHDProcess
	// HostFamilies lists the address families ("inet", "inet6") of the
	// host's non-loopback addresses; nil when not known (an image).
	HostFamilies []string
}

// Request says what a Prober should find out.
type Request struct {
	// Root is the system looked at. When it is an image (Root.Image()),
	// the ephemeral range is read from the image's /proc/sys/... through
	// Root when present, and live sockets are skipped unless Live. nil
	// means the live system.
	Root *rootfs.Root
	Live bool
	// Owners lists ports whose listeners' owning process is looked up.
	Owners []int
	// Bind lists endpoints to bind-probe (SO_REUSEADDR, IPv6 sockets IPv6-only, as sshd).
	Bind []netip.AddrPort
	// SSHD asks for the running sshd daemons (Facts.SSHD): the owners of
	// listeners on Owners ports, the pids in PIDFiles, the cgroups of
	// ssh.service and sshd.service.
	SSHD     bool
	PIDFiles []string
	// Families asks for the address families of the host (Facts.HostFamilies).
	Families bool
	// Method forces a listing method (MethodNetlink or MethodProc); empty picks
	// the best available. A forced method that fails is an error.
	Method string
}

// Prober gathers host facts.
type Prober interface {
	Probe(ctx context.Context, req Request) (Facts, error)
}

// Static is a Prober that returns fixed Facts, for tests.
type Static struct{ Facts Facts }

// Probe returns s.Facts.
func (s Static) Probe(context.Context, Request) (Facts, error) { return s.Facts, nil }

// System is the Prober of the running system (its network namespace).
type System struct{}

// Probe gathers the facts of the running system, or of the image req.Root.
func (System) Probe(ctx context.Context, req Request) (Facts, error) {
	return probe(ctx, req)
}
