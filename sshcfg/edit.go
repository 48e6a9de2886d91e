package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Edit describes a change of where sshd listens. Each part is optional.
type Edit struct {
	// Ports, when not nil, replaces the effective Port directives:
	// the first one (in sshd's order) is rewritten in place with Ports[0],
	// the other new ports are inserted as lines right after it in the same
	// style, and every other effective Port line is deleted (the backup
	// keeps it). With no Port directive at all, one line "Port N" per port
	// is inserted in the main file after its "#Port 22" comment when it
	// has one, else before its first directive.
	Ports []int
	// ListenAddressPorts changes ListenAddress directives that carry their own
	// port: every effective one with port OLD gets port NEW.
	ListenAddressPorts map[int]int
	// LocalPorts changes "Match ... LocalPort OLD" criteria to NEW, so that
	// a connection on the new port gets the settings of the old one.
	LocalPorts map[int]int

	// AddPorts inserts a Port line for each port right after the last
	// effective Port line (so they come last in sshd's order), in its
	// style, leaving every Port line as it is.
	// With no Port directive, "Port 22" (sshd's default, which any Port
	// line replaces) is inserted first, as Ports would.
	AddPorts []int
	// ListenAddressCopies gives every effective ListenAddress with port OLD
	// a sibling with port NEW right after it: the same bytes with the port
	// replaced.
	ListenAddressCopies map[int]int
	// LocalPortCopies gives every Match block with "LocalPort OLD" a copy
	// for NEW right after it (its lines from the Match line to its last
	// directive, the LocalPort value replaced): sshd's LocalPort takes one
	// port, so that is how a connection on either port gets the same
	// settings.
	LocalPortCopies map[int]int
	// DropListenAddressCopies makes ListenAddressPorts delete, rather than
	// rewrite, a ListenAddress OLD line whose host (and rdomain) already
	// has one with NEW (the sibling ListenAddressCopies made).
	DropListenAddressCopies bool
	// DropLocalPortCopies deletes each Match block with "LocalPort OLD"
	// whose Match line, with NEW in its place, another Match line reads
	// exactly (the copy LocalPortCopies made); other blocks stay as they
	// are.
	DropLocalPortCopies map[int]int
}

// Change is one file's old and new contents.
type Change struct {
	Path     string // as sshd names it
	Old, New []byte
}

