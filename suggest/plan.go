package suggest

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/sshport/sshport/sshcfg"
)

// Plan is the change that moves sshd to a port: which lines of which files,
// checked by reading the edited configuration back.
type Plan struct {
	Port     int
	Previous []int // the ports sshd listens on now, in order
	Ports    []int // the ports it will listen on
	Changed  bool
	Changes  []FileChange
	Notes    []string
}

// PlanOptions adjusts MakePlan.
type PlanOptions struct {
	// KeepOld keeps the current ports and adds the new one, so sshd
	// listens on both while clients migrate.
	KeepOld bool
}

// ListenPorts returns the distinct ports of cfg's endpoints, in order.
func ListenPorts(cfg *sshcfg.Config) []int {
	var out []int
	for _, e := range cfg.Listen {
		if !slices.Contains(out, e.Port) {
			out = append(out, e.Port)
		}
	}
	return out
}

// MakePlan computes the edit that makes sshd listen on port (and, with
// KeepOld, on its current ports too) and checks it by loading the edited
// files back from fsys. Where a ListenAddress carries its own port, that is
// what is changed; Port lines are left alone when every ListenAddress
// carries one. "Match LocalPort OLD" blocks move to the new port.
func MakePlan(cfg *sshcfg.Config, fsys fs.FS, port int, o PlanOptions) (*Plan, error) {
	prev := ListenPorts(cfg)
	p := &Plan{Port: port, Previous: prev}
	want := []int{port}
	if o.KeepOld {
		want = append(slices.Clone(prev), port)
		if slices.Contains(prev, port) {
			want = prev
		}
	}
	p.Ports = want
	if slices.Equal(prev, want) {
		p.Ports = prev
		return p, nil
	}

	var e sshcfg.Edit
	allExplicit := len(cfg.ListenAddresses) > 0
	for _, la := range cfg.ListenAddresses {
		if la.Port == 0 {
			allExplicit = false
			continue
		}
		if o.KeepOld {
			return nil, fmt.Errorf("%s line %d: ListenAddress %s carries its own port %d; --keep-old cannot give it a second one: add \"ListenAddress %s\" by hand",
				la.File, la.Line, hostPort(la.Host, la.Port), la.Port, hostPort(la.Host, port))
		}
		if e.ListenPorts == nil {
			e.ListenPorts = map[int]int{}
		}
		e.ListenPorts[la.Port] = port
	}
	if !allExplicit {
		if o.KeepOld {
			for _, q := range cfg.Ports {
				e.Ports = append(e.Ports, q.Port)
			}
			e.Ports = append(e.Ports, port)
		} else {
			e.Ports = []int{port}
		}
	}
	for _, d := range cfg.Directives {
		if d.Key != "match" {
			continue
		}
		for _, crit := range d.Line.MatchCriteria() {
			if !strings.EqualFold(crit.Name, "localport") {
				continue
			}
			old, _ := crit.PortNumber()
			for _, q := range prev {
				if old != q {
					continue
				}
				if o.KeepOld {
					return nil, fmt.Errorf("%s line %d: \"Match LocalPort %d\" applies to the old port only; with --keep-old the new port would not get its settings (OpenSSH's LocalPort takes one port): add a block for %d by hand",
						d.File, d.Line.Num, q, port)
				}
				if e.LocalPorts == nil {
					e.LocalPorts = map[int]int{}
				}
				e.LocalPorts[q] = port
				p.Notes = append(p.Notes, fmt.Sprintf("%s line %d: the \"Match LocalPort %d\" block moves to %d with the port", d.File, d.Line.Num, q, port))
			}
		}
	}
	changes, err := cfg.Edit(e)
	if err != nil {
		return nil, err
	}
	after, err := cfg.Reload(sshcfg.Overlay(fsys, changes))
	if err != nil {
		return nil, fmt.Errorf("the edited configuration would not load: %w", err)
	}
	if got := ListenPorts(after); !slices.Equal(got, want) {
		return nil, fmt.Errorf("the edited configuration listens on %v, not %v: not writing it", got, want)
	}
	for _, c := range changes {
		p.Changes = append(p.Changes, FileChange{Path: c.Path, Old: c.Old, New: c.New})
	}
	p.Changed = len(p.Changes) > 0
	return p, nil
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
