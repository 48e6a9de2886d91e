package client

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sshport/sshport/sshcfg"
)

// Change is one file's whole old and new contents.
type Change struct {
	Path     string // absolute
	Old, New []byte
}

// PlanOptions adjusts PlanPort.
type PlanOptions struct {
	// Writable, when not nil, says why a file cannot be written (nil:
	// it can). PlanPort refuses a change to a file it rejects.
	Writable func(path string) error
	// LookupPort reads a service name in a Port line ("Port ssh"), as
	// ssh's a2port does with getservbyname; nil accepts numbers only.
	LookupPort func(name string) (int, error)
}

// Actions of a PortPlan.
const (
	ActionNone     = "none"      // the port is already set
	ActionEdit     = "edit"      // the deciding Port line gets the new value
	ActionAddPort  = "add-port"  // a Port line is added to the alias's own Host block
	ActionAddBlock = "add-block" // a new "Host ALIAS" block is added
)

// PortPlan is the edit that makes ssh connect to an alias on a new port.
type PortPlan struct {
	Alias string
	Port  int
	// OldPort is the port ssh uses now (22 when no line sets one).
	OldPort int
	// Deciding is the line that sets the port now; nil when none does.
	Deciding *Ref
	Action   string
	// At is the line changed (edit), or the line the new lines follow
	// (add-port) or precede (add-block; Line is 0 at the end of the file).
	At      Ref
	Changes []Change
	Notes   []string
}

// ValidAlias reports why alias cannot be written in a Host line as a
// literal name, or nil.
func ValidAlias(alias string) error {
	if alias == "" {
		return errors.New("empty host alias")
	}
	if strings.HasPrefix(alias, "-") {
		return fmt.Errorf("host alias %q starts with '-'", alias)
	}
	for _, r := range alias {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("#\"'\\*?!,=", r) {
			return fmt.Errorf("host alias %q: %q is not allowed (a literal name, no pattern)", alias, r)
		}
	}
	return nil
}

// ParsePort reads a Port value as ssh's a2port does: a number 1-65535, or
// a service name when lookup is given.
func ParsePort(v string, lookup func(string) (int, error)) (int, error) {
	if n, err := strconv.Atoi(v); err == nil && v[0] != '+' && v[0] != '-' {
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("Bad port '%s'", v)
		}
		return n, nil
	}
	if lookup != nil {
		if n, err := lookup(v); err == nil && n > 0 && n < 65536 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("Bad port '%s'", v)
}