// Edit returns the new contents of every file the edit changes, in the
// order the files were read. Only the lines named by the edit change; every
// other byte of every file stays as it was. It fails, changing nothing,
// when the configuration has no file to edit.
func (c *Config) Edit(e Edit) ([]Change, error) {
	if e.Ports != nil && len(e.Ports) == 0 {
		return nil, errors.New("an edit must leave at least one port")
	}
	if len(e.Ports) > maxPorts {
		return nil, fmt.Errorf("%d ports is more than sshd accepts (%d)", len(e.Ports), maxPorts)
	}
	for _, p := range e.Ports {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("port %d out of range 1-65535", p)
		}
	}
	for _, p := range e.AddPorts {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("port %d out of range 1-65535", p)
		}
	}
	if n := len(c.explicitPorts()) + len(e.AddPorts); e.Ports == nil && len(e.AddPorts) > 0 && n > maxPorts {
		return nil, fmt.Errorf("%d ports is more than sshd accepts (%d)", n, maxPorts)
	}
	ed := &editor{repl: map[lineKey][][]byte{}, whole: map[*File][]byte{}}
	if e.Ports != nil {
		if err := ed.ports(c, e.Ports); err != nil {
			return nil, err
		}
	}
	if len(e.AddPorts) > 0 {
		if err := ed.addPorts(c, e.AddPorts); err != nil {
			return nil, err
		}
	}
	for _, la := range c.ListenAddresses {
		n, ok := e.ListenAddressPorts[la.Port]
		if !ok || la.Port == 0 {
			continue
		}
		if e.DropListenAddressCopies && slices.ContainsFunc(c.ListenAddresses, func(o ListenAddress) bool {
			return o.Port == n && o.Host == la.Host && o.RDomain == la.RDomain
		}) {
			ed.repl[la.line.key()] = nil
			continue
		}
		ed.repl[la.line.key()] = [][]byte{listenPortLine(la.line, n)}
	}
	copied := map[lineKey]bool{} // a file included twice lists its lines twice
	for _, la := range c.ListenAddresses {
		if n, ok := e.ListenAddressCopies[la.Port]; ok && la.Port != 0 && !copied[la.line.key()] {
			copied[la.line.key()] = true
			ed.insertAfter(c.file(la.File), la.line, listenPortLine(la.line, n))
		}
	}
	for d := range c.Directives() {
		if d.Key != "match" || (len(e.DropLocalPortCopies) == 0 && len(e.LocalPorts) == 0) || !d.HasLocalPort() {
			continue
		}
		dl := d.Line()
		if !HasLocalPort(dl) {
			continue
		}
		if nl, ok := localPortLine(dl, e.DropLocalPortCopies); ok && c.hasMatchLine(nl, dl) {
			for _, l := range d.f.matchBlock(dl) {
				ed.repl[l.key()] = nil
			}
			continue
		}
		if nl, ok := localPortLine(dl, e.LocalPorts); ok {
			ed.repl[dl.key()] = [][]byte{nl}
		}
	}
	if len(e.LocalPortCopies) > 0 {
		seen := map[lineKey]bool{} // a file included twice lists its lines twice
		for d := range c.Directives() {
			if d.Key != "match" || seen[lineKey{d.f, d.idx}] || !d.HasLocalPort() {
				continue
			}
			dl := d.Line()
			if !HasLocalPort(dl) {
				continue
			}
			seen[dl.key()] = true
			nl, ok := localPortLine(dl, e.LocalPortCopies)
			if !ok {
				continue
			}
			f := d.f
			block := f.matchBlock(dl)
			cp := [][]byte{nl}
			for _, l := range block[1:] {
				cp = append(cp, l.Raw)
			}
			ed.insertAfter(f, block[len(block)-1], cp...)
		}
	}
	var out []Change
	for _, f := range c.Files {
		old := f.Bytes()
		// The lines that change, in order; the bytes between them are
		// copied as they are.
		var at []int
		for k := range ed.repl {
			if k.f == f {
				at = append(at, k.idx)
			}
		}
		if ed.whole[f] == nil && len(at) == 0 {
			continue // no copy of an untouched file
		}
		slices.Sort(at)
		var b bytes.Buffer
		b.Grow(len(old) + 4096)
		b.Write(ed.whole[f])
		pos := 0
		for _, i := range at {
			raw := f.raw(i)
			start := int(f.starts[i])
			b.Write(old[pos:start])
			for _, x := range ed.repl[lineKey{f, i}] {
				b.Write(x)
			}
			pos = start + len(raw)
		}
		b.Write(old[pos:])
		if !bytes.Equal(old, b.Bytes()) {
			out = append(out, Change{Path: f.Path, Old: old, New: b.Bytes()})
		}
	}
	return out, nil
}

type editor struct {
	// repl maps a line to what replaces it: nothing (deleted), itself
	// rewritten, or itself followed by inserted lines.
	repl map[lineKey][][]byte
	// whole holds the new contents of an empty file.
	whole map[*File][]byte
}

