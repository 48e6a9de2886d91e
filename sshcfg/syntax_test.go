package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParseLine checks what Parse reads from single lines: the keyword,
// the text after it (Rest), the arguments with their byte spans, and the
// syntax error sshd reports. The expectations follow misc.c's strdelim and
// argv_split (OpenSSH 9.2), checked against `sshd -T` where it matters.
func TestParseLine(t *testing.T) {
	type arg struct {
		text string
		raw  string // the bytes of Raw[Start:End]
	}
	tests := []struct {
		name    string
		in      string
		keyword string
		rest    string
		args    []arg
		synErr  string
	}{
		{"plain", "Port 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"no newline", "Port 2222", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"crlf", "Port 2222\r\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"lower case keyword kept as written", "port 22\n", "port", "22", []arg{{"22", "22"}}, ""},
		{"tabs", "\tPort\t\t2222\t\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"leading spaces", "   Port 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"leading CR", "\r Port 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"equals", "Port=2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"equals spaced", "Port = 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"equals before space", "Port= 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		// After "Port=" strdelim stops; the second '=' is the value's.
		{"double equals", "Port==2222\n", "Port", "=2222", []arg{{"=2222", "=2222"}}, ""},
		{"space double equals", "Port = =2222\n", "Port", "=2222", []arg{{"=2222", "=2222"}}, ""},
		{"double quotes", "Port \"2222\"\n", "Port", "\"2222\"", []arg{{"2222", "\"2222\""}}, ""},
		{"single quotes", "Port '2222'\n", "Port", "'2222'", []arg{{"2222", "'2222'"}}, ""},
		{"quote inside word", "Port 22\"22\"\n", "Port", "22\"22\"", []arg{{"2222", "22\"22\""}}, ""},
		{"escaped double quote", `Port "a\"b"` + "\n", "Port", `"a\"b"`, []arg{{`a"b`, `"a\"b"`}}, ""},
		{"escaped backslash", `Port a\\b` + "\n", "Port", `a\\b`, []arg{{`a\b`, `a\\b`}}, ""},
		{"escaped space outside quotes", `Port a\ b` + "\n", "Port", `a\ b`, []arg{{"a b", `a\ b`}}, ""},
		// Inside quotes "\ " is not an escape: both bytes stay.
		{"backslash space in quotes", `Port "\ "` + "\n", "Port", `"\ "`, []arg{{`\ `, `"\ "`}}, ""},
		{"unknown escape kept", `Port a\nb` + "\n", "Port", `a\nb`, []arg{{`a\nb`, `a\nb`}}, ""},
		{"single quote in double quotes", `Port "it's"` + "\n", "Port", `"it's"`, []arg{{"it's", `"it's"`}}, ""},
		{"empty quoted", "Port \"\"\n", "Port", "\"\"", []arg{{"", "\"\""}}, ""},
		{"comment line", "# Port 22\n", "", "", nil, ""},
		{"comment line indented", "  #Port 22\n", "", "", nil, ""},
		{"comment after value", "Port 2222 # old\n", "Port", "2222 # old", []arg{{"2222", "2222"}}, ""},
		{"comment after value no space", "Port 2222 #old\n", "Port", "2222 #old", []arg{{"2222", "2222"}}, ""},
		// '#' inside a word is not a comment: sshd reads "2222#x", a bad port.
		{"hash inside word", "Port 2222#x\n", "Port", "2222#x", []arg{{"2222#x", "2222#x"}}, ""},
		{"quoted hash", "Port \"#2\"\n", "Port", "\"#2\"", []arg{{"#2", "\"#2\""}}, ""},
		{"two args", "Port 2222 3333\n", "Port", "2222 3333", []arg{{"2222", "2222"}, {"3333", "3333"}}, ""},
		{"trailing spaces", "Port 2222   \n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"form feed at end", "Port 2222\f\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"form feed and spaces at end", "Port 2222 \f \r\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"keyword in quotes", "\"Port\" 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"keyword half quoted", "Po\"rt\" 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		{"leading equals", "=Port 2222\n", "Port", "2222", []arg{{"2222", "2222"}}, ""},
		// sshd ignores a line whose keyword has an unclosed quote.
		{"unclosed quote in keyword", "\"Port 2222\n", "", "", nil, ""},
		{"unclosed quote in value", "Port \"2222\n", "Port", "\"2222", nil, "invalid quotes"},
		{"unclosed single quote", "Port '2222\n", "Port", "'2222", nil, "invalid quotes"},
		{"keyword only", "Port\n", "Port", "", nil, ""},
		{"keyword and equals", "Port=\n", "Port", "", nil, ""},
		{"keyword and spaces", "Port   \n", "Port", "", nil, ""},
		{"blank", "\n", "", "", nil, ""},
		{"spaces only", "  \t \r\n", "", "", nil, ""},
		// A lone form feed is not white space to strdelim: sshd reads it as
		// a keyword ("no argument after keyword \"\014\"").
		{"form feed alone", "\f\n", "\f", "", nil, ""},
		// A CR inside a line separates the keyword (strdelim) but not
		// arguments (argv_split).
		{"inner CR", "Port\r22\r3\n", "Port", "22\r3", []arg{{"22\r3", "22\r3"}}, ""},
		{"match line", "Match User bob # x\n", "Match", "User bob # x", []arg{{"User", "User"}, {"bob", "bob"}}, ""},
		{"BOM", "\ufeffPort 22\n", "\ufeffPort", "22", []arg{{"22", "22"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("/etc/ssh/sshd_config", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if len(f.Lines()) != 1 {
				t.Fatalf("Parse(%q): %d lines, want 1", tt.in, len(f.Lines()))
			}
			l := f.Lines()[0]
			if string(l.Raw) != tt.in || l.Num != 1 {
				t.Errorf("Raw=%q Num=%d, want %q 1", l.Raw, l.Num, tt.in)
			}
			if l.Keyword != tt.keyword || l.Rest != tt.rest || l.SyntaxErr != tt.synErr {
				t.Errorf("Parse(%q): Keyword=%q Rest=%q SyntaxErr=%q, want %q %q %q",
					tt.in, l.Keyword, l.Rest, l.SyntaxErr, tt.keyword, tt.rest, tt.synErr)
			}
			if l.IsDirective() != (tt.keyword != "") {
				t.Errorf("IsDirective()=%v", l.IsDirective())
			}
			var got []arg
			for _, a := range l.Args {
				if a.Start < 0 || a.End > len(l.Raw) || a.Start > a.End {
					t.Fatalf("arg %q span [%d,%d) outside Raw (len %d)", a.Text, a.Start, a.End, len(l.Raw))
				}
				got = append(got, arg{a.Text, string(l.Raw[a.Start:a.End])})
			}
			if !reflect.DeepEqual(got, tt.args) {
				t.Errorf("Parse(%q) args = %q, want %q", tt.in, got, tt.args)
			}
			if tt.keyword != "" {
				if kw := string(l.Raw[l.kwStart:l.kwEnd]); strings.ReplaceAll(kw, "\"", "") != tt.keyword {
					t.Errorf("keyword span %q does not hold keyword %q", kw, tt.keyword)
				}
			}
		})
	}
}

// TestParseLines checks line splitting and numbering: only '\n' ends a
// line, the terminator stays in Raw, and EOL reports it.
func TestParseLines(t *testing.T) {
	tests := []struct {
		in   string
		raws []string
		eols []string
	}{
		{"", nil, nil},
		{"\n", []string{"\n"}, []string{"\n"}},
		{"\r\n\r\n", []string{"\r\n", "\r\n"}, []string{"\r\n", "\r\n"}},
		{"Port 22", []string{"Port 22"}, []string{""}},
		{"a\nb", []string{"a\n", "b"}, []string{"\n", ""}},
		{"a\r\nb\nc\r", []string{"a\r\n", "b\n", "c\r"}, []string{"\r\n", "\n", ""}},
		{"a\rb\n", []string{"a\rb\n"}, []string{"\n"}},
		{"\n\n\n", []string{"\n", "\n", "\n"}, []string{"\n", "\n", "\n"}},
	}
	for _, tt := range tests {
		f, err := Parse("x", []byte(tt.in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		var raws, eols []string
		for i, l := range f.Lines() {
			if l.Num != i+1 {
				t.Errorf("Parse(%q): line %d has Num %d", tt.in, i+1, l.Num)
			}
			raws = append(raws, string(l.Raw))
			eols = append(eols, l.EOL())
		}
		if !reflect.DeepEqual(raws, tt.raws) || !reflect.DeepEqual(eols, tt.eols) {
			t.Errorf("Parse(%q): lines %q eols %q, want %q %q", tt.in, raws, eols, tt.raws, tt.eols)
		}
		if f.Path != "x" {
			t.Errorf("Path = %q", f.Path)
		}
	}
}

// TestRoundTrip checks Bytes() == input for odd inputs, and that data
// with a NUL byte is refused with ErrBinary's text and the line of the NUL.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		errText string // "" when Parse must succeed
	}{
		{"empty", "", ""},
		{"only newline", "\n", ""},
		{"two CRLF", "\r\n\r\n", ""},
		{"no final newline", "Port 22", ""},
		{"trailing spaces", "Port 22   \n   ", ""},
		{"tabs and equals", "\tPort\t=\t22\t\n", ""},
		{"mixed endings", "Port 22\r\nPort 23\nPort 24\r", ""},
		{"comments", "# c\n  #Port 22\nPort 22 # x\n", ""},
		{"quotes", "Port \"22\"\nPort '23'\nPort \"24\n", ""},
		{"form feeds", "\f\nPort 22\f\n\f", ""},
		{"BOM", "\ufeffPort 22\n", ""},
		{"invalid UTF-8", "Port \xff\xfe\n", ""},
		{"lone CR", "\r", ""},
		{"NUL first line", "Port 22\x00\n", "/etc/ssh/sshd_config line 1: " + ErrBinary.Error()},
		{"NUL third line", "a\nb\n\x00", "/etc/ssh/sshd_config line 3: " + ErrBinary.Error()},
		{"NUL alone", "\x00", "/etc/ssh/sshd_config line 1: " + ErrBinary.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("/etc/ssh/sshd_config", []byte(tt.in))
			if tt.errText != "" {
				var e *Error
				if err == nil || err.Error() != tt.errText || !errors.As(err, &e) {
					t.Fatalf("Parse(%q) error = %v, want *Error %q", tt.in, err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := string(f.Bytes()); got != tt.in {
				t.Errorf("Bytes() = %q, want %q", got, tt.in)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Msg: "m"}, "m"},
		{&Error{File: "/f", Msg: "m"}, "/f: m"},
		{&Error{File: "/f", Line: 3, Msg: "m"}, "/f line 3: m"},
		{ErrorList{}, "no errors"},
		{ErrorList{{File: "/f", Line: 1, Msg: "a"}}, "/f line 1: a"},
		{ErrorList{{File: "/f", Line: 1, Msg: "a"}, {File: "/g", Msg: "b"}, {Msg: "c"}}, "/f line 1: a (and 2 more errors)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestLineReadAgain: a line read on its own (File.Line) is the line Lines
// reads, and Lines keeps what it read.
func TestLineReadAgain(t *testing.T) {
	for _, in := range []string{
		"",
		"Port 22",
		"Port 22\n",
		"# c\r\n\r\nPort \"2 2\"\r\n  Match User a LocalPort=22 # x\nListenAddress [::1]:22\n\tBad \"quote\nlast",
		"\n\n\n",
	} {
		a, err := Parse("/f", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Parse("/f", []byte(in))
		all := b.Lines()
		if len(all) != a.Len() {
			t.Fatalf("%q: Lines has %d, Len %d", in, len(all), a.Len())
		}
		var joined []byte
		for i, want := range all {
			got := a.Line(i)
			if !bytes.Equal(got.Raw, want.Raw) || got.Num != want.Num || got.Keyword != want.Keyword || got.Rest != want.Rest ||
				got.SyntaxErr != want.SyntaxErr || !reflect.DeepEqual(got.Args, want.Args) {
				t.Errorf("%q line %d: Line = %+v, Lines has %+v", in, i, got, want)
			}
			if b.Line(i) != want {
				t.Errorf("%q line %d: Line after Lines is not the line Lines holds", in, i)
			}
			joined = append(joined, got.Raw...)
		}
		if string(joined) != in || string(a.Bytes()) != in {
			t.Errorf("%q: lines join to %q", in, joined)
		}
	}
}

// TestDirectivesManyKeywords: directives keep their lower-case keyword
// beyond the 65535 distinct keywords a directive's record can name (a file
// of unknown keywords, which sshd refuses but Load reads on).
func TestDirectivesManyKeywords(t *testing.T) {
	var b strings.Builder
	b.WriteString("Port 22\n")
	for i := range 70000 {
		fmt.Fprintf(&b, "Vendor%dOption yes\n", i)
	}
	fsys := fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte(b.String())}}
	cfg, err := Load(fsys, "/etc/ssh/sshd_config", &Options{OpenSSH: "9.2"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for d := range cfg.Directives() {
		if want := strings.ToLower(d.Line().Keyword); d.Key != want || d.Num() != n+1 || d.File != "/etc/ssh/sshd_config" || !d.Active {
			t.Fatalf("directive %d: %+v (line %d), want key %s", n, d, d.Num(), want)
		}
		n++
	}
	if n != 70001 {
		t.Errorf("%d directives, want 70001", n)
	}
}
