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

// Registered is IANA's registered (User Ports) range, where sshport looks.
var Registered = checker.Range{Lo: 1024, Hi: 49151}

// ScannerPorts are the alternate SSH ports that internet-wide scanners and
// SSH honeypots try right after 22, because admins so often move sshd there.
// sshport never suggests them, even those IANA leaves unassigned (10022).
var ScannerPorts = []int{222, 1022, 2022, 2200, 2222, 8022, 10022, 22222}

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
	// Range limits the search; the zero value means Registered.
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

// relaxations are the reasons sshport gives up, in order, when no port in
// the range passes every test. In-use, well-known and scanner ports are
// never given up.
var relaxations = []checker.Reason{
	0,
	checker.ReasonEphemeralOS,
	checker.ReasonEphemeralOS | checker.ReasonIANAAssigned,
	checker.ReasonEphemeralOS | checker.ReasonIANAAssigned | checker.ReasonDynamicIANA,
}

// Choose returns the first port of the fixed order that is safe. It is
// deterministic for the same facts and options.
func Choose(o ChooseOptions) (Choice, error) {
	r := o.Range
	if r == (checker.Range{}) {
		r = Registered
	}
	if !r.Valid() || r.Lo < 1 {
		return Choice{}, fmt.Errorf("bad range %s: want LOW-HIGH within 1-65535", r)
	}
	avoid := map[int]bool{}
	for _, p := range append(append([]int{}, ScannerPorts...), o.Avoid...) {
		avoid[p] = true
	}
	cands := order(r)
	for _, allowed := range relaxations {
		for _, p := range cands {
			if avoid[p] {
				continue
			}
			why := o.Screen.Reasons(p)
			if why&^allowed != 0 {
				continue
			}
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
	}
	return Choice{}, fmt.Errorf("no usable port in %s: every one is in use, well known, or probed by scanners", r)
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
	why = append(why, "it is not one of the alternate SSH ports scanners probe ("+intsString(ScannerPorts)+")")
	return why
}

func intsString(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
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
