package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
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
	// ListenPorts changes ListenAddress directives that carry their own
	// port: every effective one with port OLD gets port NEW.
	ListenPorts map[int]int
	// LocalPorts changes "Match ... LocalPort OLD" criteria to NEW, so that
	// a connection on the new port gets the settings of the old one.
	LocalPorts map[int]int
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
	ed := &editor{repl: map[*Line][][]byte{}}
	if e.Ports != nil {
		if err := ed.ports(c, e.Ports); err != nil {
			return nil, err
		}
	}
	for _, la := range c.ListenAddresses {
		if n, ok := e.ListenPorts[la.Port]; ok && la.Port != 0 {
			ed.replaceListenPort(la.line, n)
		}
	}
	if len(e.LocalPorts) > 0 {
		for _, d := range c.Directives {
			if d.Key == "match" {
				ed.replaceLocalPort(d.Line, e.LocalPorts)
			}
		}
	}
	var out []Change
	for _, f := range c.Files {
		old := f.Bytes()
		var b bytes.Buffer
		for _, l := range f.Lines {
			if r, ok := ed.repl[l]; ok {
				for _, x := range r {
					b.Write(x)
				}
				continue
			}
			b.Write(l.Raw)
		}
		if !bytes.Equal(old, b.Bytes()) {
			out = append(out, Change{Path: f.Path, Old: old, New: b.Bytes()})
		}
	}
	return out, nil
}

type editor struct {
	// repl maps a line to what replaces it: nothing (deleted), itself
	// rewritten, or itself followed by inserted lines.
	repl map[*Line][][]byte
}

func (ed *editor) ports(c *Config, ports []int) error {
	var lines []*Line
	var firstFile string
	seen := map[*Line]bool{}
	for _, p := range c.Ports {
		if p.Default {
			continue
		}
		if seen[p.line] {
			return fmt.Errorf("%s line %d is read more than once (its file is included twice), so no edit of it can leave a single port: remove the repeated Include first", p.File, p.Line)
		}
		if len(lines) == 0 {
			firstFile = p.File
		}
		seen[p.line] = true
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
	ed.repl[first] = out
	for _, l := range lines[1:] {
		ed.repl[l] = nil
	}
	return nil
}

// portComment finds the stock "#Port 22" comment.
var portComment = regexp.MustCompile(`^[ \t]*#[ \t]*[Pp]ort[ \t=]+[0-9]+[ \t]*\r?\n?$`)

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
	for _, l := range f.Lines {
		if strings.EqualFold(l.Keyword, "match") {
			break
		}
		if portComment.Match(l.Raw) {
			anchor = l
		}
	}
	if anchor != nil {
		raw := anchor.Raw
		if anchor.EOL() == "" { // the comment ends the file
			raw = concat(raw, eol)
			lines = bytes.TrimSuffix(lines, eol)
		}
		ed.repl[anchor] = [][]byte{raw, lines}
		return nil
	}
	for _, l := range f.Lines {
		if l.IsDirective() {
			ed.repl[l] = [][]byte{lines, l.Raw}
			return nil
		}
	}
	if len(f.Lines) == 0 {
		return errors.New(f.Path + " is empty: write the Port by hand")
	}
	last := f.Lines[len(f.Lines)-1]
	raw := last.Raw
	if last.EOL() == "" {
		raw = concat(raw, eol)
		lines = bytes.TrimSuffix(lines, eol)
	}
	ed.repl[last] = [][]byte{raw, lines}
	return nil
}

func (ed *editor) replaceListenPort(l *Line, port int) {
	a := l.Args[0]
	tok := string(l.Raw[a.Start:a.End])
	if tok != a.Text { // quoted or escaped: write it plainly
		host, _, _ := hpdelim(a.Text)
		ed.repl[l] = [][]byte{concat(l.Raw[:a.Start], []byte(host+":"+strconv.Itoa(port)), l.Raw[a.End:])}
		return
	}
	i := strings.LastIndexAny(tok, ":/")
	ed.repl[l] = [][]byte{concat(l.Raw[:a.Start+i+1], []byte(strconv.Itoa(port)), l.Raw[a.End:])}
}

func (ed *editor) replaceLocalPort(l *Line, m map[int]int) {
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
	if parts != nil {
		ed.repl[l] = [][]byte{concat(append(parts, l.Raw[pos:])...)}
	}
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
	for _, l := range f.Lines {
		switch l.EOL() {
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
