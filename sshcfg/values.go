package sshcfg

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// This file judges the values of the keywords load.go does not interpret
// itself, as servconf.c's process_server_config_line_depth does in
// OpenSSH 9.2 (the release the tests compare with): the same checks, the
// same messages, fatal where sshd stops at once and counted where sshd
// goes on to "terminating, N bad configuration options". Algorithm names
// are judged against the tables of every release (algorithms_table.go).

// Multistate tables of servconf.c (compared case-insensitively).
var (
	msFlag           = []string{"yes", "no"}
	msIgnoreRhosts   = []string{"yes", "no", "shosts-only"}
	msPermitRoot     = []string{"without-password", "prohibit-password", "forced-commands-only", "yes", "no"}
	msCompression    = []string{"yes", "delayed", "no"}
	msGatewayPorts   = []string{"clientspecified", "yes", "no"}
	msTCPForwarding  = []string{"yes", "all", "no", "remote", "local"}
	logFacilities    = []string{"daemon", "user", "auth", "authpriv", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	logLevels        = []string{"quiet", "fatal", "error", "info", "verbose", "debug", "debug1", "debug2", "debug3"}
	digestNames      = []string{"md5", "sha1", "sha256", "sha384", "sha512"}
	tunModes         = []string{"no", "point-to-point", "ethernet", "yes"} // compared case-sensitively
	authMethodNames  = []string{"none", "publickey", "gssapi-with-mic", "gssapi-keyex", "password", "keyboard-interactive", "hostbased"}
	ipqosNames       = []string{"none", "af11", "af12", "af13", "af21", "af22", "af23", "af31", "af32", "af33", "af41", "af42", "af43", "cs0", "cs1", "cs2", "cs3", "cs4", "cs5", "cs6", "cs7", "ef", "le", "lowdelay", "throughput", "reliability"}
	flagKeywords     = map[string]bool{}
	multistateTables = map[string][]string{
		"permitrootlogin": msPermitRoot, "ignorerhosts": msIgnoreRhosts, "compression": msCompression,
		"gatewayports": msGatewayPorts, "allowtcpforwarding": msTCPForwarding,
		"allowstreamlocalforwarding": msTCPForwarding,
	}
)

func init() {
	for _, k := range []string{"usepam", "ignoreuserknownhosts", "hostbasedauthentication",
		"hostbasedusesnamefrompacketonly", "pubkeyauthentication", "dsaauthentication",
		"kerberosauthentication", "kerberosorlocalpasswd", "kerberosticketcleanup",
		"gssapiauthentication", "gssapicleanupcredentials", "gssapistrictacceptorcheck",
		"passwordauthentication", "kbdinteractiveauthentication", "challengeresponseauthentication",
		"skeyauthentication", "printmotd", "printlastlog", "x11forwarding", "x11uselocalhost",
		"permittty", "permituserrc", "strictmodes", "tcpkeepalive", "keepalive", "permitemptypasswords",
		"usedns", "allowagentforwarding", "disableforwarding", "streamlocalbindunlink", "exposeauthinfo",
		"refuseconnection",
		// Debian's GSSAPI key exchange and banner patches.
		"gssapikeyexchange", "gssapistorecredentialsonrekey", "debianbanner"} {
		flagKeywords[k] = true
	}
}

// valueState is what the value checks carry from line to line.
type valueState struct {
	subsystems  []string
	authMethods int // AuthenticationMethods entries taken (first active line)
	// first active value of each algorithm list, for assemble_algorithms
	algLists map[string]algList
}

type algList struct {
	file  string
	line  int
	value string
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// values checks the arguments of keyword key as sshd does. It returns the
// arguments sshd leaves unread (for the "extra arguments" check) and
// false for an error sshd counts without stopping at once.
func (l *loader) values(f *File, ln *Line, kw, key string, args []Arg, active bool) ([]Arg, bool) {
	if l.vs.algLists == nil {
		l.vs.algLists = map[string]algList{}
	}
	fatal := func(format string, a ...any) { l.fatalf(f.Path, ln.Num, format, a...) }
	next := func() (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		a := args[0].Text
		args = args[1:]
		return a, true
	}
	if _, ok := keywords[key]; !ok && keywordReleases[key] == 0 {
		return nil, true // a vendor's keyword: not judged
	}
	if keywordIgnoredReleases[key]&l.rel.bit() != 0 {
		return nil, true // deprecated, unsupported or ignored: sshd logs and goes on
	}
	if flagKeywords[key] {
		l.multistate(f, ln, msFlag, next)
		return args, true
	}
	if t, ok := multistateTables[key]; ok {
		l.multistate(f, ln, t, next)
		return args, true
	}
	switch key {
	case "logingracetime", "clientaliveinterval":
		l.timeValue(f, ln, next)
	case "unusedconnectiontimeout":
		if len(args) > 0 && strings.EqualFold(args[0].Text, "none") {
			next()
			break
		}
		l.timeValue(f, ln, next)
	case "x11displayoffset", "maxauthtries", "maxsessions", "clientalivecountmax", "requiredrsasize":
		a, _ := next()
		if e := atoiErr(a); e != "" {
			fatal("%s integer value %s.", kw, e)
		}
	case "persourcemaxstartups":
		a, ok := next()
		if !ok || a == "" {
			fatal("%s missing argument.", kw)
		}
		if a != "none" {
			if e := atoiErr(a); e != "" {
				fatal("%s integer value %s.", kw, e)
			}
		}
	case "hostkey", "hostcertificate", "pidfile", "modulifile", "xauthlocation", "banner",
		"trustedusercakeys", "revokedkeys", "hostdsakey", "sshdsessionpath", "sshdauthpath":
		if a, ok := next(); !ok || a == "" {
			fatal("missing file name.")
		}
	case "hostkeyagent":
		if a, ok := next(); !ok || a == "" {
			fatal("missing socket name.")
		}
	case "hostbasedacceptedalgorithms", "hostbasedacceptedkeytypes", "hostkeyalgorithms",
		"casignaturealgorithms", "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes":
		a, ok := next()
		if !ok || a == "" {
			fatal("Missing argument.")
		}
		l.algorithms(f, ln, key, a, algKeys, active, "Bad key types '%s'.")
	case "ciphers":
		l.algorithms(f, ln, key, l.missing(f, ln, kw, next), algCiphers, active, "Bad SSH2 cipher spec '%s'.")
	case "macs":
		l.algorithms(f, ln, key, l.missing(f, ln, kw, next), algMACs, active, "Bad SSH2 mac spec '%s'.")
	case "kexalgorithms":
		l.algorithms(f, ln, key, l.missing(f, ln, kw, next), algKex, active, "Bad SSH2 KexAlgorithms '%s'.")
	case "gssapikexalgorithms":
		a := l.missing(f, ln, kw, next)
		for _, n := range strings.Split(a, ",") {
			if !gssKexName(n) {
				fatal("Bad GSSAPI KexAlgorithms '%s'.", a)
			}
		}
	case "pubkeyauthoptions":
		for {
			a, ok := next()
			if !ok {
				break
			}
			if !containsFold([]string{"none", "touch-required", "verify-required"}, a) {
				return nil, l.errorf(f.Path, ln.Num, "unsupported %s option %s", kw, a)
			}
		}
	case "permituserenvironment", "authorizedprincipalsfile", "chrootdirectory", "securitykeyprovider":
		l.missing(f, ln, kw, next)
	case "rekeylimit":
		a := l.missing(f, ln, kw, next)
		if a != "default" {
			v, err := scanScaled(a)
			if err != "" {
				fatal("Bad %s number '%s': %s", kw, a, err)
			}
			if v != 0 && v < 16 {
				fatal("%s too small", kw)
			}
		}
		if len(args) > 0 {
			if args[0].Text == "none" {
				next()
				break
			}
			l.timeValue(f, ln, next)
		}
	case "syslogfacility":
		a, ok := next()
		if !ok || !containsFold(logFacilities, a) {
			fatal("unsupported log facility '%s'", orNone(a, ok))
		}
	case "loglevel":
		a, ok := next()
		if !ok || !containsFold(logLevels, a) {
			fatal("unsupported log level '%s'", orNone(a, ok))
		}
	case "logverbose", "channeltimeout":
		for i := 0; len(args) > 0; i++ {
			a, _ := next()
			if key == "logverbose" && a == "" {
				return nil, l.errorf(f.Path, ln.Num, "keyword %s empty argument", kw)
			}
			if strings.EqualFold(a, "none") {
				if i > 0 || len(args) > 0 {
					return nil, l.errorf(f.Path, ln.Num, "keyword %s \"none\" argument must appear alone.", kw)
				}
				continue
			}
			if key == "channeltimeout" {
				typ, v, ok := strings.Cut(a, "=")
				if !ok || typ == "" || convtime(v) < 0 {
					fatal("invalid channel timeout %s", a)
				}
			}
		}
	case "allowusers", "denyusers":
		for len(args) > 0 {
			a, _ := next()
			if a == "" || !validUserPattern(a) {
				fatal("invalid %s pattern: \"%s\"", kw, a)
			}
		}
	case "allowgroups", "denygroups":
		for len(args) > 0 {
			if a, _ := next(); a == "" {
				fatal("empty %s pattern", kw)
			}
		}
	case "subsystem":
		if keywordMatchReleases[key]&l.rel.bit() != 0 {
			// 9.5 and later (Subsystem in Match blocks): a name and a
			// command; a second definition of a name is ignored.
			a, ok1 := next()
			b, ok2 := next()
			if !ok1 || a == "" || !ok2 || b == "" {
				fatal("%s missing argument.", kw)
			}
			args = nil
			break
		}
		if len(l.vs.subsystems) >= maxSubsystems {
			fatal("too many subsystems defined.")
		}
		name := l.missing(f, ln, kw, next)
		if !active {
			next()
			break
		}
		for _, s := range l.vs.subsystems {
			if s == name {
				fatal("Subsystem '%s' already defined.", name)
			}
		}
		l.vs.subsystems = append(l.vs.subsystems, name)
		if a, ok := next(); !ok || a == "" {
			fatal("Missing subsystem command.")
		}
		args = nil
	case "maxstartups":
		a := l.missing(f, ln, kw, next)
		v, n := scanInts(a, 3)
		switch {
		case n == 3:
			if v[0] > v[2] || v[1] > 100 || v[1] < 1 {
				fatal("Invalid %s spec.", kw)
			}
		case n != 1:
			fatal("Invalid %s spec.", kw)
		default:
			v[2] = v[0]
		}
		if v[2] <= 0 || v[0] <= 0 {
			fatal("Invalid %s spec.", kw)
		}
	case "persourcenetblocksize":
		a := l.missing(f, ln, kw, next)
		v, n := scanInts(a, 2)
		if n == 2 && (v[1] < 0 || v[1] > 128) {
			n = -1
		}
		if (n == 1 || n == 2) && (v[0] < 0 || v[0] > 32) {
			n = -1
		}
		if n != 1 && n != 2 {
			fatal("Invalid %s spec.", kw)
		}
	case "authorizedkeysfile":
		for len(args) > 0 {
			if a, _ := next(); a == "" {
				return nil, l.errorf(f.Path, ln.Num, "keyword %s empty argument", kw)
			}
		}
	case "acceptenv":
		for len(args) > 0 {
			if a, _ := next(); a == "" || strings.Contains(a, "=") {
				fatal("Invalid environment name.")
			}
		}
	case "setenv":
		for len(args) > 0 {
			if a, _ := next(); a == "" || !strings.Contains(a, "=") {
				fatal("Invalid environment.")
			}
		}
	case "permittunnel":
		a := l.missing(f, ln, kw, next)
		if !contains(tunModes, a) {
			fatal("bad %s argument %s", kw, a)
		}
	case "permitlisten", "permitopen":
		a := l.missing(f, ln, kw, next)
		if a == "any" || a == "none" {
			break
		}
		for ok := true; ok && a != ""; a, ok = next() {
			port := a
			if key == "permitopen" || strings.Contains(a, ":") {
				h, p, ok := hpdelim(a)
				if !ok {
					fatal("%s missing host", kw)
				}
				_ = h
				if p == nil {
					fatal("%s bad port number", kw)
				}
				port = *p
			}
			if port != "*" && a2port(port, l.opts.Resolver.Service) <= 0 {
				fatal("%s bad port number", kw)
			}
		}
	case "forcecommand", "versionaddendum":
		args = nil // the rest of the line, as written
	case "ipqos":
		a := l.missing(f, ln, kw, next)
		if !validIPQoS(a) {
			fatal("Bad %s value: %s", kw, a)
		}
		if b, ok := next(); ok && !validIPQoS(b) {
			fatal("Bad %s value: %s", kw, b)
		}
	case "authorizedkeyscommand", "authorizedprincipalscommand":
		s := strings.TrimLeft(ln.Rest, " \t\r\n")
		if !strings.HasPrefix(s, "/") && !strings.EqualFold(s, "none") {
			fatal("%s must be an absolute path", kw)
		}
		args = nil
	case "authorizedkeyscommanduser", "authorizedprincipalscommanduser":
		if a, ok := next(); !ok || a == "" {
			fatal("missing %s argument.", kw)
		}
	case "authenticationmethods":
		first := l.vs.authMethods == 0
		sawAny, any := false, false
		for len(args) > 0 {
			a, _ := next()
			switch {
			case a == "any":
				if l.vs.authMethods > 0 {
					fatal("\"any\" must appear alone in %s", kw)
				}
				sawAny = true
			case sawAny:
				fatal("\"any\" must appear alone in %s", kw)
			case !validAuthMethods(a):
				fatal("invalid %s method list.", kw)
			}
			any = true
			if first && active {
				l.vs.authMethods++
			}
		}
		if !any {
			fatal("no %s specified", kw)
		}
	case "streamlocalbindmask":
		a := l.missing(f, ln, kw, next)
		// strtol(arg, &p, 8): anything after the digits is ignored.
		if v, n, _ := strtoll(a, 8); n == 0 || v < 0 || v > 0o777 {
			fatal("Invalid %s.", kw)
		}
	case "fingerprinthash":
		a := l.missing(f, ln, kw, next)
		if !containsFold(digestNames, a) {
			fatal("Invalid %s algorithm \"%s\".", kw, a)
		}
	case "rdomain":
		// Debian's and the other Linux builds lack
		// HAVE_SYS_SET_PROCESS_RDOMAIN: sshd stops at the keyword
		// (ListenAddress ... rdomain still works).
		fatal("setting RDomain not supported on this platform.")
		a := l.missing(f, ln, kw, next)
		if !strings.EqualFold(a, "none") && a != "%D" && !validRDomain(a) {
			fatal("invalid routing domain")
		}
	default:
		// Keywords whose values sshd takes as they are (paths it opens
		// later, free text) and keywords of other releases.
		return nil, true
	}
	return args, true
}

const maxSubsystems = 256 // MAX_SUBSYSTEMS

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orNone(a string, ok bool) string {
	if !ok {
		return "<NONE>"
	}
	return a
}

// missing reads the first argument, stopping as sshd does with
// "KEYWORD missing argument." when there is none.
func (l *loader) missing(f *File, ln *Line, kw string, next func() (string, bool)) string {
	a, ok := next()
	if !ok || a == "" {
		l.fatalf(f.Path, ln.Num, "%s missing argument.", kw)
	}
	return a
}

func (l *loader) multistate(f *File, ln *Line, table []string, next func() (string, bool)) {
	a, ok := next()
	if !ok || a == "" {
		l.fatalf(f.Path, ln.Num, "missing argument.")
	}
	if !containsFold(table, a) {
		l.fatalf(f.Path, ln.Num, "unsupported option \"%s\".", a)
	}
}

func (l *loader) timeValue(f *File, ln *Line, next func() (string, bool)) {
	a, ok := next()
	if !ok || a == "" {
		l.fatalf(f.Path, ln.Num, "missing time value.")
	}
	if convtime(a) < 0 {
		l.fatalf(f.Path, ln.Num, "invalid time value.")
	}
}

// cSpace is C's isspace.
func cSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// strtoll reads a number as C's strtoll (base 0, 8 or 10): it returns the
// value (clamped on overflow), the bytes read (0: no number), and whether
// it overflowed.
func strtoll(s string, base int) (v int64, n int, overflow bool) {
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
			if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]) {
				base = 16
				i += 2
			}
		}
	}
	start := i
	var u uint64
	for ; i < len(s); i++ {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if u > (math.MaxUint64-uint64(d))/uint64(base) {
			overflow = true
		} else {
			u = u*uint64(base) + uint64(d)
		}
	}
	if i == start {
		return 0, 0, false
	}
	switch {
	case !neg && (overflow || u > math.MaxInt64):
		return math.MaxInt64, i, true
	case neg && (overflow || u > 1<<63):
		return math.MinInt64, i, true
	case neg:
		return -int64(u), i, false
	}
	return int64(u), i, false
}

