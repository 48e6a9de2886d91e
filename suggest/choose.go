package suggest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sshport/sshport/checker"
)

// Preferred is the port tried first: registered, unassigned by IANA, outside
// Linux's default ephemeral range 32768-60999 and not on scanners' lists.
const Preferred = 20022

// Choice is the port chosen and why.
type Choice struct {
	Port int
	// Why says in plain words why the port is safe, or what had to be given
	// up when no port was wholly safe.
	Why []string
	// Compromise is set when no port in the range passed every test and a
	// port that fails a lesser one was chosen (see Why).
	Compromise bool
}

// ChooseOptions says where to look and what to avoid.
type ChooseOptions struct {
	Screen *checker.Screen
	Facts  checker.Facts
	// Range limits the search; the zero value means checker.IANARegistered.
	Range checker.Range
	// Avoid lists ports already used by the configuration (Port and
	// ListenAddress ports) that must not be chosen.
	Avoid []int
}

// order returns the fixed candidate order: Preferred (when in the range),
// then upward to the range's top, then from its bottom up to Preferred.
func order(r checker.Range) []int {
	start := Preferred
	if !r.Contains(start) {
		start = r.Lo
	}
	out := make([]int, 0, r.Hi-r.Lo+1)
	for p := start; p <= r.Hi; p++ {
		out = append(out, p)
	}
	for p := r.Lo; p < start; p++ {
		out = append(out, p)
	}
	return out
}

// relaxable are the reasons sshport may give up when no port in the range
// passes every test. In-use, well-known, default and scanner ports are never
// given up.
const relaxable = checker.ReasonEphemeralOS | checker.ReasonIANAAssigned | checker.ReasonDynamicIANA

// cost orders what a compromise gives up: fewer reasons first; among as
// many, the ephemeral range (which the kernel can be told to reserve) before
// an IANA assignment before the dynamic range.
func cost(r checker.Reason) int {
	n, w := 0, 0
	for _, b := range []struct {
		r checker.Reason
		w int
	}{{checker.ReasonEphemeralOS, 1}, {checker.ReasonIANAAssigned, 2}, {checker.ReasonDynamicIANA, 4}} {
		if r&b.r != 0 {
			n++
			w += b.w
		}
	}
	return n*16 + w
}

// Choose returns the first port of the fixed order that is safe; when none
// is, the first of the ports that give up least (see cost), marked as a
// compromise. It is deterministic for the same facts and options.
func Choose(o ChooseOptions) (Choice, error) {
	r := o.Range
	if r == (checker.Range{}) {
		r = checker.IANARegistered
	}
	if !r.Valid() || r.Lo < 1 {
		return Choice{}, fmt.Errorf("bad range %s: want LOW-HIGH within 1-65535", r)
	}
	avoid := map[int]bool{}
	for _, p := range o.Avoid {
		avoid[p] = true
	}
	best, bestWhy, bestCost := 0, checker.Reason(0), -1
	for _, p := range order(r) {
		if avoid[p] {
			continue
		}
		why := o.Screen.Reasons(p)
		if why&^relaxable != 0 {
			continue
		}
		if c := cost(why); bestCost < 0 || c < bestCost {
			best, bestWhy, bestCost = p, why, c
			if c == 0 {
				break
			}
		}
	}
	if bestCost < 0 {
		return Choice{}, fmt.Errorf("no usable port in %s: every one is in use, well known, or probed by scanners", r)
	}
	p, why := best, bestWhy
	c := Choice{Port: p, Why: safeBecause(p, o.Facts)}
	if why != 0 {
		c.Compromise = true
		var given []string
		for _, code := range why.Codes() {
			given = append(given, o.Screen.Message(p, code))
		}
		c.Why = append([]string{fmt.Sprintf("no port in %s passes every test on this system, so %d was chosen although: %s",
			r, p, strings.Join(given, "; "))}, c.Why...)
		if why&checker.ReasonEphemeralOS != 0 && o.Facts.OS == "linux" {
			c.Why = append(c.Why, fmt.Sprintf("reserve it so the kernel never hands it to an outgoing connection: sysctl -w net.ipv4.ip_local_reserved_ports=%s (the current list plus %d; the next steps persist it)", reservedWith(o.Facts.Reserved, p), p))
		}
	}
	return c, nil
}

// safeBecause states the facts that make p a good port.
func safeBecause(p int, f checker.Facts) []string {
	var why []string
	if checker.ClassOf(p) == checker.Registered {
		why = append(why, fmt.Sprintf("%d is in IANA's registered range 1024-49151", p))
	}
	if _, ok := checker.IANA(p); !ok {
		why = append(why, fmt.Sprintf("IANA assigns %d/tcp to no service (registry of %s)", p, checker.IANAUpdated))
	}
	if f.Ephemeral.Valid() && !f.Ephemeral.Contains(p) {
		why = append(why, fmt.Sprintf("it is outside the ephemeral range %s (%s)", f.Ephemeral, f.EphemeralSource))
	}
	switch f.ListenMethod {
	case checker.MethodSkipped:
		why = append(why, "listening sockets were not checked (an image: use --probe to check this system's)")
	default:
		why = append(why, fmt.Sprintf("nothing listens on it (checked with %s)", f.ListenMethod))
	}
	why = append(why, "it is not one of the alternate SSH ports scanners probe ("+joinInts(checker.ScannerPorts)+")")
	return why
}

// reservedWith returns the ip_local_reserved_ports list with p appended:
// writing the sysctl replaces the whole list, so the existing entries stay.
func reservedWith(rs []checker.Range, p int) string {
	var items []string
	for _, r := range rs {
		items = append(items, r.String())
	}
	return strings.Join(append(items, strconv.Itoa(p)), ",")
}
