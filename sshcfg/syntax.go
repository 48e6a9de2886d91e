package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// File is one configuration file: its bytes and where each line starts.
// Lines are read from the bytes when asked for (Line, Lines), so that a
// large file costs little more than its size. Bytes() returns the input of
// Parse unchanged.
type File struct {
	Path string // as sshd names it, e.g. /etc/ssh/sshd_config

	data   []byte   // what Parse read: every Line.Raw is a slice of it
	starts []uint32 // offset in data of each line
	lines  []*Line  // every line, once Lines has been called
	noNum  bool     // a command-line -o option: its lines have Num 0
}

// Line is one physical line: its bytes (terminator included) and what sshd
// reads from it.
type Line struct {
	Raw []byte // exact bytes, "\n" or "\r\n" included; the last line may have none
	Num int    // 1-based line number

	// Keyword is the directive keyword as written (after sshd's quote
	// removal), or "" for a blank line or a comment.
	Keyword string
	// Rest is the text after the keyword and its separator, as sshd's
	// strdelim leaves it ("" when there is none). Match lines are read
	// from it.
	Rest string
	// Args are the arguments as sshd's argv_split yields them, each with
	// the span of bytes in Raw it was read from.
	Args []Arg
	// SyntaxErr is set when sshd cannot split the line: "invalid quotes".
	SyntaxErr string

	kwStart, kwEnd int // span of the keyword in Raw
	restOff        int // offset of Rest in Raw

	file *File // the file the line was read from
	idx  int   // 0-based index in file
}

// Arg is one argument of a directive.
type Arg struct {
	Text       string // the value after quote and escape removal
	Start, End int    // byte span in Line.Raw, quotes included
}

// IsDirective reports whether sshd reads a directive from the line.
func (l *Line) IsDirective() bool { return l.Keyword != "" }

// EOL returns the line terminator: "\r\n", "\n" or "" (last line).
func (l *Line) EOL() string { return eol(l.Raw) }

func eol(raw []byte) string {
	switch {
	case bytes.HasSuffix(raw, []byte("\r\n")):
		return "\r\n"
	case bytes.HasSuffix(raw, []byte("\n")):
		return "\n"
	}
	return ""
}

// ErrBinary is returned by Parse for data that is not a text file.
var ErrBinary = errors.New("binary file (contains NUL bytes)")

// Parse splits data into lines the way sshd does. It fails only for binary
// data (a NUL byte), which sshd would silently truncate, and for a file of
// 4 GiB or more.
//
// The File keeps data: every Line.Raw is a slice of it and the strings read
// from a line (Keyword, Rest, Arg.Text) share its bytes where they are
// spelt out in it, so that a large file costs little more than its size.
// The caller must not change data afterwards.
func Parse(path string, data []byte) (*File, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte("\n"))
		return nil, &Error{File: path, Line: line, Msg: ErrBinary.Error()}
	}
	if uint64(len(data)) > math.MaxUint32 {
		return nil, &Error{File: path, Msg: "file too large (4 GiB or more)"}
	}
	f := &File{Path: path, data: data}
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	f.starts = make([]uint32, 0, n)
	for off := 0; off < len(data); {
		f.starts = append(f.starts, uint32(off))
		end := bytes.IndexByte(data[off:], '\n') + 1
		if end == 0 {
			break
		}
		off += end
	}
	return f, nil
}

// Len returns the number of lines.
func (f *File) Len() int { return len(f.starts) }

// raw returns the bytes of line i (0-based).
func (f *File) raw(i int) []byte {
	end := len(f.data)
	if i+1 < len(f.starts) {
		end = int(f.starts[i+1])
	}
	return f.data[f.starts[i]:end:end]
}

// Line returns line i (0-based). Lines read here are the ones Lines
// returns once it has been called; before that each call reads the line
// anew.
func (f *File) Line(i int) *Line {
	if f.lines != nil {
		return f.lines[i]
	}
	l := new(Line)
	f.readLine(l, i, nil)
	return l
}

// readLine reads line i into l, its arguments appended to args[:0] (nil:
// a slice of their own).
func (f *File) readLine(l *Line, i int, args []Arg) {
	num := i + 1
	if f.noNum {
		num = 0
	}
	parseLine(l, num, f.raw(i), args)
	l.file, l.idx = f, i
}

// Lines returns every line, read once and kept: a large file costs some
// eight times its size this way (Line and Len read one line at a time).
func (f *File) Lines() []*Line {
	if f.lines == nil {
		slab := make([]Line, f.Len())
		lines := make([]*Line, f.Len())
		for i := range slab {
			f.readLine(&slab[i], i, nil)
			lines[i] = &slab[i]
		}
		f.lines = lines
	}
	return f.lines
}

