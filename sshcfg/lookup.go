package sshcfg

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"unsafe"
)

// a2port converts a Port value as misc.c's a2port: a decimal number
// 0..65535 (strtonum: leading white space and sign allowed, leading zeros
// fine), else a TCP service name. It returns -1 when neither applies; the
// caller refuses 0 as well.
func a2port(s string, services func(string) (int, bool)) int {
	if n, ok := strtonum(s, 0, 65535); ok {
		return int(n)
	}
	if services != nil {
		if p, ok := services(s); ok {
			return p
		}
	}
	return -1
}

// strtonum mirrors OpenBSD's strtonum over strtoll(s, &end, 10).
func strtonum(s string, lo, hi int64) (int64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if n > (1<<62)/5 {
			return 0, false // overflow: ERANGE
		}
		n = n*10 + int64(s[i]-'0')
		i++
	}
	if i == start || i != len(s) {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, n >= lo && n <= hi
}

// tableRows returns the fields of each line of a /etc/services or
// /etc/hosts style file that has at least two, comments removed.
func tableRows(data []byte) [][]string {
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if f := strings.Fields(line); len(f) >= 2 {
			rows = append(rows, f)
		}
	}
	return rows
}

// ServicesFromFile returns a getservbyname-like lookup over the TCP entries
// of an /etc/services file (names and aliases, case-sensitive).
func ServicesFromFile(data []byte) func(string) (int, bool) {
	m := map[string]int{}
	for _, f := range tableRows(data) {
		num, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto != "tcp" {
			continue
		}
		p, err := strconv.Atoi(num)
		if err != nil || p < 0 || p > 65535 {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			if _, dup := m[name]; !dup {
				m[name] = p
			}
		}
	}
	return func(name string) (int, bool) {
		p, ok := m[name]
		return p, ok
	}
}

// HostsLookup returns the addresses an /etc/hosts file gives name, in
// file order, each once.
func HostsLookup(data []byte, name string) []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, f := range tableRows(data) {
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, n := range f[1:] {
			if strings.EqualFold(n, name) && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// parseNumericHost parses an address as getaddrinfo does with a numeric
// host: IPv6 (with an optional %zone) or IPv4 in any inet_aton form
// ("127.1", "0x7f.0.0.1").
func parseNumericHost(s string) (netip.Addr, bool) {
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err == nil && a.Zone() != "" && !interfaceExists(a.Zone()) {
			// getaddrinfo maps the zone to an interface index; an
			// unknown one is "Name or service not known".
			return netip.Addr{}, false
		}
		return a, err == nil
	}
	return inetAton(s)
}

// inetAton parses the forms inet_aton accepts: a, a.b, a.b.c, a.b.c.d with
// decimal, octal (leading 0) or hex (0x) parts.
func inetAton(s string) (netip.Addr, bool) {
	if strings.Count(s, ".") > 3 {
		return netip.Addr{}, false
	}
	var buf [4]uint64
	vals := buf[:0]
	for p := range strings.SplitSeq(s, ".") {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0" // inet_aton takes "0x" as 0
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	last := len(vals) - 1
	for i, v := range vals[:last] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	if vals[last] >= 1<<(8*uint(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

type matchErr struct {
	msg   string
	fatal bool // sshd's own fatal with its own text, not "Bad Match condition"
}

// matchLine evaluates a Match line at start-up, without a connection, as
// servconf.c's match_cfg_line(ci == NULL) does in OpenSSH 9.2: only "all"
// matches; criteria are checked for syntax.
func matchLine(rest string, services func(string) (int, bool)) (bool, *matchErr) {
	s := unsafe.Slice(unsafe.StringData(rest), len(rest)) // read only
	off := 0
	next := func() (string, bool) {
		if off < 0 || off > len(s) {
			return "", false
		}
		w, _, _, n, ok := strdelim(s, off)
		if !ok {
			off = -1
			return "", false
		}
		off = n
		return w, true
	}
	result, attributes := true, 0
	for {
		attrib, ok := next()
		if !ok || attrib == "" {
			break
		}
		if attrib[0] == '#' {
			break
		}
		attributes++
		if strings.EqualFold(attrib, "all") {
			arg, ok := next()
			if attributes > 1 || (ok && arg != "" && arg[0] != '#') {
				return false, &matchErr{msg: "'all' cannot be combined with other Match attributes"}
			}
			return true, nil
		}
		arg, ok := next()
		if !ok || arg == "" || arg[0] == '#' {
			return false, &matchErr{msg: "Missing Match criteria for " + attrib}
		}
		switch lower := func(w string) bool { return strings.EqualFold(attrib, w) }; {
		case lower("user"), lower("group"), lower("host"), lower("rdomain"):
		case lower("address"), lower("localaddress"):
			if !validAddrList(arg) {
				name := "address"
				if strings.EqualFold(attrib, "localaddress") {
					name = "localaddress"
				}
				return false, &matchErr{msg: "Invalid Match " + name + " argument '" + arg + "'", fatal: true}
			}
		case lower("localport"):
			if a2port(arg, services) == -1 {
				return false, &matchErr{msg: "Invalid LocalPort '" + arg + "' on Match line"}
			}
		default:
			return false, &matchErr{msg: "Unsupported Match attribute " + attrib}
		}
		result = false
	}
	if attributes == 0 {
		return false, &matchErr{msg: "One or more attributes required for Match"}
	}
	return result, nil
}

// validAddrList checks a Match Address list as addr_match_list(NULL, list)
// does: no empty entry, and a CIDR entry must have a valid mask and no host
// bits set. Anything else is taken as a wildcard pattern.
func validAddrList(list string) bool {
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimPrefix(e, "!")
		if e == "" {
			return false
		}
		host, mask, hasMask := strings.Cut(e, "/")
		bits := -1
		if hasMask {
			n, err := strconv.ParseUint(mask, 10, 8)
			if mask == "" || mask[0] < '0' || mask[0] > '9' || err != nil || n > 128 {
				continue // not CIDR: a pattern
			}
			bits = int(n)
		}
		a, ok := parseNumericHost(host)
		if !ok {
			continue
		}
		if bits < 0 {
			continue
		}
		if bits > a.BitLen() {
			return false
		}
		if p, err := a.Prefix(bits); err != nil || p.Addr() != a.WithZone("") {
			return false
		}
	}
	return true
}

func fsPath(p string) string {
	p = strings.TrimPrefix(path.Clean(p), "/")
	if p == "" {
		return "."
	}
	return p
}

// interfaceExists reports whether a network interface of that name (or
// number) exists on this system.
func interfaceExists(zone string) bool {
	if _, err := strconv.Atoi(zone); err == nil {
		return true
	}
	return netDevExists(zone)
}

// netDevExists reports whether this system has a network device of that name.
func netDevExists(name string) bool {
	if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
		return false
	}
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}
