package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// File is one configuration file as a list of lines that keep their exact
// bytes. Bytes() returns the input of Parse unchanged.
type File struct {
	Path  string // as sshd names it, e.g. /etc/ssh/sshd_config
	Lines []*Line

	data []byte // what Parse read: every Line.Raw is a slice of it
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
}

// Arg is one argument of a directive.
type Arg struct {
	Text       string // the value after quote and escape removal
	Start, End int    // byte span in Line.Raw, quotes included
}

// IsDirective reports whether sshd reads a directive from the line.
func (l *Line) IsDirective() bool { return l.Keyword != "" }

// EOL returns the line terminator: "\r\n", "\n" or "" (last line).
func (l *Line) EOL() string {
	switch {
	case bytes.HasSuffix(l.Raw, []byte("\r\n")):
		return "\r\n"
	case bytes.HasSuffix(l.Raw, []byte("\n")):
		return "\n"
	}
	return ""
}

// ErrBinary is returned by Parse for data that is not a text file.
var ErrBinary = errors.New("binary file (contains NUL bytes)")

// Parse splits data into lines the way sshd does and reads each line's
// directive. It fails only for binary data (a NUL byte), which sshd would
// silently truncate.
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
	f := &File{Path: path, data: data}
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	// One allocation for every line, one for the pointers.
	slab := make([]Line, n)
	f.Lines = make([]*Line, n)
	for i := 0; len(data) > 0; i++ {
		end := bytes.IndexByte(data, '\n') + 1
		if end == 0 {
			end = len(data)
		}
		parseLine(&slab[i], i+1, data[:end:end])
		f.Lines[i] = &slab[i]
		data = data[end:]
	}
	return f, nil
}

// Bytes returns the file's contents.
func (f *File) Bytes() []byte {
	if f.data != nil {
		return f.data
	}
	var b bytes.Buffer
	for _, l := range f.Lines {
		b.Write(l.Raw)
	}
	return b.Bytes()
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parseLine reads one line as servconf.c does: leading " \t\r" stripped
// (load_server_config), trailing whitespace and form feeds stripped, the
// keyword taken with strdelim, the rest split with argv_split.
func parseLine(l *Line, num int, raw []byte) {
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
	args, err := argvSplit(s, rest)
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
func argvSplit(s []byte, off int) ([]Arg, error) {
	var args []Arg
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
