package suggest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/sshcfg"
)

// scripted is a Prober that answers bind probes per port and per call:
// busy[p][n] is the answer to the n-th probe of port p (past the end, the
// last answer holds; no entry: free). It records every request.
type scripted struct {
	base  checker.Facts
	busy  map[int][]bool
	calls map[int]int
	reqs  []checker.Request
	// free[p] is the answer of the last probe of p.
	last map[int]bool
}

func newScripted(base checker.Facts, busy map[int][]bool) *scripted {
	return &scripted{base: base, busy: busy, calls: map[int]int{}, last: map[int]bool{}}
}

func (s *scripted) Probe(_ context.Context, req checker.Request) (checker.Facts, error) {
	s.reqs = append(s.reqs, req)
	f := s.base
	f.Probes = nil
	if !req.Live {
		f.Listeners, f.ListenMethod = nil, checker.MethodSkipped
		return f, nil
	}
	answered := map[int]bool{}
	for _, ep := range req.Bind {
		p := int(ep.Port())
		if _, ok := answered[p]; !ok {
			n := s.calls[p]
			s.calls[p]++
			ans := false
			if a := s.busy[p]; len(a) > 0 {
				ans = a[min(n, len(a)-1)]
			}
			answered[p] = ans
			s.last[p] = ans
		}
		f.Probes = append(f.Probes, checker.ProbeResult{Endpoint: ep, V6Only: ep.Addr().Is6(), InUse: answered[p]})
	}
	return f, nil
}

// probedFree reports whether p was bind-probed and its last probe was free.
func (s *scripted) probedFree(p int) bool {
	busy, ok := s.last[p]
	return ok && !busy
}

func loadCfg(t *testing.T, body string) *sshcfg.Config {
	t.Helper()
	cfg, err := sshcfg.Load(fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte(body)}}, sshcfg.DefaultConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDecide(t *testing.T) {
	linux := linuxFacts(32768, 60999)
	tests := []struct {
		name    string
		config  string
		facts   checker.Facts
		busy    map[int][]bool
		opts    Options
		want    int
		change  bool
		comp    bool
		forced  bool
		err     string // a phrase of the error; "" for none
		why     string // a phrase of Why
		probes  int    // number of Probe calls, 0: not checked
		noProbe bool   // no bind probe may have happened
		skipped []int  // ports that must have been probed busy
	}{
		{name: "fresh: 20022 probed free", config: "Port 22\n", facts: linux, opts: Options{Live: true},
			want: 20022, change: true, probes: 2},
		{name: "20022 busy on the probe only: next", config: "Port 22\n", facts: linux, opts: Options{Live: true},
			busy: map[int][]bool{20022: {true}}, want: 20023, change: true, skipped: []int{20022}},
		{name: "five busy in a row: the sixth is probed too", config: "Port 22\n", facts: linux, opts: Options{Live: true},
			busy: map[int][]bool{20022: {true}, 20023: {true}, 20024: {true}, 20025: {true}, 20026: {true}},
			want: 20027, change: true, skipped: []int{20022, 20023, 20024, 20025, 20026}},
		{name: "compromise pick busy is skipped", config: "Port 22\n", facts: linuxFacts(30000, 40000),
			opts: Options{Live: true, Range: checker.Range{Lo: 30000, Hi: 30010}},
			busy: map[int][]bool{30004: {true}}, want: 30005, change: true, comp: true, skipped: []int{30004}},
		{name: "every compromise busy: error, none returned", config: "Port 22\n", facts: linuxFacts(30000, 40000),
			opts: Options{Live: true, Range: checker.Range{Lo: 30000, Hi: 30002}},
			busy: map[int][]bool{30000: {true}, 30001: {true}, 30002: {true}}, err: "in use"},
		{name: "range in the dynamic range: least given up", config: "Port 22\n", facts: linux,
			opts: Options{Live: true, Range: checker.IANADynamic}, want: 61000, change: true, comp: true, why: "IANA's dynamic range"},
		{name: "image: nothing probed", config: "Port 22\n", facts: linux, opts: Options{Root: rootfstest.Open(t, t.TempDir())},
			want: 20022, change: true, noProbe: true, why: "listening sockets were not checked"},
		{name: "already safe: no change, one probe", config: "Port 20022\n", facts: linux, opts: Options{Live: true},
			want: 20022, probes: 1, why: "nothing to change"},
		{name: "already safe but busy: moved", config: "Port 20022\n", facts: linux, opts: Options{Live: true},
			busy: map[int][]bool{20022: {true}}, want: 20023, change: true},
		{name: "finishing a migration keeps the safe port", config: "Port 22\nPort 20022\n", facts: linux, opts: Options{Live: true},
			want: 20022, change: true, probes: 1, why: "keeping it and dropping 22"},
		{name: "keep-old with a safe port: no change", config: "Port 22\nPort 20022\n", facts: linux, opts: Options{Live: true, KeepOld: true},
			want: 20022, why: "phase 1 is done"},
		{name: "finish: keeps the safe port, drops the old", config: "Port 22\nPort 20022\n", facts: linux, opts: Options{Live: true, Finish: true},
			want: 20022, change: true, probes: 1, why: "keeping it and dropping 22"},
		{name: "finish done: no change", config: "Port 20022\n", facts: linux, opts: Options{Live: true, Finish: true},
			want: 20022, probes: 1, why: "the migration is finished"},
		{name: "finish with nothing safe: error", config: "Port 22\n", facts: linux, opts: Options{Live: true, Finish: true},
			err: "no migration to finish"},
		{name: "finish --port not listened on: error", config: "Port 22\nPort 20022\n", facts: linux, opts: Options{Live: true, Finish: true, Port: 20500},
			err: "phase 2 keeps a port sshd already listens on"},
		{name: "finish and keep-old: error", config: "Port 22\nPort 20022\n", facts: linux, opts: Options{Live: true, Finish: true, KeepOld: true},
			err: "two phases"},
		{name: "scanner port is not safe: moved", config: "Port 10022\n", facts: linux, opts: Options{Live: true},
			want: 20022, change: true},
		{name: "--port safe, probed", config: "Port 22\n", facts: linux, opts: Options{Live: true, Port: 20500},
			want: 20500, change: true},
		{name: "--port busy on the probe: refused", config: "Port 22\n", facts: linux, opts: Options{Live: true, Port: 20500},
			busy: map[int][]bool{20500: {true}}, err: "sshd could not bind it"},
		{name: "--port busy: --force does not override", config: "Port 22\n", facts: linux, opts: Options{Live: true, Port: 20500, Force: true},
			busy: map[int][]bool{20500: {true}}, err: "--force does not override"},
		{name: "--port unsafe: refused", config: "Port 22\n", facts: linux, opts: Options{Live: true, Port: 2222},
			err: "use --force"},
		{name: "--port unsafe --force", config: "Port 22\n", facts: linux, opts: Options{Live: true, Port: 2222, Force: true},
			want: 2222, change: true, forced: true, why: "forced despite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadCfg(t, tc.config)
			pr := newScripted(tc.facts, tc.busy)
			d, err := Decide(context.Background(), cfg, pr, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q (decision %+v)", err, tc.err, d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Port != tc.want || d.Change != tc.change || d.Compromise != tc.comp || d.Forced != tc.forced {
				t.Errorf("port %d change %v compromise %v forced %v, want %d %v %v %v\nwhy: %q",
					d.Port, d.Change, d.Compromise, d.Forced, tc.want, tc.change, tc.comp, tc.forced, d.Why)
			}
			if tc.why != "" && !strings.Contains(strings.Join(d.Why, "\n"), tc.why) {
				t.Errorf("why %q lacks %q", d.Why, tc.why)
			}
			if tc.probes != 0 && len(pr.reqs) != tc.probes {
				t.Errorf("%d Probe calls, want %d: %+v", len(pr.reqs), tc.probes, pr.reqs)
			}
			if tc.noProbe && len(pr.last) != 0 {
				t.Errorf("bind probes on an image: %v", pr.last)
			}
			for _, p := range tc.skipped {
				if !pr.last[p] {
					t.Errorf("port %d was not probed busy", p)
				}
			}
			if tc.opts.Live && d.Change && (!d.Probed || !pr.probedFree(d.Port)) {
				t.Errorf("port %d returned without a free bind probe (probed %v, last answers %v)", d.Port, d.Probed, pr.last)
			}
		})
	}
}

