package suggest

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
)

func linuxFacts(lo, hi int, listeners ...int) checker.Facts {
	f := checker.Facts{OS: "linux", Ephemeral: checker.Range{Lo: lo, Hi: hi}, EphemeralSource: "test", ListenMethod: checker.MethodNetlink}
	for _, p := range listeners {
		f.Listeners = append(f.Listeners, checker.Listener{Addr: netip.MustParseAddr("0.0.0.0"), Port: p})
	}
	return f
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name       string
		facts      checker.Facts
		rng        checker.Range
		avoid      []int
		want       int
		compromise bool
		why        string // a phrase the explanation must hold
	}{
		{name: "20022 when safe", facts: linuxFacts(32768, 60999), want: 20022, why: "IANA assigns 20022/tcp to no service"},
		{name: "20022 in use: next unassigned", facts: linuxFacts(32768, 60999, 20022), want: 20023},
		{name: "20022 configured already elsewhere", facts: linuxFacts(32768, 60999), avoid: []int{20022}, want: 20023},
		{name: "reserved port inside the range is fine", facts: func() checker.Facts {
			f := linuxFacts(20000, 60999)
			f.Reserved = []checker.Range{{Lo: 20022, Hi: 20022}}
			return f
		}(), want: 20022},
		// FreeBSD's default ephemeral range 10000-65535 covers 20022 and
		// everything above: the walk wraps to 1024 and takes the first
		// unassigned registered port below 10000.
		{name: "FreeBSD range", facts: linuxFacts(10000, 65535), want: firstUnassigned(t, 1024, 9999)},
		// OpenBSD's 1024-49151 leaves no registered port outside it: the
		// ephemeral test is given up, said plainly.
		{name: "OpenBSD range: compromise", facts: linuxFacts(1024, 49151), want: 20022, compromise: true, why: "no port in 1024-49151 passes every test"},
		{name: "range that excludes 20022", facts: linuxFacts(32768, 60999), rng: checker.Range{Lo: 25000, Hi: 25100}, want: firstUnassigned(t, 25000, 25100)},
		{name: "range inside the ephemeral range", facts: linuxFacts(30000, 40000), rng: checker.Range{Lo: 30000, Hi: 30010}, compromise: true,
			want: firstUnassigned(t, 30000, 30010), why: "net.ipv4.ip_local_reserved_ports="},
		// Writing the sysctl replaces the whole list: the hint keeps what
		// is reserved already (an image with 30005 reserved keeps it).
		{name: "reserved-ports hint appends", facts: func() checker.Facts {
			f := linuxFacts(30000, 40000)
			f.Reserved = []checker.Range{{Lo: 30005, Hi: 30005}, {Lo: 39000, Hi: 39010}}
			return f
		}(), rng: checker.Range{Lo: 30000, Hi: 30004}, compromise: true,
			want: firstUnassigned(t, 30000, 30004), why: "net.ipv4.ip_local_reserved_ports=30005,39000-39010," + strconv.Itoa(firstUnassigned(t, 30000, 30004))},
		{name: "scanner ports never chosen", facts: linuxFacts(32768, 60999), rng: checker.Range{Lo: 10022, Hi: 10022}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Choose(ChooseOptions{Screen: checker.NewScreen(tc.facts), Facts: tc.facts, Range: tc.rng, Avoid: tc.avoid})
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("chose %d, want an error", c.Port)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Port != tc.want || c.Compromise != tc.compromise {
				t.Fatalf("chose %d (compromise %v), want %d (%v); why: %q", c.Port, c.Compromise, tc.want, tc.compromise, c.Why)
			}
			if tc.why != "" && !strings.Contains(strings.Join(c.Why, "\n"), tc.why) {
				t.Errorf("explanation %q lacks %q", c.Why, tc.why)
			}
			// The same facts give the same answer.
			again, _ := Choose(ChooseOptions{Screen: checker.NewScreen(tc.facts), Facts: tc.facts, Range: tc.rng, Avoid: tc.avoid})
			if again.Port != c.Port {
				t.Errorf("not deterministic: %d then %d", c.Port, again.Port)
			}
		})
	}
}

// firstUnassigned walks lo..hi as the IANA table says, skipping scanner
// ports: the answer Choose must find by itself.
func firstUnassigned(t *testing.T, lo, hi int) int {
	for p := lo; p <= hi; p++ {
		if _, ok := checker.IANA(p); !ok && !slices.Contains(checker.ScannerPorts, p) {
			return p
		}
	}
	t.Fatalf("no unassigned port in %d-%d", lo, hi)
	return 0
}

func TestOrder(t *testing.T) {
	got := order(checker.Range{Lo: 20020, Hi: 20024})
	if want := []int{20022, 20023, 20024, 20020, 20021}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	got = order(checker.Range{Lo: 5, Hi: 7})
	if want := []int{5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
