package suggest

import (
	"bytes"
	"fmt"
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
// the file headers. Files of up to wholeDiffMax bytes together are diffed
// whole; larger ones window by window (windowHunks), as go-internal's diff
// copies both files into strings, splits them into lines and maps every
// line: some 20 times their size.
func hunks(old, new []byte) []byte {
	if len(old)+len(new) > wholeDiffMax {
		if d, ok := windowHunks(old, new); ok {
			return d
		}
	}
	return wholeHunks(old, new)
}

// wholeDiffMax is the size (old and new together) up to which a file is
// diffed whole: far above any real sshd_config. A variable for tests.
var wholeDiffMax = 4 << 20

func wholeHunks(old, new []byte) []byte {
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

const (
	diffContext = 3    // context lines of a hunk, as go-internal's diff
	resyncLines = 8    // equal lines that end a run of differences
	resyncMax   = 4096 // lines searched ahead for them before diffing whole
)

// window is a span of lines, the same on both sides but for what changed
// in it: lines [x0,x1) of old at bytes [bx0,bx1), [y0,y1) of new at
// [by0,by1).
type window struct {
	x0, x1, y0, y1     int
	bx0, bx1, by0, by1 int
}

// windowHunks diffs old and new without holding more than the changed
// windows: it walks both files line by line, finds each run of differing
// lines (up to resyncMax lines long, else it reports !ok), widens it by
// diffContext equal lines each way, merges windows closer than 2 *
// diffContext lines (where go-internal's diff makes one hunk of two
// changes), diffs each window with go-internal's diff and renumbers its
// hunks. The edits sshport makes change, insert or delete a few lines each,
// and for them the result is the whole diff's; only where a window's lines
// are unique in it but not in the whole file may the pairing of removed and
// added lines differ (still a correct diff).
func windowHunks(old, new []byte) ([]byte, bool) {
	var wins []window
	i, j, lx, ly := 0, 0, 0, 0
	for i < len(old) || j < len(new) {
		ei, ej := lineEnd(old, i), lineEnd(new, j)
		if i < len(old) && j < len(new) && bytes.Equal(old[i:ei], new[j:ej]) {
			i, j, lx, ly = ei, ej, lx+1, ly+1
			continue
		}
		xs, ys := lineStarts(old, i, resyncMax+resyncLines), lineStarts(new, j, resyncMax+resyncLines)
		a, b, ok := resync(old, new, xs, ys)
		if !ok {
			return nil, false
		}
		w := window{x0: lx, y0: ly, bx0: i, by0: j, x1: lx + a, y1: ly + b, bx1: xs[a], by1: ys[b]}
		// Widen by diffContext lines back (equal lines: the same count
		// on both sides) and merge with the window before when the two
		// are closer than 2 * diffContext lines.
		n := 0
		for n < diffContext && w.bx0 > 0 && w.by0 > 0 {
			w.bx0, w.by0 = lineStart(old, w.bx0-1), lineStart(new, w.by0-1)
			w.x0, w.y0, n = w.x0-1, w.y0-1, n+1
		}
		if k := len(wins) - 1; k >= 0 && w.x0-wins[k].x1 < diffContext {
			wins[k].x1, wins[k].y1, wins[k].bx1, wins[k].by1 = w.x1, w.y1, w.bx1, w.by1
		} else {
			wins = append(wins, w)
		}
		i, j, lx, ly = w.bx1, w.by1, w.x1, w.y1
		// Widen forward by diffContext equal lines (or fewer at the end).
		for n := 0; n < diffContext && i < len(old) && j < len(new); n++ {
			ei, ej := lineEnd(old, i), lineEnd(new, j)
			if !bytes.Equal(old[i:ei], new[j:ej]) {
				break // the next difference: the loop above takes it on
			}
			i, j, lx, ly = ei, ej, lx+1, ly+1
		}
		k := len(wins) - 1
		wins[k].x1, wins[k].y1, wins[k].bx1, wins[k].by1 = lx, ly, i, j
	}
	var out []byte
	for _, w := range wins {
		d := wholeHunks(old[w.bx0:w.bx1], new[w.by0:w.by1])
		for len(d) > 0 {
			e := bytes.IndexByte(d, '\n') + 1
			if e == 0 {
				e = len(d)
			}
			line := d[:e]
			d = d[e:]
			var a, b, c, n int
			if bytes.HasPrefix(line, []byte("@@ ")) {
				if _, err := fmt.Sscanf(string(line), "@@ -%d,%d +%d,%d @@\n", &a, &b, &c, &n); err == nil {
					out = fmt.Appendf(out, "@@ -%d,%d +%d,%d @@\n", a+w.x0, b, c+w.y0, n)
					continue
				}
			}
			out = append(out, line...)
		}
	}
	return out, true
}

// resync finds the first place after a difference where old and new agree
// again: the smallest a+b such that resyncLines lines of old from line xs[a]
// equal those of new from ys[b], or both reach their ends equal. xs and ys
// are the line starts ahead (lineStarts).
func resync(old, new []byte, xs, ys []int) (a, b int, ok bool) {
	for d := 1; d <= len(xs)+len(ys); d++ {
		for a = max(0, d-len(ys)+1); a <= d && a < len(xs); a++ {
			b = d - a
			if agree(old, new, xs[a:], ys[b:]) {
				return a, b, true
			}
		}
	}
	return 0, 0, false
}

// agree reports whether the lines starting at xs[0] and ys[0] are equal for
// resyncLines lines, or up to both ends.
func agree(old, new []byte, xs, ys []int) bool {
	for k := 0; k < resyncLines; k++ {
		if k >= len(xs) || k >= len(ys) {
			return false // looked no further: not known to agree
		}
		i, j := xs[k], ys[k]
		if i == len(old) || j == len(new) {
			return i == len(old) && j == len(new)
		}
		if !bytes.Equal(old[i:lineEnd(old, i)], new[j:lineEnd(new, j)]) {
			return false
		}
	}
	return true
}

// lineStarts returns the offsets of up to n lines of b from off on, off
// first, followed by len(b) when the end comes first.
func lineStarts(b []byte, off, n int) []int {
	out := []int{off}
	for len(out) < n && off < len(b) {
		off = lineEnd(b, off)
		out = append(out, off)
	}
	return out
}

// lineEnd returns the offset after the line of b starting at off, its
// newline included.
func lineEnd(b []byte, off int) int {
	if k := bytes.IndexByte(b[off:], '\n'); k >= 0 {
		return off + k + 1
	}
	return len(b)
}

// lineStart returns the offset of the line of b holding offset off.
func lineStart(b []byte, off int) int {
	return bytes.LastIndexByte(b[:off], '\n') + 1
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