// TestDecideNeverUnprobed drives Decide with random busy answers (per port
// and per call) over a small range, compromise or not: every port it returns
// on a live system was bind-probed free on its last probe, and every port it
// skipped was probed busy.
func TestDecideNeverUnprobed(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for i := range 300 {
		lo := 30000 + r.IntN(3)*5000 // 30000 (in 30000-40000: compromise), 35000, 40000
		eph := linuxFacts(30000, 39999)
		busy := map[int][]bool{}
		for p := lo; p < lo+12; p++ {
			for range r.IntN(3) {
				busy[p] = append(busy[p], r.IntN(2) == 0)
			}
		}
		cfg := loadCfg(t, "Port 22\nListenAddress 0.0.0.0\nListenAddress ::1\n")
		pr := newScripted(eph, busy)
		d, err := Decide(context.Background(), cfg, pr, Options{Live: true, Range: checker.Range{Lo: lo, Hi: lo + 11}})
		if err != nil {
			if !strings.Contains(err.Error(), "in use") {
				t.Fatalf("case %d: %v", i, err)
			}
			for p := lo; p < lo+12; p++ {
				if IANAFree(p) && !pr.last[p] {
					t.Errorf("case %d: gave up with %d never probed busy", i, p)
				}
			}
			continue
		}
		if !d.Probed || !pr.probedFree(d.Port) {
			t.Errorf("case %d: %d returned, last probe busy=%v probed=%v", i, d.Port, pr.last[d.Port], d.Probed)
		}
		for _, req := range pr.reqs[1:] {
			if len(req.Bind) != 2 {
				t.Errorf("case %d: candidate probed on %v, want both listen addresses", i, req.Bind)
			}
		}
		if d.Compromise != (lo < 40000) {
			t.Errorf("case %d: compromise %v for range %d-%d", i, d.Compromise, lo, lo+11)
		}
	}
}

// IANAFree reports whether IANA leaves p unassigned and scanners leave it alone.
func IANAFree(p int) bool {
	_, assigned := checker.IANA(p)
	return !assigned && !slices.Contains(checker.ScannerPorts, p)
}