func (ed *editor) ports(c *Config, ports []int) error {
	var lines []*Line
	var firstFile string
	seen := map[lineKey]bool{}
	for _, p := range c.Ports {
		if p.Default || p.Cmdline {
			continue
		}
		if seen[p.line.key()] {
			// The file is included twice: sshd reads the edited line
			// twice too, binds its port once and logs "Address already
			// in use" for the second copy (check's duplicate finding).
			continue
		}
		if len(lines) == 0 {
			firstFile = p.File
		}
		seen[p.line.key()] = true
		lines = append(lines, p.line)
	}
	if len(lines) == 0 {
		return ed.insertPorts(c, ports)
	}
	first := lines[0]
	arg := first.Args[0]
	head, tok := first.Raw[:arg.Start], first.Raw[arg.Start:arg.End]
	// Inserted lines end like the line they copy; when it ends the file
	// without a newline, it gains the file's usual one and the last
	// inserted line keeps none.
	eol := []byte(first.EOL())
	lastEOL := eol
	if len(eol) == 0 {
		eol = []byte(dominantEOL(c.file(firstFile)))
	}
	out := [][]byte{concat(head, quoteLike(tok, ports[0]), first.Raw[arg.End:])}
	for _, p := range ports[1:] {
		out[len(out)-1] = concat(bytes.TrimSuffix(out[len(out)-1], eol), eol)
		out = append(out, concat(head, quoteLike(tok, p), lastEOL))
	}
	ed.repl[first.key()] = out
	for _, l := range lines[1:] {
		ed.repl[l.key()] = nil
	}
	return nil
}

// portComment finds the stock "#Port 22" comment.
var portComment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[ \t]*#[ \t]*[Pp]ort[ \t=]+[0-9]+[ \t]*\r?\n?$`) })

// insertPorts adds Port lines to the main file when none exists.
func (ed *editor) insertPorts(c *Config, ports []int) error {
	if c.Missing || len(c.Files) == 0 || c.Files[0].Path != c.Main {
		return fmt.Errorf("%s does not exist: there is no file to write the Port to", c.Main)
	}
	f := c.Files[0]
	eol := []byte(dominantEOL(f))
	var lines []byte
	for _, p := range ports {
		lines = append(lines, fmt.Sprintf("Port %d", p)...)
		lines = append(lines, eol...)
	}
	var anchor *Line
	for i := range f.Len() {
		l := f.Line(i)
		if strings.EqualFold(l.Keyword, "match") {
			break
		}
		if portComment().Match(l.Raw) {
			anchor = l
		}
	}
	if anchor != nil {
		raw := anchor.Raw
		if anchor.EOL() == "" { // the comment ends the file
			raw = concat(raw, eol)
			lines = bytes.TrimSuffix(lines, eol)
		}
		ed.repl[anchor.key()] = [][]byte{raw, lines}
		return nil
	}
	for i := range f.Len() {
		if l := f.Line(i); l.IsDirective() {
			ed.repl[l.key()] = [][]byte{lines, l.Raw}
			return nil
		}
	}
	if f.Len() == 0 {
		ed.whole[f] = lines // an empty file: the Port lines are all of it
		return nil
	}
	last := f.Line(f.Len() - 1)
	raw := last.Raw
	if last.EOL() == "" {
		raw = concat(raw, eol)
		lines = bytes.TrimSuffix(lines, eol)
	}
	ed.repl[last.key()] = [][]byte{raw, lines}
	return nil
}

// lineKey names a line of a file: how the editor tells lines apart (a
// line may be read more than once).
type lineKey struct {
	f   *File
	idx int
}

func (l *Line) key() lineKey { return lineKey{l.file, l.idx} }

// listenPortLine returns the ListenAddress line l with its port replaced.
func listenPortLine(l *Line, port int) []byte {
	a := l.Args[0]
	tok := string(l.Raw[a.Start:a.End])
	if tok != a.Text { // quoted or escaped: write it plainly
		host, _, _ := hpdelim(a.Text)
		return concat(l.Raw[:a.Start], []byte(host+":"+strconv.Itoa(port)), l.Raw[a.End:])
	}
	i := strings.LastIndexAny(tok, ":/")
	return concat(l.Raw[:a.Start+i+1], []byte(strconv.Itoa(port)), l.Raw[a.End:])
}

