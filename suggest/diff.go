package suggest

import (
	"bytes"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// FileChange is one file's whole old and new contents.
type FileChange struct {
	// Path is the absolute path as sshd names it, e.g.
	// "/etc/ssh/sshd_config.d/50-cloud-init.conf" (no --root prefix).
	Path string
	// Old is the contents that were read. Apply refuses to write when the
	// file no longer holds exactly these bytes.
	Old []byte
	// New is the contents to write.
	New []byte
}

// Changed reports whether the change alters the file.
func (c FileChange) Changed() bool { return !bytes.Equal(c.Old, c.New) }

// Diff renders one unified diff over every change whose Old differs from
// New, files in the given order. Headers name each file relative to the root
// with git's a/ and b/ prefixes ("--- a/etc/ssh/sshd_config"), so that
// `patch -d / -p1` (or `patch -d IMAGE -p1` for an image) and `git apply`
// run in the root both apply it. Lines keep their bytes, "\r" included; a
// missing final newline is marked "\ No newline at end of file".
//
// A name holding a space is followed by a tab, as git writes it, so that GNU
// patch does not cut the name at the space; a name holding a tab, newline,
// double quote, backslash or other control character is written in git's
// C-style quotes ("a/x\ty"), which GNU patch and git apply both read.
//
// Paths should name no symlink: GNU patch refuses to patch a symlink and
// git apply refuses a path beyond one; ResolveTargets gives the paths of the
// files Apply really writes.
//
// Diff returns nil when nothing changes.
func Diff(changes []FileChange) []byte {
	var out bytes.Buffer
	for _, c := range changes {
		if !c.Changed() {
			continue
		}
		rel := strings.TrimLeft(c.Path, "/")
		out.WriteString("--- " + headerName("a/"+rel) + "\n")
		out.WriteString("+++ " + headerName("b/"+rel) + "\n")
		out.Write(hunks(c.Old, c.New))
	}
	if out.Len() == 0 {
		return nil
	}
	return out.Bytes()
}

// hunks returns the "@@" hunks of the unified diff from old to new, without
// the file headers.
func hunks(old, new []byte) []byte {
	// The names given here only appear in the three header lines
	// ("diff", "---", "+++"), which are dropped.
	d := diff.Diff("a", old, "b", new)
	for range 3 {
		i := bytes.IndexByte(d, '\n')
		if i < 0 {
			return nil
		}
		d = d[i+1:]
	}
	return d
}

// headerName writes name for a "---" or "+++" header line.
func headerName(name string) string {
	if needsQuote(name) {
		return quoteName(name)
	}
	if strings.ContainsRune(name, ' ') {
		// GNU patch ends a name at the first tab, and otherwise at
		// the first whitespace; git apply accepts the trailing tab too.
		return name + "\t"
	}
	return name
}

func needsQuote(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// quoteName quotes name the way git does for paths with special bytes:
// C escapes for the usual controls, three-digit octal for the rest.
func quoteName(name string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteByte('\\')
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + (c>>3)&7)
				b.WriteByte('0' + c&7)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
