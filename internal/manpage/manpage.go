// Package manpage writes a man page (roff, man macros) from a urfave/cli
// application: name, synopsis, description, global options, and each
// command with its own description and options. It is used by a test of
// package main to generate doc/sshport.1, so the shipped binary carries
// no documentation generator (it is built with -tags urfave_cli_no_docs).
package manpage

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// Page is the text that is not in the CLI definition.
type Page struct {
	Section string    // "1"
	Source  string    // footer, e.g. "sshport"
	Manual  string    // header, e.g. "User Commands"
	Extra   []Section // after COMMANDS: EXIT STATUS, FILES, SEE ALSO ...
}

// Section is a titled block of paragraphs (separated by blank lines),
// then tagged items (a file or variable name and what it is).
type Section struct {
	Title string
	Text  string
	Items []Item
}

// Item is one tagged paragraph.
type Item struct{ Tag, Text string }

// Render returns the man page of app.
func Render(app *cli.App, p Page) []byte {
	var b bytes.Buffer
	name := app.Name
	fmt.Fprintf(&b, ".TH %s %s \"\" %s %s\n", strings.ToUpper(name), p.Section, quote(p.Source), quote(p.Manual))
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", name, esc(app.Usage))

	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(&b, ".B %s\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR]\n", name)

	if app.Description != "" {
		b.WriteString(".SH DESCRIPTION\n")
		paragraphs(&b, app.Description)
	}

	b.WriteString(".SH GLOBAL OPTIONS\n")
	flags(&b, app.VisibleFlags())

	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.VisibleCommands() {
		fmt.Fprintf(&b, ".SS %s", esc(strings.Join(c.Names(), ", ")))
		if c.ArgsUsage != "" {
			fmt.Fprintf(&b, " %s", esc(c.ArgsUsage))
		}
		b.WriteString("\n")
		paragraphs(&b, c.Usage+".")
		if c.Description != "" {
			b.WriteString(".PP\n")
			paragraphs(&b, c.Description)
		}
		if fs := c.VisibleFlags(); len(fs) > 0 {
			flags(&b, fs)
		}
	}
	for _, s := range p.Extra {
		fmt.Fprintf(&b, ".SH %s\n", strings.ToUpper(s.Title))
		if s.Text != "" {
			paragraphs(&b, s.Text)
		}
		for _, it := range s.Items {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n", esc(it.Tag))
			paragraphs(&b, it.Text)
		}
	}
	return b.Bytes()
}

func flags(b *bytes.Buffer, fs []cli.Flag) {
	for _, f := range fs {
		d, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		placeholder, usage := splitUsage(d.GetUsage())
		if d.TakesValue() && placeholder == "" {
			placeholder = "value"
		}
		var names []string
		for _, n := range f.Names() {
			s := "\\fB" + esc(dash(n)) + "\\fR"
			if d.TakesValue() {
				s += " \\fI" + esc(placeholder) + "\\fR"
			}
			names = append(names, s)
		}
		b.WriteString(".TP\n" + strings.Join(names, ", ") + "\n")
		text := usage
		if def := defaultText(d); def != "" {
			text += " (default: " + def + ")"
		}
		paragraphs(b, text)
	}
}

// defaultText is a value flag's default as --help shows it, or "" when the
// default says nothing (empty or zero).
func defaultText(d cli.DocGenerationFlag) string {
	if !d.TakesValue() {
		return ""
	}
	t := d.GetDefaultText()
	if t == "" {
		t = d.GetValue()
	}
	if t == "0" || t == `""` {
		return ""
	}
	return t
}

func dash(n string) string {
	if len(n) == 1 {
		return "-" + n
	}
	return "--" + n
}

// splitUsage returns the `PLACEHOLDER` of a usage text and the text without
// the backquotes, as urfave/cli does.
func splitUsage(u string) (placeholder, text string) {
	i := strings.IndexByte(u, '`')
	if i < 0 {
		return "", u
	}
	j := strings.IndexByte(u[i+1:], '`')
	if j < 0 {
		return "", u
	}
	return u[i+1 : i+1+j], u[:i] + u[i+1:i+1+j] + u[i+2+j:]
}

// paragraphs writes text as roff paragraphs: lines are joined (roff
// fills them), a blank line starts a new paragraph.
func paragraphs(b *bytes.Buffer, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		for _, line := range strings.Split(para, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			b.WriteString(esc(line) + "\n")
		}
	}
}

// esc makes text safe as roff input: backslashes and minus signs escaped,
// a control character at the start of a line neutralised.
func esc(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(esc(s), `"`, `\(dq`) + `"`
}
