package sshcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/netip"
	"slices"
	"strings"
)

// DefaultConfig is where sshd reads its configuration.
const DefaultConfig = "/etc/ssh/sshd_config"

// SSHDir is the directory relative Include patterns are taken from.
const SSHDir = "/etc/ssh"

const (
	defaultPort = 22
	maxPorts    = 256 // MAX_PORTS in servconf.h
	maxDepth    = 16  // SERVCONF_MAX_DEPTH
)

// Options adjusts how Load looks things up. A nil *Options is valid.
type Options struct {
	// Resolver answers service and host names (Port ssh, ListenAddress
	// myhost). Nil means FilesResolver(fsys, nil): the loaded system's own
	// etc/services and etc/hosts, and no query to any server. The live
	// system uses SystemResolver, as its sshd does.
	Resolver Resolver
	// OpenSSH is the release to judge values for ("9.2"). Empty: the
	// release installed in the tree (DetectOpenSSH), else the newest.
	OpenSSH string
	// Args are sshd's command-line options -p and -o, read before the
	// files as sshd does (see CmdArg).
	Args []CmdArg
}

// Config is the effective configuration as sshd computes it from the files,
// limited to what decides where sshd listens.
type Config struct {
	Main    string  // the main file, as sshd names it
	Missing bool    // the main file does not exist: sshd's defaults apply
	Files   []*File // every file read, in the order first read

	// Ports are the effective Port values in sshd's order, duplicates
	// kept. With no Port directive it holds one Default entry for 22.
	Ports []Port
	// AddressFamily is "any", "inet" or "inet6".
	AddressFamily string
	// ListenAddresses are the ListenAddress directives in effect.
	ListenAddresses []ListenAddress
	// Listen is every endpoint sshd binds, in `sshd -T` order.
	Listen []Endpoint
	// Warnings are problems that do not stop this sshd but are worth a
	// look, chiefly keywords OpenSSH does not know.
	Warnings []*Error
	// OpenSSH is the release the values were judged for.
	OpenSSH OpenSSH
	// Incomplete lists the places an Include had to look at but could not
	// read (a directory this user may not list): sshd, running as root,
	// may read more configuration there, so Ports and Listen may be
	// incomplete. Each is also in Warnings.
	Incomplete []*Error

	resolver Resolver
	openssh  string // Options.OpenSSH, for Reload

	// dirs is every directive read, in sshd's reading order (a file
	// included twice appears twice); runs say which file each is from,
	// keys hold their lower-case keywords. See Directives.
	dirs []dirRec
	runs []dirRun
	keys []string
}

// dirRec is one directive as Config keeps it, in 8 bytes: its line is
// read again when asked for.
type dirRec struct {
	idx   uint32 // line index in its file
	key   uint16 // index in Config.keys; noKey: read from the line
	flags uint8  // dirActive, dirInMatch
}

const (
	noKey      = 1<<16 - 1
	dirActive  = 1
	dirInMatch = 2
)

// dirRun says that Config.dirs[from:] are lines of f, up to the next run.
type dirRun struct {
	from int
	f    *File
}

// Directives yields every directive read, in sshd's reading order (a file
// included twice appears twice).
func (c *Config) Directives() iter.Seq[Directive] {
	return func(yield func(Directive) bool) {
		run := 0
		for i, r := range c.dirs {
			for run+1 < len(c.runs) && c.runs[run+1].from <= i {
				run++
			}
			if !yield(c.directive(c.runs[run].f, r)) {
				return
			}
		}
	}
}

func (c *Config) directive(f *File, r dirRec) Directive {
	d := Directive{File: f.Path, Active: r.flags&dirActive != 0, InMatch: r.flags&dirInMatch != 0, f: f, idx: int(r.idx)}
	if r.key == noKey {
		d.Key = strings.ToLower(d.Line().Keyword)
	} else {
		d.Key = c.keys[r.key]
	}
	return d
}

// Reload reads the configuration again, from fsys (an edited copy, say),
// with the main file and name resolver of the first Load.
func (c *Config) Reload(fsys fs.FS) (*Config, error) {
	return Load(fsys, c.Main, &Options{Resolver: c.resolver, OpenSSH: c.openssh})
}