func isHex(c byte) bool { return digitVal(c) < 16 }

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// strtol is strtoll that must read the whole string.
func strtol(s string, base int) (int64, bool) {
	v, n, _ := strtoll(s, base)
	return v, n > 0 && n == len(s)
}

// atoiErr is misc.c's atoi_err: strtonum(s, 0, INT_MAX).
func atoiErr(s string) string {
	if s == "" {
		return "missing"
	}
	v, n, overflow := strtoll(s, 10)
	switch {
	case n == 0 || n != len(s):
		return "invalid"
	case overflow && v < 0, v < 0:
		return "too small"
	case overflow, v > math.MaxInt32:
		return "too large"
	}
	return ""
}

// convtime is misc.c's convtime: seconds, or -1.
func convtime(s string) int64 {
	if s == "" {
		return -1
	}
	var total int64
	for s != "" {
		secs, n, overflow := strtoll(s, 10)
		// strtol is 64 bits wide on Linux; convtime refuses values
		// that overflow it (and, below, INT_MAX).
		if n == 0 || overflow || secs < 0 {
			return -1
		}
		s = s[n:]
		mult := int64(1)
		if s != "" {
			switch s[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 3600
			case 'd', 'D':
				mult = 86400
			case 'w', 'W':
				mult = 604800
			default:
				return -1
			}
			s = s[1:]
		}
		if secs > math.MaxInt32/mult {
			return -1
		}
		secs *= mult
		if total > math.MaxInt32-secs {
			return -1
		}
		total += secs
	}
	return total
}

