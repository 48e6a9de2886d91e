package sshdtest

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Generate returns a random configuration tree: a main file at
// /etc/ssh/sshd_config, often with drop-ins and other included files,
// built from random mixes of Port, ListenAddress, AddressFamily, Include
// and Match lines with the spellings sshd accepts or rejects (odd spacing,
// tabs, '=', quotes, escapes, comments, CRLF, no final newline, case,
// leading zeros, a BOM, bad and unusual values, unknown keywords). The
// same rng state gives the same tree.
//
// Host names in ListenAddress lines are those of Hosts; "rdomain lo" is
// valid only where an interface "lo" exists (sshd checks).
func Generate(rng *rand.Rand) Tree {
	g := &gen{r: rng, t: Tree{Files: map[string][]byte{}, Symlinks: map[string]string{}}}
	g.tree()
	return g.t
}

type gen struct {
	r    *rand.Rand
	t    Tree
	crlf bool // this file uses CRLF
	// clean trees draw only values sshd accepts (unknown keywords aside),
	// so that about half of all trees get past sshd and their ports are
	// compared; the other trees mix in every kind of mistake.
	clean bool
}

func (g *gen) p(pct float64) bool { return g.r.Float64()*100 < pct }
func (g *gen) n(k int) int        { return g.r.IntN(k) }

// bad is p(pct) in a tree that may hold mistakes, false in a clean one.
func (g *gen) bad(pct float64) bool { return !g.clean && g.p(pct) }

// lim returns a number below k, or below cleanK in a clean tree: callers
// put the choices sshd rejects at the end of their range.
func (g *gen) lim(k, cleanK int) int {
	if g.clean {
		return g.r.IntN(cleanK)
	}
	return g.r.IntN(k)
}

func (g *gen) pick(s ...string) string {
	return s[g.r.IntN(len(s))]
}

// drop-in names: glob(3) order is bytewise ("10-a.conf" < "9-b.conf"),
// dot files are not matched by '*', ".bak" does not match "*.conf".
var dropinNames = []string{
	"10-a.conf", "9-b.conf", "50-cloud-init.conf", "50-redhat.conf", "port.conf",
	"a b.conf", ".hidden.conf", "x.conf.bak", "Z.conf", "00-first.conf", "99-last.conf",
}

func (g *gen) tree() {
	const d = "/etc/ssh/sshd_config.d/"
	g.clean = g.p(55)
	var incs []string // files that may be included
	if g.p(70) {
		for range 1 + g.n(4) {
			incs = append(incs, d+g.pick(dropinNames...))
		}
	}
	if g.p(25) {
		incs = append(incs, "/etc/ssh/extra.conf")
	}
	if g.p(10) {
		incs = append(incs, "/etc/ssh/inc/1.conf", "/etc/ssh/inc/2.conf")
	}
	main := g.file(true, incs, 0)
	g.t.Files[MainConfig] = main
	for _, f := range incs {
		_, isFile := g.t.Files[f]
		if _, isLink := g.t.Symlinks[f]; isFile || isLink {
			continue
		}
		if g.p(5) && strings.HasPrefix(f, d) {
			// A symlinked drop-in, absolute or relative.
			target := "/etc/ssh/shared/" + strings.ReplaceAll(f[len(d):], " ", "_")
			if g.p(50) {
				g.t.Symlinks[f] = target
			} else {
				g.t.Symlinks[f] = "../shared/" + strings.ReplaceAll(f[len(d):], " ", "_")
			}
			g.t.Files[target] = g.file(false, incs, 1)
			continue
		}
		if f == "/etc/ssh/inc/1.conf" {
			g.t.Files[f] = g.fileWith([]string{g.directive("Include", g.pick("inc/2.conf", "/etc/ssh/inc/2.conf", "/etc/ssh/inc/*.conf"))}, g.file(false, nil, 1))
			continue
		}
		g.t.Files[f] = g.file(false, incs, 1)
	}
}

// fileWith prepends lines (with the file's line ending) to data.
func (g *gen) fileWith(lines []string, data []byte) []byte {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return append([]byte(b.String()), data...)
}

// file generates one file; main is true for the main config.
func (g *gen) file(main bool, incs []string, depth int) []byte {
	g.crlf = g.p(6)
	var lines []string
	if main && len(incs) > 0 && g.p(70) {
		// Distribution style: Include first.
		lines = append(lines, g.include(incs, depth))
	}
	n := g.n(8)
	if g.p(10) {
		n += 8
	}
	for range n {
		lines = append(lines, g.line(incs, depth))
	}
	if g.bad(1) {
		// Too many ports: sshd allows 256.
		for i := range 257 {
			lines = append(lines, "Port "+strconv.Itoa(1000+i))
		}
	}
	eol := "\n"
	if g.crlf {
		eol = "\r\n"
	}
	var b strings.Builder
	if g.bad(4) {
		b.WriteString("\xef\xbb\xbf")
	}
	for i, l := range lines {
		b.WriteString(l)
		if i < len(lines)-1 || !g.p(10) {
			if g.p(1) {
				b.WriteString(g.pick("\n", "\r\n")) // mixed endings
			} else {
				b.WriteString(eol)
			}
		}
	}
	return []byte(b.String())
}

