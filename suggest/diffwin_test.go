package suggest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestWindowHunksGolden: the windowed diff of large files gives the golden
// layouts exactly as the whole diff does.
func TestWindowHunksGolden(t *testing.T) {
	for _, tc := range diffCases {
		for _, c := range tc.changes {
			if !c.Changed() {
				continue
			}
			got, ok := windowHunks(c.Old, c.New)
			if want := wholeHunks(c.Old, c.New); !ok || !bytes.Equal(got, want) {
				t.Errorf("%s %s: windowHunks = %v\n%s\nwant\n%s", tc.name, c.Path, ok, got, want)
			}
		}
	}
}

// TestWindowHunksEdits checks the windowed diff on configurations edited
// the way sshcfg.Edit edits them: lines rewritten, inserted after a line,
// deleted, near each other, at the start and at the end, with and without
// a final newline, with CRLF. It always turns old into new; without
// deletions it is the whole diff byte for byte (with them, a line unique in
// its window but not in the file may pair differently).
func TestWindowHunksEdits(t *testing.T) {
	base := func(n int, eol string) []string {
		var ls []string
		for i := range n {
			switch i % 5 {
			case 0:
				ls = append(ls, fmt.Sprintf("# entry %d%s", i, eol))
			case 1:
				ls = append(ls, fmt.Sprintf("Match User u%d%s", i, eol))
			case 2:
				ls = append(ls, "\tX11Forwarding no"+eol)
			case 3:
				ls = append(ls, fmt.Sprintf("\tBanner /etc/b%d%s", i, eol))
			default:
				ls = append(ls, eol)
			}
		}
		return ls
	}
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 400 {
		eol := "\n"
		if iter%7 == 3 {
			eol = "\r\n"
		}
		n := 1 + r.IntN(200)
		old := base(n, eol)
		if iter%5 == 0 {
			old[len(old)-1] = strings.TrimRight(old[len(old)-1], "\r\n") + "x"
		}
		nw := slices.Clone(old)
		deleted := false
		for range 1 + r.IntN(4) {
			k := r.IntN(len(nw))
			switch r.IntN(3) {
			case 0: // rewrite
				nw[k] = fmt.Sprintf("Port %d%s", 1000+r.IntN(60000), eol)
			case 1: // insert after
				nw = slices.Insert(nw, k+1, fmt.Sprintf("ListenAddress 10.0.0.%d:22%s", r.IntN(255), eol))
			default: // delete
				if len(nw) > 1 {
					nw = slices.Delete(nw, k, k+1)
					deleted = true
				}
			}
		}
		o, w := []byte(strings.Join(old, "")), []byte(strings.Join(nw, ""))
		if bytes.Equal(o, w) {
			continue
		}
		got, ok := windowHunks(o, w)
		if !ok {
			t.Fatalf("case %d: windowHunks gave up", iter)
		}
		if res, err := applyHunks(o, got); err != nil || !bytes.Equal(res, w) {
			t.Fatalf("case %d: applying the windowed diff: %v\n%s\ngives\n%s\nwant\n%s", iter, err, got, res, w)
		}
		if want := wholeHunks(o, w); !deleted && !bytes.Equal(got, want) {
			t.Fatalf("case %d: windowHunks =\n%s\nwant\n%s\nold:\n%s\nnew:\n%s", iter, got, want, o, w)
		}
	}
}

// applyHunks applies unified-diff hunks (as hunks returns them) to old,
// checking every context and removed line and the hunk headers.
func applyHunks(old, d []byte) ([]byte, error) {
	split := func(b []byte) [][]byte {
		var out [][]byte
		for len(b) > 0 {
			e := bytes.IndexByte(b, '\n') + 1
			if e == 0 {
				e = len(b)
			}
			out, b = append(out, b[:e]), b[e:]
		}
		return out
	}
	ol, dl := split(old), split(d)
	var out []byte
	pos := 0 // next line of old to copy
	for k := 0; k < len(dl); {
		var a, b, c, n int
		if _, err := fmt.Sscanf(string(dl[k]), "@@ -%d,%d +%d,%d @@\n", &a, &b, &c, &n); err != nil {
			return nil, fmt.Errorf("line %q: %v", dl[k], err)
		}
		k++
		start := a - 1
		if b == 0 {
			start = a
		}
		if start < pos {
			return nil, fmt.Errorf("hunk at %d overlaps", a)
		}
		for ; pos < start; pos++ {
			out = append(out, ol[pos]...)
		}
		for ; k < len(dl) && !bytes.HasPrefix(dl[k], []byte("@@ ")); k++ {
			l := dl[k]
			if k+1 < len(dl) && bytes.HasPrefix(dl[k+1], []byte("\\ ")) {
				l = bytes.TrimSuffix(l, []byte("\n"))
				k++
				dl[k] = nil
			}
			switch {
			case len(l) == 0:
			case l[0] == ' ' || l[0] == '-':
				if pos >= len(ol) || !bytes.Equal(ol[pos], l[1:]) {
					return nil, fmt.Errorf("line %d of old is not %q", pos+1, l[1:])
				}
				if l[0] == ' ' {
					out = append(out, l[1:]...)
				}
				pos++
			case l[0] == '+':
				out = append(out, l[1:]...)
			default:
				return nil, fmt.Errorf("bad line %q", l)
			}
		}
	}
	for ; pos < len(ol); pos++ {
		out = append(out, ol[pos]...)
	}
	return out, nil
}