// scanInts reads "%d:%d:%d"-style input as sscanf does: it returns the
// values and how many were converted.
func scanInts(s string, max int) ([3]int64, int) {
	var v [3]int64
	n := 0
	for n < max {
		x, k, _ := strtoll(s, 10)
		if k == 0 {
			break
		}
		v[n] = int64(int32(x)) // sscanf stores into an int
		n++
		s = s[k:]
		if n == max || !strings.HasPrefix(s, ":") {
			break
		}
		s = s[1:]
	}
	return v, n
}

// scanScaled is fmt_scaled.c's scan_scaled: a number with an optional
// fraction and one of the scale letters B K M G T P E. It returns the
// value or the strerror text of its failure.
func scanScaled(s string) (int64, string) {
	const (
		einval = "Invalid argument"
		erange = "Numerical result out of range"
	)
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	sign := int64(0)
	for i < len(s) && (s[i] == '-' || s[i] == '+') {
		if sign != 0 {
			return 0, einval
		}
		sign = 1
		if s[i] == '-' {
			sign = -1
		}
		i++
	}
	var whole int64
	ndigits, frac := 0, false
	for ; i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.'); i++ {
		if s[i] == '.' {
			if frac {
				return 0, einval
			}
			frac = true
			continue
		}
		if frac {
			continue
		}
		ndigits++
		if ndigits >= 21 || whole > math.MaxInt64/10 {
			return 0, erange
		}
		whole = whole*10 + int64(s[i]-'0')
		if whole < 0 {
			return 0, erange
		}
	}
	if sign != 0 {
		whole *= sign
	}
	if i == len(s) {
		return whole, ""
	}
	scales := "BKMGTPE"
	k := strings.IndexByte(scales, upper(s[i]))
	if k < 0 {
		return 0, einval
	}
	if i+1 < len(s) && isAlnum(s[i+1]) {
		return 0, einval
	}
	fact := int64(1) << (10 * k)
	if whole > math.MaxInt64/fact || whole < math.MinInt64/fact {
		return 0, erange
	}
	return whole * fact, ""
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isAlnum(c byte) bool { return digitVal(c) < 36 }

