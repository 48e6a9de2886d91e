package sshcfg_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
)

const (
	ownCorpus    = "../testdata/corpus"
	sharedCorpus = "../../shared/corpus"
)

// loadTree reads a tree the way the oracle tests compare it with sshd: host
// names resolve from the same table the harness gives sshd.
func loadTree(root string) (*sshcfg.Config, error) {
	return sshcfg.Load(sshcfg.Root(root), sshdtest.MainConfig, &sshcfg.Options{Resolver: sshdtest.Names{Root: root}})
}

// disagreement says how sshcfg's reading (cfg, err) differs from what sshd
// said (want), or returns "" when they agree. The first word is the kind.
//
// Agreement means: sshd accepted and sshcfg has no error, the same ports
// (order and duplicates), the same address family and the same endpoints;
// or both refuse. When both refuse and sshd names positions, sshcfg's
// errors must name every position of sshd's errors other than unknown
// keywords, and nothing beyond sshd's positions (unless sshd also printed
// an error without a position, such as the Include depth limit). When sshd refuses only for unknown keywords
// ("Bad configuration option"), which sshcfg reports as warnings, sshcfg
// may accept, and then its "Bad configuration option" warnings must name
// exactly those FILE:LINE positions.
func disagreement(cfg *sshcfg.Config, err error, want sshdtest.Result) string {
	if !want.Refused() {
		if err != nil {
			return fmt.Sprintf("sshcfg-refuses: sshd accepts, sshcfg: %v", err)
		}
		var ports []int
		for _, p := range cfg.Ports {
			ports = append(ports, p.Port)
		}
		if !slices.Equal(ports, want.Ports) {
			return fmt.Sprintf("ports: sshd %v, sshcfg %v", want.Ports, ports)
		}
		if cfg.AddressFamily != want.AddressFamily {
			return fmt.Sprintf("addressfamily: sshd %q, sshcfg %q", want.AddressFamily, cfg.AddressFamily)
		}
		var listen []string
		for _, e := range cfg.Listen {
			listen = append(listen, e.String())
		}
		if !slices.Equal(listen, want.ListenLines()) {
			return fmt.Sprintf("listen: sshd %q, sshcfg %q", want.ListenLines(), listen)
		}
		return ""
	}
	_, badOnly := sshdtest.BadOptionsOnly(want.Err)
	badPos := sshdtest.BadOptions(want.Err)
	if err == nil {
		if !badOnly {
			return fmt.Sprintf("sshcfg-accepts: sshd refuses:\n%s", strings.TrimSpace(want.Err))
		}
		var warned []string
		for _, w := range cfg.Warnings {
			if strings.HasPrefix(w.Msg, "Bad configuration option") {
				warned = append(warned, fmt.Sprintf("%s:%d", w.File, w.Line))
			}
		}
		if a, b := uniq(warned), uniq(badPos); !slices.Equal(a, b) {
			return fmt.Sprintf("warnings: sshd's bad options at %q, sshcfg warns at %q", b, a)
		}
		return ""
	}
	// Both refuse: compare positions where sshd names any.
	if len(want.ErrLines) == 0 {
		return ""
	}
	var list sshcfg.ErrorList
	if !errors.As(err, &list) {
		return fmt.Sprintf("error-kind: sshcfg's error is %T, not an ErrorList: %v", err, err)
	}
	var got []string
	for _, e := range list {
		if e.Line > 0 {
			got = append(got, fmt.Sprintf("%s:%d", e.File, e.Line))
		}
	}
	var required []string
	for _, p := range want.ErrLines {
		if !slices.Contains(badPos, p) {
			required = append(required, p)
		}
	}
	if badOnly {
		required = nil
	}
	missing, extra := diffSets(uniq(required), uniq(got)), diffSets(uniq(got), uniq(want.ErrLines))
	if sshdtest.Unpositioned(want.Err) {
		// sshd named no position for its last word; sshcfg may.
		extra = nil
	}
	if len(missing) > 0 || len(extra) > 0 {
		return fmt.Sprintf("error-position: sshd names %q, sshcfg names %q (%v)\nsshd said:\n%s",
			want.ErrLines, got, err, strings.TrimSpace(want.Err))
	}
	return ""
}

// uniq returns s sorted without duplicates.
func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// diffSets returns the elements of a that are not in b.
func diffSets(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestOracleCorpus compares sshcfg with the checked-in answers of the real
// sshd for every case of the project's corpus and of the shared corpus
// (when present), and, where sshd is installed, proves those answers by
// asking sshd again.
func TestOracleCorpus(t *testing.T) {
	for _, corpus := range sshdtest.LoadCorpora(t, ownCorpus, sharedCorpus) {
		for _, c := range corpus.Cases {
			t.Run(corpus.Label()+"/"+c.Name, func(t *testing.T) {
				if c.Broken != "" {
					t.Skip(c.Broken)
				}
				if c.Want == "" {
					t.Fatalf("%s has no expected.txt or expected-error.txt", c.Dir)
				}
				t.Run("sshcfg", func(t *testing.T) {
					cfg, err := loadTree(c.Root)
					if d := disagreement(cfg, err, c.Expect); d != "" {
						t.Errorf("sshcfg disagrees with %s: %s", c.Path(), d)
					}
				})
				t.Run("sshd", func(t *testing.T) {
					sshdtest.Require(t)
					got := sshdtest.Run(t, c.Root, sshdtest.MainConfig)
					if got.Expected() != c.Want {
						t.Errorf("live sshd -T disagrees with %s\n--- sshd now:\n%s--- file:\n%s", c.Path(), got.Expected(), c.Want)
					}
				})
			})
		}
	}
}

// TestOracleCorpusSize keeps the project's own corpus from shrinking
// unnoticed: the suggest and check tests iterate over it too.
func TestOracleCorpusSize(t *testing.T) {
	cases, err := sshdtest.Cases(ownCorpus)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, c := range cases {
		if c.Refused {
			refused++
		}
	}
	if len(cases) < 30 || refused == 0 || refused == len(cases) {
		t.Errorf("%d cases, %d refused: want at least 30 with both kinds", len(cases), refused)
	}
}