// Port is one effective Port directive.
type Port struct {
	Port    int
	File    string // "" for the default
	Line    int
	Default bool // no Port directive: sshd's default 22
	Value   string
	// Cmdline: the port comes from sshd's command line (Options.Args);
	// File and Line are then where that option is written.
	Cmdline bool

	line *Line
}

// ListenAddress is one ListenAddress directive.
type ListenAddress struct {
	Host    string // address or host name, brackets removed
	Port    int    // 0 when the directive names no port
	RDomain string
	File    string
	Line    int
	Cmdline bool // from a -o option (Options.Args); File and Line say where it is written

	line          *Line
	afterMatchAll bool // read inside a Match block that applies
}

// String gives the address as a ListenAddress value: "host", "host:port"
// or "[v6]:port".
func (la ListenAddress) String() string {
	switch {
	case la.Port == 0:
		return la.Host
	case strings.Contains(la.Host, ":"):
		return fmt.Sprintf("[%s]:%d", la.Host, la.Port)
	}
	return fmt.Sprintf("%s:%d", la.Host, la.Port)
}

// Directive is one directive line as sshd read it.
type Directive struct {
	File string
	Key  string // keyword in lower case
	// Active is false inside a Match block that does not apply at start-up
	// (every Match but "Match all").
	Active bool
	// InMatch is true inside a Match block (including "Match all").
	InMatch bool

	f   *File
	idx int
}

// Line returns the directive's line, read anew from the file's bytes.
func (d Directive) Line() *Line { return d.f.Line(d.idx) }

// Num returns the directive's line number (0 for a command-line option).
func (d Directive) Num() int {
	if d.f.noNum {
		return 0
	}
	return d.idx + 1
}

// Endpoint is one address and port sshd listens on.
type Endpoint struct {
	Address string // without brackets, as getnameinfo prints it
	Port    int
	RDomain string
}

// String returns the endpoint as `sshd -T` prints it after "listenaddress".
func (e Endpoint) String() string {
	s := fmt.Sprintf("%s:%d", e.Address, e.Port)
	if strings.Contains(e.Address, ":") {
		s = fmt.Sprintf("[%s]:%d", e.Address, e.Port)
	}
	if e.RDomain != "" {
		s += " rdomain " + e.RDomain
	}
	return s
}

// fatal stops loading, as sshd's fatal() does.
type fatal struct{ err *Error }

type loader struct {
	lower    map[string]string // keyword as written -> lower case
	keyIdx   map[string]uint16 // lower-case keyword -> index in cfg.keys
	fsys     fs.FS
	opts     Options
	cfg      *Config
	files    map[string]*File
	includes []includeItem
	errs     ErrorList
	af       string
	rel      release    // the OpenSSH release judged for (values.go)
	vs       valueState // what the value checks carry (values.go)
	// portsFromCmdline: a -p option was given; Port lines are ignored.
	portsFromCmdline bool
}

type includeItem struct {
	selector string
	file     *File // nil: the pattern matched nothing
}

// Load reads the configuration sshd would read from name (an absolute path
// such as /etc/ssh/sshd_config) in fsys, following Include directives in
// fsys too. fsys is usually a *rootfs.Root. Paths are resolved in fsys as the kernel
// resolves them ("file/.." is ENOTDIR, "link/.." starts from the link's
// target), which needs fsys to implement fs.ReadLinkFS (Lstat and ReadLink
// giving the link's text); without it symlinks look like their targets.
// Include patterns expand as sshd's glob(3) expands them. Names (Port ssh,
// ListenAddress host) resolve through opts.Resolver, by default through
// fsys's own tables with no network query. A missing main file is not an error:
// Config.Missing is set and sshd's defaults are reported. The error, when
// sshd would refuse the configuration, is an ErrorList naming file and line;
// the Config returned with it holds what was read up to there.
func Load(fsys fs.FS, name string, opts *Options) (*Config, error) {
	l := &loader{fsys: fsys, files: map[string]*File{}, lower: map[string]string{}, keyIdx: map[string]uint16{}}
	if opts != nil {
		l.opts = *opts
	}
	if l.opts.Resolver == nil {
		l.opts.Resolver = FilesResolver(fsys, nil)
	}
	l.cfg = &Config{Main: name, resolver: l.opts.Resolver, openssh: l.opts.OpenSSH}
	l.setRelease()
	err := l.run(name)
	return l.cfg, err
}

