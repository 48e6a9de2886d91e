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
	// Changes are the files that change, in the order sshd reads them
	// (the order of the diff).
	Changes []FileChange
	// Writes are the same changes in the order Apply must write them:
	// every state a crash between two files can leave listens on a
	// superset of Previous or of Ports (add before remove).
	Writes []FileChange
	Notes  []string
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
// files back from fsys. Only the lines that must change do:
//
//   - moving: the effective Port lines become one "Port NEW" (unless every
//     ListenAddress carries its own port), each "ListenAddress host:OLD"
//     becomes host:NEW, each "Match LocalPort OLD" block moves to NEW;
//   - with KeepOld (phase 1 of a migration): "Port NEW" is added after the
//     last Port line, each "ListenAddress host:OLD" gets a sibling
//     "ListenAddress host:NEW" right after it, and each "Match LocalPort
//     OLD" block of sshd's first port a copy for NEW right after it (sshd's
//     LocalPort takes one port), so a connection on the new port gets the
//     settings of the first old one;
//   - finishing (port is one sshd listens on already, without KeepOld):
//     as moving, except that what phase 1 added is kept and the old
//     ListenAddress lines and Match blocks it duplicated are deleted.
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
	finishing := !o.KeepOld && slices.Contains(prev, port)

	e := sshcfg.Edit{DropListenAddressCopies: finishing}
	allExplicit := len(cfg.ListenAddresses) > 0
	for _, la := range cfg.ListenAddresses {
		if la.Port == 0 {
			allExplicit = false
			continue
		}
		if la.Port == port {
			continue
		}
		if o.KeepOld {
			if e.ListenAddressCopies == nil {
				e.ListenAddressCopies = map[int]int{}
			}
			e.ListenAddressCopies[la.Port] = port
			continue
		}
		if e.ListenAddressPorts == nil {
			e.ListenAddressPorts = map[int]int{}
		}
		e.ListenAddressPorts[la.Port] = port
	}
	if !allExplicit {
		if o.KeepOld {
			e.AddPorts = []int{port}
		} else {
			e.Ports = []int{port}
		}
	}
	// "Match LocalPort" blocks: a connection on the new port gets the
	// settings of sshd's first port (its blocks move, or with KeepOld are
	// copied); finishing deletes the first port's blocks that were copied
	// and leaves every other block alone (the new port has had its
	// settings all along).
	first := prev[0]
	for d := range cfg.Directives() {
		if d.Key != "match" || !d.HasLocalPort() {
			continue
		}
		for _, crit := range d.Line().MatchCriteria() {
			if !strings.EqualFold(crit.Name, "localport") {
				continue
			}
			old, _ := crit.PortNumber()
			if old == port || !slices.Contains(prev, old) {
				continue
			}
			switch {
			case finishing:
				if e.DropLocalPortCopies == nil {
					e.DropLocalPortCopies = map[int]int{}
				}
				e.DropLocalPortCopies[old] = port
			case old != first:
				p.Notes = append(p.Notes, fmt.Sprintf("%s line %d: the \"Match LocalPort %d\" block stays as it is: the new port gets the settings of sshd's first port, %d", d.File, d.Num(), old, first))
			case o.KeepOld:
				if e.LocalPortCopies == nil {
					e.LocalPortCopies = map[int]int{}
				}
				e.LocalPortCopies[old] = port
				p.Notes = append(p.Notes, fmt.Sprintf("%s line %d: the \"Match LocalPort %d\" block gets a copy for %d, so a connection on either port gets its settings", d.File, d.Num(), old, port))
			default:
				if e.LocalPorts == nil {
					e.LocalPorts = map[int]int{}
				}
				e.LocalPorts[old] = port
				p.Notes = append(p.Notes, fmt.Sprintf("%s line %d: the \"Match LocalPort %d\" block moves to %d with the port", d.File, d.Num(), old, port))
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
	if got := ListenPorts(after); !sameSet(got, want) {
		return nil, fmt.Errorf("the edited configuration listens on %v, not %v: not writing it", got, want)
	}
	ordered, err := writeOrder(cfg, fsys, changes, prev, want)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		p.Changes = append(p.Changes, FileChange{Path: c.Path, Old: c.Old, New: c.New})
	}
	for _, c := range ordered {
		p.Writes = append(p.Writes, FileChange{Path: c.Path, Old: c.Old, New: c.New})
	}
	p.Changed = len(p.Changes) > 0
	return p, nil
}

// IncludeGlobs returns the patterns of every Include directive of cfg, as
// written (for ApplyOptions.IncludeGlobs).
func IncludeGlobs(cfg *sshcfg.Config) []string {
	var out []string
	for d := range cfg.Directives() {
		if d.Key == "include" {
			for _, a := range d.Line().Args {
				out = append(out, a.Text)
			}
		}
	}
	return out
}

// ConfigFiles returns the path of every file of cfg (for ApplyOptions.Files).
func ConfigFiles(cfg *sshcfg.Config) []string {
	var out []string
	for _, f := range cfg.Files {
		out = append(out, f.Path)
	}
	return out
}

// sameSet reports whether a and b hold the same ports, whatever the order.
func sameSet(a, b []int) bool { return superset(a, b) && superset(b, a) }