// Bytes returns the file's contents.
func (f *File) Bytes() []byte { return f.data }

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parseLine reads one line as servconf.c does: leading " \t\r" stripped
// (load_server_config), trailing whitespace and form feeds stripped, the
// keyword taken with strdelim, the rest split with argv_split.
func parseLine(l *Line, num int, raw []byte, buf []Arg) {
	*l = Line{Raw: raw, Num: num}
	a, b := 0, len(raw)
	if b > 0 && raw[b-1] == '\n' {
		b--
	}
	for a < b && (raw[a] == ' ' || raw[a] == '\t' || raw[a] == '\r') {
		a++
	}
	for b > a+1 && (isWS(raw[b-1]) || raw[b-1] == '\f') {
		b--
	}
	s := raw[a:b]
	kw, ks, ke, rest, ok := strdelim(s, 0)
	if ok && kw == "" && rest >= 0 {
		kw, ks, ke, rest, ok = strdelim(s, rest)
	}
	if !ok || kw == "" || kw[0] == '#' {
		return
	}
	l.Keyword, l.kwStart, l.kwEnd = kw, a+ks, a+ke
	if rest < 0 || rest >= len(s) {
		return
	}
	l.Rest = alias(s[rest:])
	l.restOff = a + rest
	args, err := argvSplit(buf[:0], s, rest)
	if err != nil {
		l.SyntaxErr = "invalid quotes"
		return
	}
	for i := range args {
		args[i].Start += a
		args[i].End += a
	}
	l.Args = args
}

// alias returns b as a string sharing its bytes (see Parse).
func alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// strdelim returns the next word of s starting at off as misc.c's
// strdelim_internal (split_equals=1) does: the word, its span, and the
// offset of what follows (-1 when nothing follows). ok is false when an
// opening quote has no closing quote (sshd then ignores the line).
func strdelim(s []byte, off int) (word string, start, end, next int, ok bool) {
	i := off
	for i < len(s) && !isWS(s[i]) && s[i] != '"' && s[i] != '=' {
		i++
	}
	if i == len(s) {
		return alias(s[off:]), off, len(s), -1, true
	}
	if s[i] == '"' {
		j := i + 1
		for j < len(s) && s[j] != '"' {
			j++
		}
		if j == len(s) {
			return "", 0, 0, -1, false
		}
		word = string(s[off:i]) + string(s[i+1:j])
		next = j + 1
		for next < len(s) && isWS(s[next]) {
			next++
		}
		return word, off, j + 1, next, true
	}
	wspace := s[i] == '='
	word = alias(s[off:i])
	next = i + 1
	for next < len(s) && isWS(s[next]) {
		next++
	}
	if next < len(s) && s[next] == '=' && !wspace {
		next++
		for next < len(s) && isWS(s[next]) {
			next++
		}
	}
	return word, off, i, next, true
}

// argvSplit splits s[off:] as misc.c's argv_split with terminate_on_comment:
// words separated by spaces and tabs, single and double quotes, backslash
// escapes of quotes, backslash and (outside quotes) space; an unquoted '#'
// at the start of a word ends the line.
func argvSplit(args []Arg, s []byte, off int) ([]Arg, error) {
	i := off
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		start := i
		var quote byte
		// While plain, the word is s[start:i] as written and w is not
		// built; a quote or an escape makes it a copy.
		var w []byte
		plain := true
		unplain := func(upto int) {
			if plain {
				w, plain = append([]byte(nil), s[start:upto]...), false
			}
		}
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')) {
					unplain(i)
					i++
				}
				if !plain {
					w = append(w, s[i])
				}
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				unplain(i)
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				if !plain {
					w = append(w, c)
				}
				continue
			}
			break
		}
		if i >= len(s) && quote != 0 {
			return nil, errors.New("invalid quotes")
		}
		text := string(w)
		if plain {
			text = alias(s[start:i])
		}
		args = append(args, Arg{Text: text, Start: start, End: i})
	}
	return args, nil
}

// Error is a problem sshd would report, with the file and line it names.
type Error struct {
	File string // as sshd names it
	Line int    // 0 when sshd names no line
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
}

// ErrorList is every error that made sshd refuse the configuration, in the
// order sshd reports them. The last one is the one that stopped sshd.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Criterion is one "Name Value" pair of a Match line, read as sshd 9.2's
// match_cfg_line reads it (strdelim: "LocalPort=22" is a pair too).
type Criterion struct {
	Name, Value string
	// Start and End span the value in Line.Raw, quotes included.
	Start, End int
}

// PortNumber reads the value as a decimal port, as sshd's a2port does
// before it tries service names ("022" is 22).
func (c Criterion) PortNumber() (int, bool) {
	n, ok := strtonum(c.Value, 1, 65535)
	return int(n), ok
}

// MatchCriteria returns the criteria of a Match line ("all" has no value).
func (l *Line) MatchCriteria() []Criterion {
	if !strings.EqualFold(l.Keyword, "match") {
		return nil
	}
	s := []byte(l.Rest)
	var out []Criterion
	off := 0
	for off >= 0 && off < len(s) {
		name, _, _, next, ok := strdelim(s, off)
		if !ok || name == "" || name[0] == '#' {
			break
		}
		if strings.EqualFold(name, "all") || next < 0 {
			out = append(out, Criterion{Name: name})
			break
		}
		val, vs, ve, next2, ok := strdelim(s, next)
		if !ok {
			break
		}
		out = append(out, Criterion{Name: name, Value: val, Start: l.restOff + vs, End: l.restOff + ve})
		off = next2
	}
	return out
}
