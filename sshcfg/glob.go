package sshcfg

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
)

// sshd expands Include patterns with the glob(3) of OpenBSD that
// openssh-portable carries (openbsd-compat/glob.c; glibc's lacks gl_matchc,
// so every Linux sshd uses it), with no flags. glob below follows it:
//
//   - a backslash makes the next character plain ("\*", "\[", "\/" is a
//     slash all the same); a trailing backslash is itself;
//   - "*" any run of characters, "?" one character;
//   - "[" opens a set only when an unescaped "]" follows somewhere after
//     its first member; otherwise it is a plain "[" ("[x.conf" names the
//     file "[x.conf"). "[!" negates ("^" is a plain member); "]" right
//     after "[" or "[!" is a member; "a-z" is a byte range; "[:alpha:]"
//     and the other POSIX classes (C locale) work, and an unknown class
//     makes the whole pattern match nothing. A set that holds a "/"
//     never matches (glob splits the pattern there);
//   - a name starting with "." is matched only by a segment starting with
//     a plain "." (".*" matches "." and ".." too, as readdir lists them);
//   - segments without wildcards are copied as written ("..", ".", "//"
//     included) and the kernel resolves the result: "file/../x" is
//     ENOTDIR, "link/../x" starts from the link's target. The path found
//     must exist for lstat(2) (a dangling symlink counts);
//   - a directory that cannot be opened or listed is skipped silently;
//   - results are sorted bytewise and named as built ("/etc/ssh/./x").

type globKind uint8

const (
	gLit  globKind = iota // c
	gSep                  // '/', from the pattern (or an escaped "\/")
	gStar                 // '*'
	gOne                  // '?'
	gSet                  // '[...]'
)

type globTok struct {
	kind  globKind
	c     byte
	neg   bool
	items []setItem
}

type setItem struct {
	lo, hi byte
	class  func(byte) bool // nil: the range lo-hi
}

type pchar struct {
	c    byte
	prot bool // escaped with a backslash
}

// errGlobOverrun: sshd's glob(3) reads past the end of the pattern and
// crashes (a "[" whose only "]" closes a "[:class:]" leaves the set open;
// sshd -T dies of a segmentation fault).
var errGlobOverrun = errors.New(`sshd's glob(3) reads past the end of this pattern and crashes: a "[" set must be closed by a "]" after its "[:class:]"`)