// PlanPort computes the smallest edit after which ssh connects to alias on
// port, and checks it by reading the edited files back:
//   - when a Port line decides the port and its block is the alias's own
//     (a Host line whose every pattern is the alias itself), that line's
//     value is changed;
//   - when no line sets the port and the main file has the alias's own
//     Host block, a Port line is added to it;
//   - otherwise a "Host ALIAS" block with the Port line is added to the
//     main file: before the block (or the Include line's block) that
//     decides the port now, so that it is read first, or at the end when
//     nothing sets it. A Port line in "Host *" or in a block shared with
//     other names is never changed: that would move other hosts too.
//
// It refuses when the first Port line that may apply is inside a Match
// block, which neither sshport nor the ssh_config library evaluates.
func (c *Config) PlanPort(alias string, port int, o PlanOptions) (*PortPlan, error) {
	if err := ValidAlias(alias); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port %d: not a port number 1-65535", port)
	}
	p := &PortPlan{Alias: alias, Port: port, OldPort: 22}
	s := c.Lookup(alias, "port")
	if s != nil {
		ref := s.Ref
		p.Deciding = &ref
		if s.Act == Maybe {
			return nil, fmt.Errorf("%s: the port for %s may be set here, inside the Match block at %s; sshport (like the ssh_config library) does not evaluate Match blocks: edit the file by hand", s.Ref, alias, s.MatchBlock)
		}
		n, err := ParsePort(s.Value(), o.LookupPort)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", s.Ref, err)
		}
		p.OldPort = n
	}
	for _, m := range c.Matches(alias) {
		if s == nil || before(c, alias, m, s) {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: Match block not evaluated (it sets no Port before the line that decides)", m))
		}
	}
	if p.OldPort == port {
		p.Action = ActionNone
		return p, nil
	}

	main := c.Main
	eol, indent := style(main.Syntax)
	var file *File
	var out []byte
	switch {
	case s != nil && s.Block != nil && strings.EqualFold(s.Block.Keyword, "host") && hostLineOnly(argTexts(s.Block), alias):
		file = c.files[s.File]
		p.Action, p.At = ActionEdit, s.Ref
		a := s.Syntax.Args[0]
		out = replaceLine(file.Syntax, s.Line, func(raw []byte) []byte {
			return concat(raw[:a.Start], []byte(strconv.Itoa(port)), raw[a.End:])
		})
	case s == nil:
		file = main
		if b := ownBlock(main, alias); b != nil {
			p.Action = ActionAddPort
			p.At, out = addPort(main, b, eol, indent, port)
			break
		}
		p.Action, p.At = ActionAddBlock, Ref{main.Path, 0}
		block := "Host " + alias + eol + indent + "Port " + strconv.Itoa(port)
		data := main.Syntax.Bytes()
		ls := main.Syntax.Lines()
		switch {
		case len(ls) == 0:
			out = []byte(block + eol)
		case ls[len(ls)-1].EOL() == "":
			sep := eol
			if !blank(ls[len(ls)-1]) {
				sep += eol
			}
			out = concat(data, []byte(sep+block))
		default:
			sep := ""
			if !blank(ls[len(ls)-1]) {
				sep = eol
			}
			out = concat(data, []byte(sep+block+eol))
		}
	default:
		file = main
		anchor := s.Line
		if len(s.Via) > 0 {
			anchor = s.Via[0].Line
		}
		var start *sshcfg.Line
		for _, b := range main.blocks {
			if b.Num <= anchor {
				start = b
			}
		}
		if b := ownBlock(main, alias); b != nil && start != nil && b.Num < start.Num {
			// The alias's own block is read before the line that
			// decides now: a Port line there wins.
			p.Action = ActionAddPort
			p.At, out = addPort(main, b, eol, indent, port)
			break
		}
		block := "Host " + alias + eol + indent + "Port " + strconv.Itoa(port) + eol
		p.Action = ActionAddBlock
		if start != nil {
			// Comment lines right above the block belong to it.
			at := start.Num
			for at > 1 && !blank(main.Syntax.Lines()[at-2]) && !main.Syntax.Lines()[at-2].IsDirective() {
				at--
			}
			p.At = Ref{main.Path, at}
			out = replaceLine(main.Syntax, at, func(raw []byte) []byte {
				return concat([]byte(block+eol), raw)
			})
			break
		}
		// The deciding line comes before any Host line of the main
		// file, where every line applies to every host: the new block
		// goes first, and "Host *" after it keeps those lines applying
		// to every host.
		first := firstDirective(main)
		p.At = Ref{main.Path, first.Num}
		out = replaceLine(main.Syntax, first.Num, func(raw []byte) []byte {
			return concat([]byte(block+eol+"Host *"+eol), raw)
		})
		p.Notes = append(p.Notes, fmt.Sprintf("%s sets the port for every host before any Host line: the new block goes first, followed by \"Host *\" so those lines still apply to every host", s.Ref))
	}
	if o.Writable != nil {
		if err := o.Writable(file.Path); err != nil {
			return nil, fmt.Errorf("%s cannot be changed: %v", file.Path, err)
		}
	}
	p.Changes = []Change{{Path: file.Path, Old: file.Syntax.Bytes(), New: out}}
	if err := c.verify(p); err != nil {
		return nil, err
	}
	return p, nil
}