func (l *loader) run(name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			l.errs = append(l.errs, f.err)
			err = l.errs
		}
	}()
	l.commandLine()
	f, err := l.read(name)
	if errors.Is(err, fs.ErrNotExist) {
		l.cfg.Missing = true
	} else if err != nil {
		return ErrorList{asError(name, 0, err)}
	}
	if f != nil {
		l.parse(f, &state{active: true}, false, 0)
	}
	l.finish()
	if len(l.errs) > 0 {
		return l.errs
	}
	return nil
}

func asError(file string, line int, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{File: file, Line: line, Msg: err.Error()}
}

// read returns the parsed file, reading it once.
func (l *loader) read(name string) (*File, error) {
	if f, ok := l.files[name]; ok {
		return f, nil
	}
	// The kernel resolves the name sshd opens: "file/../x" is ENOTDIR,
	// "link/../x" starts from the link's target.
	fsName, err := walkPath(l.fsys, name, true)
	if err != nil {
		return nil, err
	}
	fi, err := fs.Stat(l.fsys, fsName)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		// sshd opens a directory and reads nothing from it.
		f := &File{Path: name}
		l.files[name] = f
		return f, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{File: name, Msg: "not a regular file"}
	}
	data, err := fs.ReadFile(l.fsys, fsName)
	if err != nil {
		return nil, err
	}
	f, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	l.files[name] = f
	l.cfg.Files = append(l.cfg.Files, f)
	return f, nil
}

func (l *loader) fatalf(file string, line int, format string, args ...any) {
	panic(fatal{&Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}})
}

// state is what sshd carries from line to line: whether directives apply
// (*activep), and whether they sit inside a Match block.
type state struct {
	active  bool
	inMatch bool
}

// parse processes one file as parse_server_config_depth does. neverMatch
// is SSHCFG_NEVERMATCH: the file was included from an inactive Match block,
// so no Match line in it can become active.
func (l *loader) parse(f *File, st *state, neverMatch bool, depth int) {
	// Room for this file's directives at once: a large file would
	// otherwise leave the garbage of many growing copies.
	// Each line is read into ln in turn, its arguments into the same
	// slice: what outlives the line (Port, ListenAddress) is read anew.
	// Room for the directives at once (comment and blank lines at the
	// start of a line aside): a large file would otherwise leave the
	// garbage of many growing copies.
	if f.lines == nil {
		l.cfg.dirs = slices.Grow(l.cfg.dirs, f.Len()-bytes.Count(f.data, []byte("\n#"))-bytes.Count(f.data, []byte("\n\n")))
	}
	bad := 0
	var ln Line
	var args []Arg
	for i := range f.Len() {
		if f.lines != nil {
			ln = *f.lines[i]
		} else {
			f.readLine(&ln, i, args)
			if cap(ln.Args) > cap(args) {
				args = ln.Args[:0]
			}
		}
		if !l.line(f, &ln, st, neverMatch, depth) {
			bad++
		}
	}
	if bad > 0 {
		l.fatalf(f.Path, 0, "terminating, %d bad configuration options", bad)
	}
}