// compileGlob turns a pattern into tokens. ok is false when the pattern
// can match nothing at all (an unknown character class, a set holding a
// "/"); err is errGlobOverrun when sshd would crash on it.
func compileGlob(pattern string) (toks []globTok, ok bool, err error) {
	var in []pchar
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' {
			if i+1 < len(pattern) {
				i++
				in = append(in, pchar{pattern[i], true})
			} else {
				in = append(in, pchar{'\\', true})
			}
			continue
		}
		in = append(in, pchar{c, false})
	}
	slash, noMatch := false, false
	is := func(i int, c byte) bool { return i < len(in) && !in[i].prot && in[i].c == c }
	closes := func(from int) bool {
		for j := from; j < len(in); j++ {
			if is(j, ']') {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(in); {
		pc := in[i]
		i++
		if pc.prot {
			toks = append(toks, litTok(pc.c))
			continue
		}
		switch pc.c {
		case '[':
			j := i
			neg := is(j, '!')
			if neg {
				j++
			}
			if j >= len(in) || !closes(j+1) {
				toks = append(toks, globTok{kind: gLit, c: '['})
				continue
			}
			set := globTok{kind: gSet, neg: neg}
			c := in[j]
			j++
			for {
				if !c.prot && c.c == '[' && is(j, ':') {
					for !c.prot && c.c == '[' && is(j, ':') {
						class, n, valid := charClass(in[j+1:])
						if n == 0 {
							break // not a class: '[' is a member
						}
						if !valid {
							return nil, false, nil
						}
						set.items = append(set.items, setItem{class: class})
						j += 1 + n
						if j >= len(in) {
							return nil, false, errGlobOverrun
						}
						c = in[j]
						j++
					}
					// Only a class just read leaves c at ']'.
					if !c.prot && c.c == ']' {
						break
					}
				}
				item := setItem{lo: c.c, hi: c.c}
				if is(j, '-') && j+1 < len(in) && !is(j+1, ']') {
					item.hi = in[j+1].c
					j += 2
				}
				if j >= len(in) {
					return nil, false, errGlobOverrun
				}
				if item.lo == '/' || item.hi == '/' {
					slash = true
				}
				set.items = append(set.items, item)
				c = in[j]
				j++
				if !c.prot && c.c == ']' {
					break
				}
			}
			i = j
			toks = append(toks, set)
			if slash {
				// glob splits the pattern inside the set: nothing
				// can match.
				noMatch = true
			}
		case '?':
			toks = append(toks, globTok{kind: gOne})
		case '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != gStar {
				toks = append(toks, globTok{kind: gStar})
			}
		default:
			toks = append(toks, litTok(pc.c))
		}
	}
	return toks, !noMatch, nil
}

func litTok(c byte) globTok {
	if c == '/' {
		return globTok{kind: gSep, c: '/'}
	}
	return globTok{kind: gLit, c: c}
}

// charClass reads "name:]" (after "[:"): it returns the class, the number
// of characters read, and whether the name is known. n is 0 when this is
// no class at all (no ":]" ahead).
func charClass(in []pchar) (class func(byte) bool, n int, valid bool) {
	colon := -1
	for i, pc := range in {
		if !pc.prot && pc.c == ':' {
			colon = i
			break
		}
	}
	if colon < 0 || colon+1 >= len(in) || in[colon+1].prot || in[colon+1].c != ']' {
		return nil, 0, false
	}
	var name strings.Builder
	for _, pc := range in[:colon] {
		if pc.prot {
			return nil, colon + 2, false
		}
		name.WriteByte(pc.c)
	}
	class, valid = charClasses[name.String()]
	return class, colon + 2, valid
}

var charClasses = map[string]func(byte) bool{
	"alnum":  func(c byte) bool { return isAlpha(c) || isDigit(c) },
	"alpha":  isAlpha,
	"blank":  func(c byte) bool { return c == ' ' || c == '\t' },
	"cntrl":  func(c byte) bool { return c < 0x20 || c == 0x7f },
	"digit":  isDigit,
	"graph":  func(c byte) bool { return c > 0x20 && c < 0x7f },
	"lower":  func(c byte) bool { return c >= 'a' && c <= 'z' },
	"print":  func(c byte) bool { return c >= 0x20 && c < 0x7f },
	"punct":  func(c byte) bool { return c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c) },
	"space":  func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') },
	"upper":  func(c byte) bool { return c >= 'A' && c <= 'Z' },
	"xdigit": func(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') },
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// matchSegment matches one directory entry name against a segment's tokens
// (no gSep among them).
func matchSegment(name string, pat []globTok) bool {
	n, p := 0, 0
	starP, starN := -1, 0
	for {
		if p < len(pat) {
			t := pat[p]
			switch t.kind {
			case gStar:
				starP, starN = p, n
				p++
				continue
			case gOne:
				if n < len(name) {
					n++
					p++
					continue
				}
			case gSet:
				if n < len(name) && t.setMatch(name[n]) {
					n++
					p++
					continue
				}
			default:
				if n < len(name) && name[n] == t.c {
					n++
					p++
					continue
				}
			}
		} else if n == len(name) {
			return true
		}
		if starP < 0 || starN >= len(name) {
			return false
		}
		starN++
		p, n = starP+1, starN
	}
}

func (t globTok) setMatch(c byte) bool {
	ok := false
	for _, it := range t.items {
		if it.class != nil {
			ok = ok || it.class(c)
		} else if it.lo <= c && c <= it.hi {
			ok = true
		}
	}
	return ok != t.neg
}

// unreadable is a place glob had to look at and could not.
type unreadable struct {
	path string // as sshd would name it
	dir  bool   // a directory to list, else a path to look up
	err  error
}

// glob expands an Include pattern as sshd's glob(3) does (see above) over
// fsys, whose root is "/". It also returns the places it could not read
// for reasons that may be this user's alone (permission denied): sshd
// skips unreadable places silently too, but as root it rarely meets one.
func glob(fsys fs.FS, pattern string) (matches []string, missed []unreadable, err error) {
	toks, ok, err := compileGlob(pattern)
	if err != nil || !ok || len(toks) == 0 {
		return nil, nil, err
	}
	g := &globber{fsys: fsys}
	g.walk("", toks)
	sort.Strings(g.out)
	return g.out, g.missed, nil
}

type globber struct {
	fsys   fs.FS
	out    []string
	missed []unreadable
}

func (g *globber) walk(built string, toks []globTok) {
	for {
		if len(toks) == 0 {
			if _, err := g.lstat(built); err != nil {
				if !ordinaryMiss(err) {
					g.missed = append(g.missed, unreadable{path: built, err: underlying(err)})
				}
				return
			}
			g.out = append(g.out, built)
			return
		}
		end := 0
		meta := false
		for end < len(toks) && toks[end].kind != gSep {
			if toks[end].kind != gLit {
				meta = true
			}
			end++
		}
		if meta {
			g.expand(built, toks[:end], toks[end:])
			return
		}
		var b strings.Builder
		b.WriteString(built)
		for _, t := range toks[:end] {
			b.WriteByte(t.c)
		}
		for end < len(toks) && toks[end].kind == gSep {
			b.WriteByte('/')
			end++
		}
		built, toks = b.String(), toks[end:]
	}
}

func (g *globber) lstat(p string) (fs.FileInfo, error) {
	if p == "" {
		p = "."
	}
	name, err := walkPath(g.fsys, p, false)
	if err != nil {
		return nil, err
	}
	return fs.Lstat(g.fsys, name)
}

// expand lists dir (as built so far) and goes on with each entry that
// matches seg.
func (g *globber) expand(dir string, seg, rest []globTok) {
	open := dir
	if open == "" {
		open = "." // sshd's working directory is "/"
	}
	names, err := g.readDir(open)
	if err != nil {
		if !ordinaryMiss(err) {
			g.missed = append(g.missed, unreadable{path: open, dir: true, err: underlying(err)})
		}
		return
	}
	leadingDot := seg[0].kind == gLit && seg[0].c == '.'
	for _, n := range names {
		if n[0] == '.' && !leadingDot {
			continue
		}
		if matchSegment(n, seg) {
			g.walk(dir+n, rest)
		}
	}
}

// readDir lists a directory as readdir(3) does: "." and ".." included.
func (g *globber) readDir(dir string) ([]string, error) {
	name, err := walkPath(g.fsys, dir, true)
	if err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir(g.fsys, name)
	if err != nil {
		return nil, err
	}
	names := []string{".", ".."}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// IncludeMayRead reports whether sshd, expanding the Include pattern over
// fsys (a relative pattern is taken below SSHDir, as sshd takes it), would
// read a file named base in the directory dir were one there. dir is
// resolved as the kernel resolves it (its symlinks followed), and counts
// when some directory the pattern's leading segments expand to resolves to
// the same place: "Include /etc/ssh/sshd_config.d/*" reads
// /etc/ssh/real.d/x when sshd_config.d is a symlink to real.d. base must
// match the last segment as glob(3) matches it (a leading "." only by a
// plain "."). A directory that does not exist yet counts for nothing (the
// caller matches the pattern's text too), nor does a pattern sshd cannot
// expand.
func IncludeMayRead(fsys fs.FS, pattern, dir, base string) bool {
	if !strings.HasPrefix(pattern, "/") && !strings.HasPrefix(pattern, "~") {
		pattern = SSHDir + "/" + pattern
	}
	toks, ok, err := compileGlob(pattern)
	if err != nil || !ok {
		return false
	}
	last := -1
	for i, t := range toks {
		if t.kind == gSep {
			last = i
		}
	}
	seg := toks[last+1:]
	if last < 0 || len(seg) == 0 || base == "" {
		return false
	}
	if base[0] == '.' && (seg[0].kind != gLit || seg[0].c != '.') {
		return false
	}
	if !matchSegment(base, seg) {
		return false
	}
	want, err := walkPath(fsys, dir, true)
	if err != nil {
		return false
	}
	g := &globber{fsys: fsys}
	g.walk("", toks[:last+1])
	for _, m := range g.out {
		if got, err := walkPath(fsys, m, true); err == nil && got == want {
			return true
		}
	}
	return false
}