// verify reads the planned files back and checks that the alias gets the
// new port.
func (c *Config) verify(p *PortPlan) error {
	o := c.opts
	o.overlay = map[string][]byte{}
	for _, ch := range p.Changes {
		o.overlay[ch.Path] = ch.New
	}
	c2, err := Load(c.Main.Path, o)
	if err != nil {
		return fmt.Errorf("the edited configuration does not read back: %w", err)
	}
	s := c2.Lookup(p.Alias, "port")
	if s == nil || s.Act != Yes || s.Value() != strconv.Itoa(p.Port) {
		return fmt.Errorf("internal error: after the edit %s would not get port %d", p.Alias, p.Port)
	}
	return nil
}

// before reports whether ssh reads line a before line b.
func before(c *Config, alias string, a Ref, b *Setting) bool {
	res := false
	c.Walk(alias, func(s *Setting) bool {
		if s.Ref == a {
			res = true
			return false
		}
		return s.Ref != b.Ref
	})
	return res
}

func argTexts(l *sshcfg.Line) []string {
	var out []string
	for _, a := range l.Args {
		out = append(out, a.Text)
	}
	return out
}

// ownBlock returns the first Host line of f that names only alias.
func ownBlock(f *File, alias string) *sshcfg.Line {
	for _, b := range f.blocks {
		if strings.EqualFold(b.Keyword, "host") && hostLineOnly(argTexts(b), alias) {
			return b
		}
	}
	return nil
}

// addPort adds a Port line after the last directive of the block that
// starts at b, indented like that directive (indent when the block is
// empty).
func addPort(f *File, b *sshcfg.Line, eol, indent string, port int) (Ref, []byte) {
	last, ind := lastDirective(f, b)
	if last != b {
		indent = ind
	}
	line := indent + "Port " + strconv.Itoa(port)
	return Ref{f.Path, last.Num}, replaceLine(f.Syntax, last.Num, func(raw []byte) []byte {
		if last.EOL() == "" {
			return concat(raw, []byte(eol+line))
		}
		return concat(raw, []byte(line+eol))
	})
}

// lastDirective returns the last directive line of the block that starts
// at b (b itself when it has none) and that line's indentation.
func lastDirective(f *File, b *sshcfg.Line) (*sshcfg.Line, string) {
	last := b
	for _, l := range f.Syntax.Lines()[b.Num:] {
		k := strings.ToLower(l.Keyword)
		if k == "host" || k == "match" {
			break
		}
		if l.IsDirective() {
			last = l
		}
	}
	return last, leading(last.Raw)
}

func firstDirective(f *File) *sshcfg.Line {
	for _, l := range f.Syntax.Lines() {
		if l.IsDirective() {
			return l
		}
	}
	return f.Syntax.Lines()[0]
}

func leading(raw []byte) string {
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t') {
		i++
	}
	return string(raw[:i])
}

func blank(l *sshcfg.Line) bool { return len(bytes.TrimSpace(l.Raw)) == 0 }

// style returns the file's line ending ("\r\n" when its first line ends so)
// and the indentation of its first indented directive ("    " if none).
func style(f *sshcfg.File) (eol, indent string) {
	eol, indent = "\n", "    "
	if len(f.Lines()) > 0 && f.Lines()[0].EOL() == "\r\n" {
		eol = "\r\n"
	}
	for _, l := range f.Lines() {
		if in := leading(l.Raw); l.IsDirective() && in != "" {
			indent = in
			break
		}
	}
	return eol, indent
}

// replaceLine returns f's bytes with line num (1-based) replaced by
// fn(its bytes).
func replaceLine(f *sshcfg.File, num int, fn func([]byte) []byte) []byte {
	var b bytes.Buffer
	for _, l := range f.Lines() {
		if l.Num == num {
			b.Write(fn(l.Raw))
		} else {
			b.Write(l.Raw)
		}
	}
	return b.Bytes()
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