func (l *loader) errorf(file string, line int, format string, args ...any) bool {
	l.errs = append(l.errs, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	return false
}

// line processes one line as process_server_config_line_depth does and
// reports whether it was good (sshd counts the bad ones).
func (l *loader) line(f *File, ln *Line, st *state, neverMatch bool, depth int) bool {
	kw := ln.Keyword
	if kw == "" {
		return true
	}
	if ln.Rest == "" {
		return l.errorf(f.Path, ln.Num, "no argument after keyword %q", kw)
	}
	key, ok := l.lower[kw]
	if !ok {
		key = strings.ToLower(kw)
		l.lower[kw] = key
	}
	flags, known := keywords[key]
	if rs := keywordReleases[key]; !known && rs != 0 {
		// A keyword of some OpenSSH release that the list above lacks.
		known, flags = true, kwGlobal
		if keywordMatchReleases[key]&l.rel.bit() != 0 {
			flags |= kwMatch
		}
	}
	if !known && strings.HasPrefix(kw, "\ufeff") {
		// A byte-order mark is no vendor's keyword: every sshd refuses it.
		l.errorf(f.Path, ln.Num, "Bad configuration option: %s (the file starts with a UTF-8 byte-order mark, which sshd does not accept: save it without one)", sshdQuote(kw))
		if !st.active {
			l.fatalf(f.Path, ln.Num, "Directive '%s' is not allowed within a Match block", sshdQuote(kw))
		}
		return false
	}
	if known && !l.knownToRelease(f, ln, key) {
		if !st.active {
			l.fatalf(f.Path, ln.Num, "Directive '%s' is not allowed within a Match block", kw)
		}
		return false
	}
	if !known {
		if !st.active {
			// sshd refuses an unknown keyword inside a Match block
			// whatever its version: it cannot know it is allowed there.
			l.errorf(f.Path, ln.Num, "Bad configuration option: %s", kw)
			l.fatalf(f.Path, ln.Num, "Directive '%s' is not allowed within a Match block", kw)
		}
		l.cfg.Warnings = append(l.cfg.Warnings, &Error{File: f.Path, Line: ln.Num,
			Msg: fmt.Sprintf("Bad configuration option: %s (unknown to OpenSSH; sshd refuses to start unless a vendor patch adds it)", kw)})
	}
	if ln.SyntaxErr != "" {
		return l.errorf(f.Path, ln.Num, "%s", ln.SyntaxErr)
	}
	ki, ok := l.keyIdx[key]
	if !ok {
		ki = noKey // many unknown keywords: read from the line
		if len(l.cfg.keys) < noKey {
			ki = uint16(len(l.cfg.keys))
			l.keyIdx[key] = ki
			l.cfg.keys = append(l.cfg.keys, key)
		}
	}
	if n := len(l.cfg.runs); n == 0 || l.cfg.runs[n-1].f != f {
		l.cfg.runs = append(l.cfg.runs, dirRun{from: len(l.cfg.dirs), f: f})
	}
	var df uint8
	if st.active {
		df |= dirActive
	}
	if st.inMatch {
		df |= dirInMatch
	}
	l.cfg.dirs = append(l.cfg.dirs, dirRec{idx: uint32(ln.idx), key: ki, flags: df})
	if !st.active && known && !l.matchAllowed(f, ln, key, flags) {
		l.fatalf(f.Path, ln.Num, "Directive '%s' is not allowed within a Match block", kw)
	}
	args := ln.Args
	switch key {
	case "port":
		if l.portsFromCmdline {
			args = args[1:] // sshd -p: Port lines are read and ignored
			break
		}
		if len(l.cfg.Ports) >= maxPorts {
			l.fatalf(f.Path, ln.Num, "too many ports.")
		}
		if len(args) == 0 || args[0].Text == "" {
			l.fatalf(f.Path, ln.Num, "missing port number.")
		}
		p := a2port(args[0].Text, l.opts.Resolver.Service)
		if p <= 0 {
			l.fatalf(f.Path, ln.Num, "Badly formatted port number.")
		}
		l.cfg.Ports = append(l.cfg.Ports, Port{Port: p, File: f.Path, Line: ln.Num, Value: args[0].Text, line: f.Line(ln.idx)})
		args = args[1:]
	case "listenaddress":
		args = l.listenAddress(f, ln, args, st.active && st.inMatch)
	case "addressfamily":
		if len(args) == 0 || args[0].Text == "" {
			l.fatalf(f.Path, ln.Num, "missing argument.")
		}
		v := strings.ToLower(args[0].Text)
		if v != "any" && v != "inet" && v != "inet6" {
			l.fatalf(f.Path, ln.Num, "unsupported option %q.", args[0].Text)
		}
		if l.af == "" {
			l.af = v
		}
		args = args[1:]
	case "match":
		v, err := matchLine(ln.Rest, l.opts.Resolver.Service)
		if err != nil {
			if err.fatal {
				l.fatalf(f.Path, ln.Num, "%s", err.msg)
			}
			l.fatalf(f.Path, ln.Num, "Bad Match condition (%s)", err.msg)
		}
		st.active = v && !neverMatch
		st.inMatch = true
		args = nil
	case "include":
		if len(args) == 0 {
			l.fatalf(f.Path, ln.Num, "%s missing filename argument", kw)
		}
		for _, a := range args {
			if a.Text == "" {
				return l.errorf(f.Path, ln.Num, "keyword %s empty argument", kw)
			}
			l.include(f, ln, a.Text, st, depth)
		}
		args = nil
	default:
		var ok bool
		if args, ok = l.values(f, ln, kw, key, args, st.active); !ok {
			return false
		}
	}
	if len(args) > 0 {
		return l.errorf(f.Path, ln.Num, "keyword %s extra arguments at end of line", kw)
	}
	return true
}

func (l *loader) include(f *File, ln *Line, pattern string, st *state, depth int) {
	sel := pattern
	if !strings.HasPrefix(pattern, "/") && !strings.HasPrefix(pattern, "~") {
		sel = SSHDir + "/" + pattern
	}
	saved := *st
	oactive := saved.active
	found := false
	for _, it := range l.includes {
		if it.selector != sel {
			continue
		}
		found = true
		if it.file != nil {
			l.parseIncluded(f, ln, it.file, st, !oactive, depth)
		}
		*st = saved
	}
	if found {
		return
	}
	matches, missed, err := glob(l.fsys, sel)
	if err != nil {
		l.fatalf(f.Path, ln.Num, "Include %s: %v", sel, err)
	}
	for _, m := range missed {
		what := "cannot look up " + m.path
		if m.dir {
			what = "cannot list the directory " + m.path
		}
		l.incomplete(f, ln, sel, what, m.err)
	}
	if len(matches) == 0 {
		l.includes = append(l.includes, includeItem{selector: sel})
	}
	for _, m := range matches {
		inc, err := l.read(m)
		if errors.Is(err, fs.ErrPermission) {
			// Root reads it: this user's answer would be partial.
			l.incomplete(f, ln, sel, "cannot read "+m, underlying(err))
			l.includes = append(l.includes, includeItem{selector: sel})
			continue
		}
		if err != nil {
			e := asError(m, 0, err)
			l.fatalf(f.Path, ln.Num, "Include %s: %s", m, e.Msg)
		}
		l.parseIncluded(f, ln, inc, st, !oactive, depth)
		*st = saved
		l.includes = append(l.includes, includeItem{selector: sel, file: inc})
	}
}

// incomplete records a place an Include needs that this user cannot read.
func (l *loader) incomplete(f *File, ln *Line, sel, what string, err error) {
	w := &Error{File: f.Path, Line: ln.Num, Msg: fmt.Sprintf(
		"Include %s: %s (%v): sshd, running as root, may read configuration there that sshport cannot, so the ports shown may be incomplete (run sshport as root)",
		sel, what, err)}
	l.cfg.Incomplete = append(l.cfg.Incomplete, w)
	l.cfg.Warnings = append(l.cfg.Warnings, w)
}

func (l *loader) parseIncluded(f *File, ln *Line, inc *File, st *state, neverMatch bool, depth int) {
	if depth+1 > maxDepth {
		l.fatalf(f.Path, ln.Num, "Too many recursive configuration includes (an Include loop, or nesting deeper than %d)", maxDepth)
	}
	l.parse(inc, st, neverMatch, depth+1)
}

// listenAddress reads a ListenAddress line as servconf.c does and returns
// the arguments left over.
func (l *loader) listenAddress(f *File, ln *Line, args []Arg, afterMatchAll bool) []Arg {
	if len(args) == 0 || args[0].Text == "" {
		l.fatalf(f.Path, ln.Num, "missing address")
	}
	arg := args[0].Text
	args = args[1:]
	la := ListenAddress{File: f.Path, Line: ln.Num, line: f.Line(ln.idx), afterMatchAll: afterMatchAll}
	if i := strings.IndexByte(arg, ':'); !strings.Contains(arg, "[") && i >= 0 && strings.Contains(arg[i+1:], ":") {
		la.Host = arg // a bare IPv6 address: no port part
	} else {
		host, port, ok := hpdelim(arg)
		if !ok {
			l.fatalf(f.Path, ln.Num, "bad address:port usage")
		}
		if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
			host = host[1 : len(host)-1]
		}
		la.Host = host
		if port != nil {
			if la.Port = a2port(*port, l.opts.Resolver.Service); la.Port <= 0 {
				l.fatalf(f.Path, ln.Num, "bad port number")
			}
		}
	}
	if len(args) > 0 {
		if args[0].Text != "rdomain" || len(args) < 2 {
			l.fatalf(f.Path, ln.Num, "bad ListenAddress syntax")
		}
		if !validRDomain(args[1].Text) {
			l.fatalf(f.Path, ln.Num, "bad routing domain")
		}
		la.RDomain = args[1].Text
		args = args[2:]
	}
	l.cfg.ListenAddresses = append(l.cfg.ListenAddresses, la)
	return args
}

