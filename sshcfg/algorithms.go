package sshcfg

import (
	"fmt"
	"strings"
)

// algKind selects the table an algorithm list is judged against.
type algKind int

const (
	algCiphers algKind = iota
	algMACs
	algKex
	algKeys
)

// releasesOf returns the releases that know name as an algorithm of kind.
func releasesOf(kind algKind, name string) relSet {
	switch kind {
	case algCiphers:
		return cipherReleases[name]
	case algMACs:
		return macReleases[name]
	case algKex:
		return kexReleases[name]
	}
	// sshkey_type_from_name: full names, and the short names of plain keys.
	return keyReleases[name] | certReleases[name] | keyShortReleases[strings.ToLower(name)]
}

// patternReleases returns the releases in which a key type pattern
// ("ssh-ed25519*", "!ssh-rsa") matches some key type name
// (sshkey_names_valid2 with wildcards allowed).
func patternReleases(p string) relSet {
	p = strings.TrimPrefix(p, "!")
	var s relSet
	for _, m := range []map[string]relSet{keyReleases, certReleases} {
		for name, rs := range m {
			if rs&^s != 0 && matchPattern(name, p) {
				s |= rs
			}
		}
	}
	return s
}

// matchPattern is match.c's match_pattern: '*' and '?' wildcards.
func matchPattern(s, p string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if matchPattern(s[i:], p) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		s, p = s[1:], p[1:]
	}
	return s == ""
}

// algorithms judges an algorithm list (Ciphers, MACs, KexAlgorithms and
// the key type lists) as servconf.c does for the release being judged:
// a "-" list is not checked, "+" and "^" lists without their prefix, and
// the names up to the first empty one (sshd's loop stops there). A name no
// release knows is fatal with sshd's message; a name other releases know
// is fatal for a known release and a warning when the release is assumed.
func (l *loader) algorithms(f *File, ln *Line, key, arg string, kind algKind, active bool, msg string) {
	if active {
		if _, seen := l.vs.algLists[key]; !seen {
			l.vs.algLists[key] = algList{file: f.Path, line: ln.Num, value: arg}
		}
	}
	r := l.rel.bit()
	list := arg
	switch {
	case strings.HasPrefix(arg, "-") && minusReleases&r != 0:
		return
	case strings.HasPrefix(arg, "+"), strings.HasPrefix(arg, "^") && caretReleases&r != 0:
		list = arg[1:]
	}
	if list == "" {
		l.fatalf(f.Path, ln.Num, msg, arg)
	}
	for _, n := range strings.Split(list, ",") {
		if n == "" {
			break
		}
		if kind == algKex && gssKexName(n) {
			continue // the GSSAPI key exchange patch of Debian, Ubuntu, Fedora and RHEL
		}
		rs := releasesOf(kind, n)
		if kind == algKeys && rs&r == 0 {
			rs |= patternReleases(n)
		}
		if rs&r != 0 {
			if exact := releasesOf(kind, n); !l.rel.detected && exact != 0 && exact != allReleases {
				l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
					Msg: fmt.Sprintf("%s: OpenSSH %s refuse %s (known to OpenSSH %s%s)", ln.Keyword, allReleases&^exact, n, exact, assumedNote)})
			}
			continue
		}
		if rs == 0 {
			l.fatalf(f.Path, ln.Num, msg+" (%s: no OpenSSH release %s to %s knows it)", arg, n, releaseNames[0], releaseNames[len(releaseNames)-1])
		}
		if l.rel.detected {
			l.fatalf(f.Path, ln.Num, msg+" (%s: OpenSSH %s only; this is OpenSSH %s)", arg, n, rs, l.rel)
		}
		l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
			Msg: fmt.Sprintf(msg+" (OpenSSH %s refuse it: %s is known to OpenSSH %s only%s)", arg, allReleases&^rs, n, rs, assumedNote)})
	}
}

// assembleNames are the option names sshd's assemble_algorithms reports.
var assembleNames = map[string]string{
	"ciphers": "ciphers", "macs": "macs", "kexalgorithms": "kex_algorithms",
	"hostkeyalgorithms": "hostkeyalgorithms", "hostbasedacceptedalgorithms": "hostbased_accepted_algos",
	"hostbasedacceptedkeytypes": "hostbased_accepted_algos", "pubkeyacceptedalgorithms": "pubkey_accepted_algos",
	"pubkeyacceptedkeytypes": "pubkey_accepted_algos", "casignaturealgorithms": "ca_sign_algorithms",
}

var assembleOrder = []string{"ciphers", "macs", "kex_algorithms", "hostkeyalgorithms",
	"hostbased_accepted_algos", "pubkey_accepted_algos", "ca_sign_algorithms"}

// assemble checks the algorithm lists in effect as kex_assemble_names does
// when sshd fills in its defaults: a "!name" is refused outside a "-"
// list, and a list without a prefix must name something this release
// supports. sshd names no file or line for these; sshport does.
func (l *loader) assemble() {
	byName := map[string]algList{}
	for key, al := range l.vs.algLists {
		n := assembleNames[key]
		// The first of the two spellings read wins, as in sshd.
		if old, ok := byName[n]; !ok || before(al, old, l.cfg) {
			byName[n] = al
		}
	}
	r := l.rel.bit()
	for _, n := range assembleOrder {
		al, ok := byName[n]
		if !ok || strings.HasPrefix(al.value, "-") {
			continue
		}
		list, explicit := al.value, true
		if strings.HasPrefix(list, "+") || strings.HasPrefix(list, "^") && caretReleases&r != 0 {
			list, explicit = list[1:], false
		}
		matched, other := false, false
		for _, p := range strings.Split(list, ",") {
			if strings.HasPrefix(p, "!") {
				l.fatalf(al.file, al.line, "assemble_algorithms: %s: invalid argument (\"%s\": a negated name works only in a list that starts with \"-\")", n, p)
			}
			rs := l.allMatching(n, p)
			matched = matched || rs&r != 0
			other = other || rs != 0
		}
		if explicit && !matched && (l.rel.detected || !other) {
			l.fatalf(al.file, al.line, "assemble_algorithms: %s: invalid argument (no name in \"%s\" is supported by OpenSSH %s)", n, al.value, l.rel)
		}
	}
}

// allMatching returns the releases in which pattern p matches a name of
// the table behind sshd option n (match_filter_allowlist).
func (l *loader) allMatching(n, p string) relSet {
	var tables []map[string]relSet
	switch n {
	case "ciphers":
		tables = []map[string]relSet{cipherReleases}
	case "macs":
		tables = []map[string]relSet{macReleases}
	case "kex_algorithms":
		tables = []map[string]relSet{kexReleases}
	default:
		tables = []map[string]relSet{keyReleases, certReleases}
	}
	var s relSet
	for _, t := range tables {
		if rs, ok := t[p]; ok {
			s |= rs
			continue
		}
		if !strings.ContainsAny(p, "*?") {
			continue
		}
		for name, rs := range t {
			if matchPattern(name, p) {
				s |= rs
			}
		}
	}
	return s
}

// before reports whether a was read before b.
func before(a, b algList, c *Config) bool {
	for d := range c.Directives() {
		switch {
		case d.File == a.file && d.Num() == a.line:
			return true
		case d.File == b.file && d.Num() == b.line:
			return false
		}
	}
	return false
}
