package client

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genConfig builds a random client configuration: Host blocks with
// literal, '*', '?' and negated patterns, Port lines (also before any Host
// line), other settings, Match all, Includes of a second file, CRLF or LF,
// with or without a final newline. Names are drawn from hosts.
func genConfig(r *rand.Rand, hosts []string) (main, inc string) {
	eol := "\n"
	if r.IntN(4) == 0 {
		eol = "\r\n"
	}
	pattern := func() string {
		h := hosts[r.IntN(len(hosts))]
		switch r.IntN(6) {
		case 0:
			return "*"
		case 1:
			return h[:len(h)-1] + "?"
		case 2:
			return h[:1] + "*"
		case 3:
			return "!" + h
		}
		return h
	}
	var b strings.Builder
	indent := []string{"  ", "    ", "\t", ""}[r.IntN(4)]
	line := func(s string) { b.WriteString(s + eol) }
	body := func() {
		for n := r.IntN(3); n >= 0; n-- {
			switch r.IntN(5) {
			case 0, 1:
				sep := []string{" ", "=", " = ", "\t"}[r.IntN(4)]
				line(indent + "Port" + sep + fmt.Sprint(2000+r.IntN(1000)))
			case 2:
				line(indent + "User u" + fmt.Sprint(r.IntN(9)))
			case 3:
				line(indent + "# comment")
			case 4:
				line("")
			}
		}
	}
	if r.IntN(3) == 0 {
		body()
	}
	if r.IntN(3) == 0 {
		line("Include " + "inc.conf")
	}
	for n := r.IntN(5); n >= 0; n-- {
		switch r.IntN(8) {
		case 0:
			line("Match all")
		case 1:
			line("Host " + pattern() + " " + pattern())
		default:
			line("Host " + pattern())
		}
		body()
		if r.IntN(5) == 0 {
			line(indent + "Include inc.conf")
		}
	}
	main = b.String()
	if r.IntN(3) == 0 {
		main = strings.TrimSuffix(main, eol)
	}
	b.Reset()
	if r.IntN(2) == 0 {
		body()
	}
	line("Host " + pattern())
	body()
	return main, b.String()
}

// TestDifferential moves a random alias of random configurations to a new
// port and asks ssh -G: the alias gets the new port, every other name keeps
// its whole ssh -G output, and only one line of the old file is touched.
func TestDifferential(t *testing.T) {
	requireTool(t, "ssh")
	hosts := []string{"web1", "web2", "db1", "web12", "x9"}
	r := rand.New(rand.NewPCG(11, 2026))
	n := 25 // about 250 runs of ssh -G
	if testing.Short() {
		n = 5
	}
	planned := 0
	for i := 0; i < n; i++ {
		main, inc := genConfig(r, hosts)
		alias := hosts[r.IntN(len(hosts))]
		home := t.TempDir()
		writeTree(t, home, map[string]string{".ssh/config": main, ".ssh/inc.conf": inc})
		cfgPath := filepath.Join(home, ".ssh", "config")
		c, err := Load(cfgPath, Options{FS: os.DirFS("/"), Home: home})
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, main)
		}
		p, err := c.PlanPort(alias, 20022, PlanOptions{})
		if err != nil {
			t.Fatalf("case %d: PlanPort(%s): %v\n%s", i, alias, err, main)
		}
		before := map[string]string{}
		for _, h := range hosts {
			before[h] = sshG(t, home, cfgPath, h)
		}
		if p.Action == ActionNone {
			if got := portOf(before[alias]); got != "20022" {
				t.Errorf("case %d: no change planned but ssh -G %s says port %s\n%s", i, alias, got, main)
			}
			continue
		}
		if fmt.Sprint(p.OldPort) != portOf(before[alias]) {
			t.Errorf("case %d: sshport says %s is on %d now, ssh -G says %s\n%s", i, alias, p.OldPort, portOf(before[alias]), main)
		}
		planned++
		for _, ch := range p.Changes {
			oneRegion(t, ch.Old, ch.New)
			if err := os.WriteFile(ch.Path, ch.New, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range hosts {
			got := sshG(t, home, cfgPath, h)
			switch {
			case h == alias && portOf(got) != "20022":
				t.Errorf("case %d: after the edit ssh -G %s says port %s\nbefore:\n%s\nafter:\n%s", i, h, portOf(got), main, p.Changes[0].New)
			case h != alias && got != before[h]:
				t.Errorf("case %d: ssh -G %s changed (port %s -> %s)\nbefore:\n%s\nafter:\n%s", i, h, portOf(before[h]), portOf(got), main, p.Changes[0].New)
			}
		}
	}
	if planned < n/3 {
		t.Errorf("only %d of %d cases planned an edit: the generator is too narrow", planned, n)
	}
	t.Logf("%d of %d cases edited and checked with ssh -G", planned, n)
}