// validRDomain follows servconf.c's valid_rdomain on Linux: the name of a
// network device (a VRF) that exists on this system. ("%D" passes only
// for the RDomain keyword, not for ListenAddress.)
func validRDomain(name string) bool {
	return len(name) < 16 && netDevExists(name)
}

// hpdelim splits "host:port", "[v6]:port", "host" as misc.c's hpdelim2.
func hpdelim(s string) (host string, port *string, ok bool) {
	i := 0
	if strings.HasPrefix(s, "[") {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return "", nil, false
		}
		i = j + 1
	} else if j := strings.IndexAny(s, ":/"); j >= 0 {
		i = j
	} else {
		i = len(s)
	}
	switch {
	case i == len(s):
		return s, nil, true
	case s[i] == ':': // hpdelim refuses hpdelim2's other separator, '/'

		p := s[i+1:]
		return s[:i], &p, true
	}
	return "", nil, false
}

// finish fills defaults and computes the endpoints, as
// fill_default_server_options and process_queued_listen_addrs do.
func (l *loader) finish() {
	c := l.cfg
	l.assemble()
	l.postParse()
	if len(c.Ports) == 0 {
		c.Ports = []Port{{Port: defaultPort, Default: true, Value: "22"}}
	}
	c.AddressFamily = l.af
	if c.AddressFamily == "" {
		c.AddressFamily = "any"
	}
	type group struct {
		rdomain string
		eps     []Endpoint
	}
	var groups []*group
	add := func(rdomain string, eps []Endpoint) {
		for _, g := range groups {
			if g.rdomain == rdomain {
				g.eps = append(g.eps, eps...)
				return
			}
		}
		groups = append(groups, &group{rdomain, eps})
	}
	for _, la := range c.ListenAddresses {
		ports := []int{la.Port}
		if la.Port == 0 {
			ports = nil
			for _, p := range c.Ports {
				ports = append(ports, p.Port)
			}
		}
		addrs, err := l.resolve(la.Host)
		if err != nil {
			l.fatalf(la.File, la.Line, "bad addr or host: %s (%v)", la.Host, err)
		}
		if la.Host == "*" {
			c.Warnings = append(c.Warnings, &Error{File: la.File, Line: la.Line,
				Msg: "ListenAddress * means the loopback addresses to sshd (glibc's getaddrinfo), not every address: write 0.0.0.0 and :: to listen everywhere"})
		}
		for _, p := range ports {
			var eps []Endpoint
			for _, a := range addrs {
				eps = append(eps, Endpoint{Address: formatAddr(a), Port: p, RDomain: la.RDomain})
			}
			add(la.RDomain, eps)
		}
	}
	if len(c.ListenAddresses) == 0 {
		var wild []string
		switch c.AddressFamily {
		case "any":
			wild = []string{"::", "0.0.0.0"}
		case "inet":
			wild = []string{"0.0.0.0"}
		case "inet6":
			wild = []string{"::"}
		}
		for _, p := range c.Ports {
			for _, w := range wild {
				add("", []Endpoint{{Address: w, Port: p.Port}})
			}
		}
	}
	for _, g := range groups {
		c.Listen = append(c.Listen, g.eps...)
	}
	l.rereadAfterMatchAll()
}