func validIPQoS(s string) bool {
	if containsFold(ipqosNames, s) {
		return true
	}
	v, ok := strtol(s, 0)
	return s != "" && ok && v >= 0 && v <= 255
}

// validAuthMethods is auth2.c's auth2_methods_valid(list, 0).
func validAuthMethods(list string) bool {
	if list == "" {
		return false
	}
	for _, m := range strings.Split(list, ",") {
		name, _, _ := strings.Cut(m, ":")
		if !contains(authMethodNames, name) {
			return false
		}
	}
	return true
}

// validUserPattern is match_user(NULL, NULL, NULL, pattern): the part
// after '@' must be a valid address list (addr_match_list).
func validUserPattern(p string) bool {
	_, hosts, ok := strings.Cut(p, "@")
	if !ok {
		return true
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimPrefix(h, "!")
		if h == "" {
			return false
		}
		// addr_pton_cidr: -1 (a host name pattern) unless an address
		// with a mask of at most 128; -2 (refused) for a mask too long
		// for the family or host bits set.
		if addr, bits, ok := strings.Cut(h, "/"); ok {
			a, err := netip.ParseAddr(addr)
			n, err2 := strconv.Atoi(bits)
			if err != nil || err2 != nil || bits == "" || bits[0] < '0' || bits[0] > '9' || n > 128 {
				continue
			}
			if n > a.BitLen() {
				return false
			}
			if p, err := a.Prefix(n); err == nil && p.Addr() != a {
				return false
			}
		}
	}
	return true
}

// gssKexName reports whether n is a GSSAPI key exchange name of the
// distributions' GSSAPI patch (kex_gss_names_valid).
func gssKexName(n string) bool {
	for _, p := range []string{"gss-gex-sha1-", "gss-group1-sha1-", "gss-group14-sha1-",
		"gss-group14-sha256-", "gss-group16-sha512-", "gss-nistp256-sha256-", "gss-curve25519-sha256-"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}
