package sshcfg

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// assumedNote ends a warning that depends on a release sshport assumed.
const assumedNote = "; the installed OpenSSH was not found, so this is a warning: --openssh VERSION judges for one release"

// allReleases is every release the tables describe.
const allReleases = relSet(1)<<len(releaseNames) - 1

// String writes the set as ranges: "7.4-7.5, 9.0", "9.8 and later".
func (s relSet) String() string {
	var parts []string
	for i := 0; i < len(releaseNames); i++ {
		if s&(1<<i) == 0 {
			continue
		}
		j := i
		for j+1 < len(releaseNames) && s&(1<<(j+1)) != 0 {
			j++
		}
		switch {
		case i == j:
			parts = append(parts, releaseNames[i])
		case j == len(releaseNames)-1:
			parts = append(parts, releaseNames[i]+" and later")
		default:
			parts = append(parts, releaseNames[i]+" to "+releaseNames[j])
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

// release is the OpenSSH release a configuration is judged for.
type release struct {
	idx      int
	detected bool // known (detected or given), not assumed
}

func (r release) bit() relSet    { return 1 << r.idx }
func (r release) String() string { return releaseNames[r.idx] }

// OpenSSH says which release of sshd a configuration was judged for and
// how sshport knows it.
type OpenSSH struct {
	Version string // "9.2": a release of the tables
	// Source says where the version came from: "--openssh", the package
	// database or binary it was read from, or "" when none was found and
	// the newest release was assumed.
	Source string
	// Found is the version as the source spells it ("1:9.2p1-2+deb12u3").
	Found string
}

// Assumed reports whether no version was found and the newest was assumed.
func (o OpenSSH) Assumed() bool { return o.Source == "" }

// NewestOpenSSH is the newest release sshport knows.
func NewestOpenSSH() string { return releaseNames[len(releaseNames)-1] }

// OpenSSHReleases lists the releases sshport judges for, oldest first.
func OpenSSHReleases() []string { return append([]string(nil), releaseNames[:]...) }

var versionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:\d+:)?(\d+)\.(\d+)`) })

// releaseFor maps a version ("9.2p1", "1:9.2p1-2", "9.3_p2-r0", "10.0")
// to a release of the tables: the same one, else the newest older one
// (a release between two known ones); a version older than the oldest
// known maps to the oldest, one newer than the newest to the newest.
func releaseFor(v string) (int, bool) {
	m := versionRe().FindStringSubmatch(strings.TrimPrefix(strings.TrimSpace(v), "OpenSSH_"))
	if m == nil {
		return 0, false
	}
	maj, _ := strconv.Atoi(m[1])
	mnr, _ := strconv.Atoi(m[2])
	best := 0
	for i, r := range releaseNames {
		a, b, _ := strings.Cut(r, ".")
		ra, _ := strconv.Atoi(a)
		rb, _ := strconv.Atoi(b)
		if ra < maj || ra == maj && rb <= mnr {
			best = i
		}
	}
	return best, true
}

// ParseOpenSSH checks a version given by the user (--openssh 9.2).
func ParseOpenSSH(v string) (string, error) {
	i, ok := releaseFor(v)
	if !ok {
		return "", fmt.Errorf("%q is not an OpenSSH version (e.g. 9.2)", v)
	}
	return releaseNames[i], nil
}

// DetectOpenSSH finds the version of the sshd installed in fsys (rooted at
// the system's "/") without running it: the dpkg status file, Alpine's
// apk database, or the version string inside the sshd binary. ok is false
// when none names it.
func DetectOpenSSH(fsys fs.FS) (OpenSSH, bool) {
	if v, ok := packageVersion(fsys, "var/lib/dpkg/status", "Package: ", "Version: ", "openssh-server"); ok {
		return v, true
	}
	if v, ok := packageVersion(fsys, "lib/apk/db/installed", "P:", "V:", "openssh-server"); ok {
		return v, true
	}
	for _, name := range []string{"usr/sbin/sshd", "usr/local/sbin/sshd"} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			continue
		}
		if i := bytes.Index(data, []byte("OpenSSH_")); i >= 0 {
			end := i + 8
			for end < len(data) && end < i+40 && (data[end] == '.' || data[end] >= '0' && data[end] <= '9' || data[end] == 'p') {
				end++
			}
			found := string(data[i:end])
			if idx, ok := releaseFor(found); ok {
				return OpenSSH{Version: releaseNames[idx], Source: "/" + name, Found: found}, true
			}
		}
	}
	return OpenSSH{}, false
}

// packageVersion finds pkg's paragraph in a dpkg- or apk-style database
// of paragraphs and reads its version. dpkg's status file is large
// (hundreds of KB): it is streamed through a small buffer, and only the
// paragraphs that start with pkg's line are kept.
func packageVersion(fsys fs.FS, name, pkgField, verField, pkg string) (OpenSSH, bool) {
	f, err := fsys.Open(name)
	if err != nil {
		return OpenSSH{}, false
	}
	defer f.Close()
	key := []byte("\n" + pkgField + pkg + "\n")
	buf := make([]byte, 64<<10)
	n := copy(buf, "\n") // the first paragraph starts after a virtual newline
	var para []byte      // the paragraph being read, from its package line
	for eof := false; !eof; {
		m, err := f.Read(buf[n:])
		n += m
		switch {
		case err == io.EOF:
			eof = true
		case err != nil:
			return OpenSSH{}, false
		}
		data := buf[:n]
		keep := min(len(key)-1, n)
		for len(data) > 0 {
			if para != nil {
				end := bytes.Index(data, []byte("\n\n"))
				if end < 0 {
					para = append(para, data...)
					keep = 0
					break
				}
				para = append(para, data[:end]...)
				if v, ok := paragraphVersion(string(para), verField, name); ok {
					return v, true
				}
				para, data = nil, data[end:]
				continue
			}
			i := bytes.Index(data, key)
			if i < 0 {
				break
			}
			para, data = []byte{}, data[i+1:]
		}
		// Keep the end of the buffer: a key may straddle two reads.
		copy(buf, buf[n-keep:n])
		n = keep
	}
	if para != nil {
		return paragraphVersion(string(para), verField, name)
	}
	return OpenSSH{}, false
}

// paragraphVersion reads the version of an installed package's paragraph.
func paragraphVersion(para, verField, name string) (OpenSSH, bool) {
	ver, installed := "", true
	for _, line := range strings.Split(para, "\n") {
		switch {
		case strings.HasPrefix(line, verField):
			ver = strings.TrimSpace(line[len(verField):])
		case strings.HasPrefix(line, "Status: "):
			// dpkg keeps removed packages ("deinstall ok config-files").
			installed = strings.HasSuffix(line, " installed")
		}
	}
	if !installed || ver == "" {
		return OpenSSH{}, false
	}
	idx, ok := releaseFor(ver)
	if !ok {
		return OpenSSH{}, false
	}
	return OpenSSH{Version: releaseNames[idx], Source: "/" + name, Found: ver}, true
}

// setRelease picks the release to judge for: Options.OpenSSH, else the
// one installed in the tree, else the newest (assumed).
func (l *loader) setRelease() {
	o := OpenSSH{Version: NewestOpenSSH()}
	if l.opts.OpenSSH != "" {
		o = OpenSSH{Version: l.opts.OpenSSH, Source: "--openssh", Found: l.opts.OpenSSH}
	} else if d, ok := DetectOpenSSH(l.fsys); ok {
		o = d
	}
	idx, ok := releaseFor(o.Version)
	if !ok {
		idx, o = len(releaseNames)-1, OpenSSH{Version: NewestOpenSSH()}
	}
	o.Version = releaseNames[idx]
	l.rel = release{idx: idx, detected: !o.Assumed()}
	l.cfg.OpenSSH = o
}

// knownToRelease checks a keyword OpenSSH knows in some release against
// the release judged for. sshd counts an unknown keyword as a bad option;
// for an assumed release sshport only warns.
func (l *loader) knownToRelease(f *File, ln *Line, key string) bool {
	rs, ok := keywordReleases[key]
	if !ok || rs&l.rel.bit() != 0 {
		return true
	}
	if l.rel.detected {
		l.errorf(f.Path, ln.Num, "Bad configuration option: %s (OpenSSH %s only; this is OpenSSH %s)", ln.Keyword, rs, l.rel)
		return false
	}
	l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
		Msg: fmt.Sprintf("Bad configuration option: %s (OpenSSH %s refuse it: known to OpenSSH %s only%s)", ln.Keyword, allReleases&^rs, rs, assumedNote)})
	return true
}

// matchAllowed reports whether the release judged for allows keyword key
// inside a Match block (SSHCFG_MATCH in its keywords[]). Where releases
// differ and the release is assumed, it warns and allows.
func (l *loader) matchAllowed(f *File, ln *Line, key string, flags kwFlags) bool {
	if _, ok := keywordReleases[key]; !ok {
		return flags&kwMatch != 0 // a vendor keyword: the list in keywords.go
	}
	rs := keywordMatchReleases[key]
	if rs&l.rel.bit() != 0 {
		if refuse := keywordReleases[key] &^ rs; refuse != 0 && !l.rel.detected {
			l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
				Msg: fmt.Sprintf("Directive '%s' is not allowed within a Match block by OpenSSH %s (only %s allow it%s)", ln.Keyword, refuse, rs, assumedNote)})
		}
		return true
	}
	if rs != 0 && !l.rel.detected {
		l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
			Msg: fmt.Sprintf("Directive '%s' is not allowed within a Match block by OpenSSH %s (only %s allow it%s)", ln.Keyword, keywordReleases[key]&^rs, rs, assumedNote)})
		return true
	}
	return false
}