func (g *gen) line(incs []string, depth int) string {
	switch x := g.n(100); {
	case x < 30:
		return g.port()
	case x < 45:
		return g.listen()
	case x < 52:
		return g.addressFamily()
	case x < 60:
		if (len(incs) > 0 || g.p(20)) && (depth == 0 || g.p(25)) {
			return g.include(incs, depth)
		}
		return g.port()
	case x < 70:
		return g.match()
	case x < 82:
		return g.neutral()
	case x < 92:
		return g.comment()
	case x < 94:
		if g.clean && g.p(50) {
			return g.neutral()
		}
		return g.unknown()
	default:
		return g.pick("", "", " ", "\t", "  \t ")
	}
}

// directive formats a keyword line with random case, separator, indent and
// trailing text.
func (g *gen) directive(kw string, args ...string) string {
	var b strings.Builder
	if g.p(10) {
		b.WriteString(g.pick(" ", "\t", "  ", " \t"))
	}
	switch x := g.n(100); {
	case x < 10:
		kw = strings.ToLower(kw)
	case x < 15:
		kw = strings.ToUpper(kw)
	case x < 18:
		var k []byte
		for i := range len(kw) {
			c := kw[i]
			if g.p(50) {
				c = strings.ToUpper(string(c))[0]
			} else {
				c = strings.ToLower(string(c))[0]
			}
			k = append(k, c)
		}
		kw = string(k)
	}
	b.WriteString(kw)
	if len(args) > 0 {
		switch x := g.lim(100, 98); {
		case x < 70:
			b.WriteString(" ")
		case x < 78:
			b.WriteString("\t")
		case x < 82:
			b.WriteString("   ")
		case x < 88:
			b.WriteString("=")
		case x < 94:
			b.WriteString(g.pick(" = ", "= ", " =", "\t=\t", " \t= "))
		case x < 98:
			b.WriteString(g.pick(" ", "\t"))
		default:
			b.WriteString(g.pick("==", " == ", "= =", "=\t"))
		}
		for i, a := range args {
			if i > 0 {
				b.WriteString(g.pick(" ", " ", "\t", "  "))
			}
			b.WriteString(a)
		}
	}
	if g.p(12) {
		if g.bad(10) {
			b.WriteString("# x")
		} else {
			b.WriteString(g.pick(" # comment", "\t# old port", " #", " #Port 1", " ", "\t", "  ", " # x"))
		}
	}
	return b.String()
}

// quote wraps a value in quotes or escapes now and then.
func (g *gen) quote(v string) string {
	switch x := g.lim(100, 98); {
	case x < 8:
		return `"` + v + `"`
	case x < 12:
		return "'" + v + "'"
	case x < 98:
		return v
	case x < 99 && len(v) > 1:
		return v[:1] + `\` + v[1:]
	case x < 99:
		return `"` + v
	case x < 100:
		return `\"` + v + `\"`
	}
	return v
}

func (g *gen) portValue() string {
	switch x := g.lim(100, 80); {
	case x < 30:
		return g.pick("22", "2222", "20022", "2200", "8022")
	case x < 55:
		return strconv.Itoa(1 + g.n(65535))
	case x < 60:
		return g.pick("1", "65535", "1024", "49151", "49152")
	case x < 70:
		return g.pick("02222", "0022", "00000022", "065535")
	case x < 80:
		return g.pick("ssh", "http", "https", "telnet", "SSH", "domain", "nosuchservice")
	case x < 93:
		return g.pick("0", "65536", "99999", "0x10", "-1", "2222x", "+22", " 22", "2.2", "1e3",
			"4294967318", "18446744073709551638", "00", "")
	default:
		return g.pick("2222 3333", "22 22", "2222 # x", "2222\t3333", "\"22 23\"", "'22' 23")
	}
}

func (g *gen) port() string {
	v := g.portValue()
	if v == "" {
		return g.directive("Port")
	}
	return g.directive("Port", g.quote(v))
}

func (g *gen) listenValue() string {
	port := func() string {
		if g.bad(10) {
			return g.pick("0", "65536", "x", "")
		}
		if g.p(5) {
			return g.pick("ssh", "022")
		}
		return g.pick("22", "2222", "2200", strconv.Itoa(1+g.n(65535)))
	}
	switch x := g.lim(100, 90); {
	case x < 25:
		return g.pick("0.0.0.0", "127.0.0.1", "10.0.0.1", "192.168.1.3", "203.0.113.7")
	case x < 45:
		return g.pick("0.0.0.0", "127.0.0.1", "10.0.0.1") + ":" + port()
	case x < 58:
		return g.pick("::", "::1", "2001:db8::1", "fe80::1", "::ffff:127.0.0.1")
	case x < 72:
		return "[" + g.pick("::", "::1", "2001:db8::1") + "]:" + port()
	case x < 80:
		return g.pick("localhost", "ip6-localhost", "LOCALHOST")
	case x < 85:
		return g.pick("localhost", "ip6-localhost", "[localhost]", "[ip6-localhost]") + ":" + port()
	case x < 90:
		return g.pick("127.0.0.1", "0.0.0.0:2222", "[::1]:2200", "::1") + " rdomain lo"
	case x < 93:
		return g.pick("[::1]", "[127.0.0.1]:22", "[::1]:", "127.0.0.1:", "::1:22", "[::1]22")
	case x < 95:
		return "127.0.0.1 rdomain novrf0"
	default:
		return g.pick("127.0.0.1 extra", "256.1.1.1", "127.1", "*", "0")
	}
}