// rereadAfterMatchAll checks what sshd checks when it reads the files again
// for each connection (and for sshd -T): that pass sees only directives in
// Match blocks that apply, "Match all" at least, and resolves their
// ListenAddress lines with the first AddressFamily among them. So
// "AddressFamily any" at the top and "Match all" / "AddressFamily inet" /
// "ListenAddress ::" later is refused although the first pass accepts it.
func (l *loader) rereadAfterMatchAll() {
	af := ""
	for d := range l.cfg.Directives() {
		if d.Key == "addressfamily" && d.Active && d.InMatch {
			if args := d.Line().Args; len(args) > 0 {
				af = strings.ToLower(args[0].Text)
				break
			}
		}
	}
	if af == "" || af == "any" {
		return
	}
	first := l.cfg.AddressFamily
	l.cfg.AddressFamily = af
	defer func() { l.cfg.AddressFamily = first }()
	for _, la := range l.cfg.ListenAddresses {
		if !la.afterMatchAll {
			continue
		}
		if _, err := l.resolve(la.Host); err != nil {
			l.fatalf(la.File, la.Line, "bad addr or host: %s (%v; sshd reads the lines after \"Match all\" again for every connection, and there AddressFamily is %s)", la.Host, err, af)
		}
	}
}

// errAddrFamily is getaddrinfo's EAI_ADDRFAMILY text.
var errAddrFamily = errors.New("Address family for hostname not supported")