// localPortLine returns the Match line l with each "LocalPort OLD" value
// in m replaced by its NEW, and whether there was one.
func localPortLine(l *Line, m map[int]int) ([]byte, bool) {
	var parts [][]byte
	pos := 0
	for _, c := range l.MatchCriteria() {
		if !strings.EqualFold(c.Name, "localport") {
			continue
		}
		old, ok := c.PortNumber()
		n, want := m[old]
		if !ok || !want {
			continue
		}
		parts = append(parts, l.Raw[pos:c.Start], quoteLike(l.Raw[c.Start:c.End], n))
		pos = c.End
	}
	if parts == nil {
		return nil, false
	}
	return concat(append(parts, l.Raw[pos:])...), true
}

// HasLocalPort reports, without allocating, whether l (a Match line) may
// have a LocalPort criterion: it holds "localport" in any case. A quick
// test before MatchCriteria on large files.
func HasLocalPort(l *Line) bool { return hasLocalPort(l.Rest) }

// HasLocalPort reports, without reading the line, whether the directive (a
// Match line) may have a LocalPort criterion: its bytes hold "localport" in
// any case. A quick test before MatchCriteria on large files.
func (d Directive) HasLocalPort() bool { return hasLocalPort(alias(d.f.raw(d.idx))) }

func hasLocalPort(r string) bool {
	const w = "localport"
	for i := 0; i+len(w) <= len(r); i++ {
		if (r[i] == 'l' || r[i] == 'L') && strings.EqualFold(r[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// hasMatchLine reports whether a Match line other than not reads exactly
// as line (terminators aside).
func (c *Config) hasMatchLine(line []byte, not *Line) bool {
	want := bytes.TrimRight(line, "\r\n")
	for d := range c.Directives() {
		if d.Key == "match" && (lineKey{d.f, d.idx}) != not.key() && bytes.Equal(bytes.TrimRight(d.f.raw(d.idx), "\r\n"), want) {
			return true
		}
	}
	return false
}

// matchBlock returns the lines of the Match block that l opens in f: l and
// every line after it up to the last directive before the next Match line
// or the end of f (comments and blank lines after that last directive
// belong to what follows).
func (f *File) matchBlock(l *Line) []*Line {
	if l.file != f {
		return []*Line{l}
	}
	block := []*Line{l}
	end := 1
	for k := l.idx + 1; k < f.Len(); k++ {
		n := f.Line(k)
		if strings.EqualFold(n.Keyword, "match") {
			break
		}
		block = append(block, n)
		if n.Keyword != "" {
			end = len(block)
		}
	}
	return block[:end]
}

// cur returns what replaces l so far (l itself when nothing does).
func (ed *editor) cur(l *Line) [][]byte {
	if r, ok := ed.repl[l.key()]; ok {
		return r
	}
	return [][]byte{l.Raw}
}

// insertAfter inserts lines (each ending in a newline but perhaps the last)
// after l in f. When l ends the file without a newline, it gains f's usual
// one and the inserted text keeps none at its end.
func (ed *editor) insertAfter(f *File, l *Line, lines ...[]byte) {
	r := slices.Clone(ed.cur(l))
	text := concat(lines...)
	if l.EOL() == "" && len(r) > 0 {
		eol := []byte(dominantEOL(f))
		r[len(r)-1] = concat(r[len(r)-1], eol)
		text = bytes.TrimRight(text, "\r\n")
	} else if !bytes.HasSuffix(text, []byte("\n")) {
		text = concat(text, []byte(l.EOL()))
	}
	ed.repl[l.key()] = append(r, text)
}

// explicitPorts returns the effective Port directives (not the default).
func (c *Config) explicitPorts() []Port {
	var out []Port
	for _, p := range c.Ports {
		if !p.Default {
			out = append(out, p)
		}
	}
	return out
}

// addPorts inserts Port lines after the last effective Port line.
func (ed *editor) addPorts(c *Config, ports []int) error {
	var first *Port // the last effective one: the new ports come last
	for i := range c.Ports {
		if !c.Ports[i].Default {
			first = &c.Ports[i]
		}
	}
	if first == nil {
		return ed.insertPorts(c, append([]int{defaultPort}, ports...))
	}
	l := first.line
	arg := l.Args[0]
	head, tok := l.Raw[:arg.Start], l.Raw[arg.Start:arg.End]
	eol := []byte(l.EOL())
	if len(eol) == 0 {
		eol = []byte(dominantEOL(c.file(first.File)))
	}
	var lines [][]byte
	for _, p := range ports {
		lines = append(lines, concat(head, quoteLike(tok, p), eol))
	}
	ed.insertAfter(c.file(first.File), l, lines...)
	return nil
}

// quoteLike writes port in the quoting style of the token it replaces.
func quoteLike(tok []byte, port int) []byte {
	s := strconv.Itoa(port)
	if len(tok) >= 2 && (tok[0] == '"' || tok[0] == '\'') && tok[len(tok)-1] == tok[0] {
		s = string(tok[0]) + s + string(tok[0])
	}
	return []byte(s)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// file returns the file read under path.
func (c *Config) file(path string) *File {
	for _, f := range c.Files {
		if f.Path == path {
			return f
		}
	}
	return &File{Path: path}
}

func dominantEOL(f *File) string {
	crlf, lf := 0, 0
	for i := range f.Len() {
		switch eol(f.raw(i)) {
		case "\r\n":
			crlf++
		case "\n":
			lf++
		}
	}
	if crlf > lf {
		return "\r\n"
	}
	return "\n"
}

// Overlay returns fsys with the changes' new contents in place of the
// files they name, to read an edited configuration back before writing it.
//
// A change's Path is resolved in fsys as the kernel would (symlinks,
// ".."), so the new contents stand in for the file sshd reads under that
// name, whichever name Load reaches it by.
func Overlay(fsys fs.FS, changes []Change) fs.FS {
	o := overlayFS{base: fsys, over: map[string][]byte{}}
	for _, c := range changes {
		key, err := walkPath(fsys, c.Path, true)
		if err != nil {
			key = fsPath(c.Path)
		}
		o.over[key] = c.New
	}
	return o
}

type overlayFS struct {
	base fs.FS
	over map[string][]byte
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if data, ok := o.over[name]; ok {
		return &memFile{Reader: bytes.NewReader(data), name: path.Base(name), size: int64(len(data))}, nil
	}
	return o.base.Open(name)
}

func (o overlayFS) Stat(name string) (fs.FileInfo, error) {
	if data, ok := o.over[name]; ok {
		return memFile{name: path.Base(name), size: int64(len(data))}, nil
	}
	return fs.Stat(o.base, name)
}

// ReadFile returns an edited file's new contents without a copy (the
// reader must not change them), else the base's file.
func (o overlayFS) ReadFile(name string) ([]byte, error) {
	if data, ok := o.over[name]; ok {
		return data, nil
	}
	return fs.ReadFile(o.base, name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(o.base, name)
}

// Lstat and ReadLink make overlayFS an fs.ReadLinkFS, so that paths are
// resolved through the base's symlinks.
func (o overlayFS) Lstat(name string) (fs.FileInfo, error) {
	if data, ok := o.over[name]; ok {
		return memFile{name: path.Base(name), size: int64(len(data))}, nil
	}
	return fs.Lstat(o.base, name)
}

func (o overlayFS) ReadLink(name string) (string, error) {
	return fs.ReadLink(o.base, name)
}

// memFile is an edited file's new contents; it is its own FileInfo.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f memFile) Close() error               { return nil }
func (f memFile) Name() string               { return f.name }
func (f memFile) Size() int64                { return f.size }
func (f memFile) Mode() fs.FileMode          { return 0o644 }
func (f memFile) ModTime() time.Time         { return time.Time{} }
func (f memFile) IsDir() bool                { return false }
func (f memFile) Sys() any                   { return nil }