func (g *gen) listen() string {
	return g.directive("ListenAddress", g.quote(g.listenValue()))
}

func (g *gen) addressFamily() string {
	v := g.pick("any", "inet", "inet6", "any", "inet", "INET", "Inet6")
	if g.bad(30) {
		v = g.pick("ipv4", "", "inet inet6")
	}
	if v == "" {
		return g.directive("AddressFamily")
	}
	return g.directive("AddressFamily", g.quote(v))
}

func (g *gen) include(incs []string, depth int) string {
	var pats []string
	for range 1 + g.n(2) {
		var p string
		switch x := g.lim(100, 80); {
		case x < 35 && depth == 0:
			p = "/etc/ssh/sshd_config.d/*.conf"
		case x < 50 && depth == 0:
			p = "sshd_config.d/*.conf"
		case x < 58 && depth == 0:
			p = g.pick("/etc/ssh/sshd_config.d/*", "/etc/ssh/sshd_config.d/[0-9]*.conf", "/etc/ssh/sshd_config.d/?-*.conf", "/etc/ssh/sshd_config.d/*.conf*")
		case x < 70 && len(incs) > 0:
			inc := incs[g.n(len(incs))]
			if g.p(40) {
				inc = strings.TrimPrefix(inc, "/etc/ssh/")
			}
			p = inc
		case x < 80:
			p = g.pick("/etc/ssh/missing.conf", "missing/*.conf", "/nonexistent/*", "~/x.conf", "./extra.conf", "../ssh/extra.conf",
				// The kernel and sshd's glob(3), not text: a file
				// followed by ".." is ENOTDIR, "[" without "]" is
				// plain, ".*" lists "." and "..".
				"/etc/ssh/sshd_config/../extra.conf", "sshd_config.d/../extra.conf", "/etc/ssh/sshd_config.d/[0-9*",
				"/etc/ssh/sshd_config.d/.*", "/etc/ssh/./sshd_config.d//*.conf", "inc/1.conf/")
		case x < 82 || (depth > 0 && x < 86):
			// Loops: the main file, or the including file itself.
			p = g.pick("/etc/ssh/sshd_config", "sshd_config", "/etc/ssh/sshd_config.d/*.conf")
		default:
			p = g.pick("/etc/ssh/extra.conf", "extra.conf", "inc/1.conf")
		}
		if strings.Contains(p, " ") {
			p = `"` + p + `"`
		} else {
			p = g.quote(p)
		}
		pats = append(pats, p)
	}
	if g.bad(3) {
		return g.directive("Include")
	}
	return g.directive("Include", pats...)
}

func (g *gen) match() string {
	c := g.pick("all", "all", "all", "User bob", "LocalPort 2222", "Address 10.0.0.0/8",
		"Group admin", "User bob Address 192.168.0.0/16", "ALL", "Host *.example.com",
		"LocalAddress 127.0.0.1", "User bob,alice")
	if g.bad(25) {
		c = g.pick("LocalPort 22,2222", "all User bob", "", "Foo bar", "User", "!all")
	}
	if c == "" {
		return g.directive("Match")
	}
	return g.directive("Match", strings.Fields(c)...)
}

// neutral lines are keywords sshport does not interpret; all but the last
// few are allowed inside Match blocks.
func (g *gen) neutral() string {
	if g.p(8) {
		return g.directive(g.pick("UseDNS", "PrintMotd"), "no")
	}
	switch g.n(7) {
	case 0:
		return g.directive("PasswordAuthentication", g.pick("yes", "no"))
	case 1:
		return g.directive("PermitRootLogin", g.pick("prohibit-password", "no", "yes"))
	case 2:
		return g.directive("X11Forwarding", g.pick("yes", "no"))
	case 3:
		return g.directive("ClientAliveInterval", strconv.Itoa(g.n(300)))
	case 4:
		return g.directive("MaxAuthTries", strconv.Itoa(1+g.n(6)))
	case 5:
		return g.directive("Banner", "none")
	default:
		return g.directive("AllowTcpForwarding", g.pick("yes", "no", "local"))
	}
}

func (g *gen) comment() string {
	return g.pick("#Port 22", "# Port 2222", "#ListenAddress 0.0.0.0", "   # indented comment",
		"#", "#\tInclude /etc/ssh/sshd_config.d/*.conf", "# comment with = sign")
}

func (g *gen) unknown() string {
	return g.directive(g.pick("FooBarOption", "KerberosUseKuserok", "ShowPatchLevel", "Portt", "Ports", "Listen"),
		g.pick("yes", "no", "2222"))
}