// resolve returns the addresses getaddrinfo gives for host under the
// configured AddressFamily.
func (l *loader) resolve(host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	numeric := false
	if host == "*" {
		// glibc's getaddrinfo takes "*" as no host at all, which
		// (without AI_PASSIVE, as sshd asks for a ListenAddress) means
		// the loopback addresses.
		addrs, numeric = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}, true
	} else if a, ok := parseNumericHost(host); ok {
		addrs, numeric = []netip.Addr{a}, true
	} else if strings.Contains(host, ":") {
		return nil, errNoName // an IPv6 address with an unknown zone
	} else {
		var err error
		if addrs, err = l.opts.Resolver.Host(host, l.cfg.AddressFamily); err != nil {
			return nil, err
		}
	}
	var out []netip.Addr
	for _, a := range addrs {
		switch l.cfg.AddressFamily {
		case "inet":
			// glibc answers an AF_INET query with the IPv4 form of a
			// v4-mapped address, and (from the hosts file) with
			// 127.0.0.1 for ::1.
			switch {
			case a.Is4():
				out = append(out, a)
			case a.Is4In6():
				out = append(out, a.Unmap())
			case !numeric && a == netip.IPv6Loopback():
				out = append(out, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
			}
		case "inet6":
			if !a.Is4() {
				out = append(out, a)
			}
		default:
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errAddrFamily
	}
	return out, nil
}

// formatAddr prints an address as glibc's inet_ntop does, which is how
// sshd -T prints it: like netip, except that an IPv6 address whose first
// 96 bits are zero (and is neither :: nor ::1) is written with a dotted
// IPv4 tail ("::0.1.0.34").
func formatAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() && a.Zone() == "" {
		b := a.As16()
		zero := true
		for _, x := range b[:12] {
			if x != 0 {
				zero = false
			}
		}
		if zero && (b[12] != 0 || b[13] != 0) {
			return fmt.Sprintf("::%d.%d.%d.%d", b[12], b[13], b[14], b[15])
		}
	}
	return a.String()
}

// sshdQuote writes bytes outside printable ASCII as octal escapes, as sshd's
// log does ("\357\273\277Port").
func sshdQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "\\%03o", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
