// Command genalgs writes sshcfg's table of what each OpenSSH release
// accepts in sshd_config: keyword names (and whether a Match block may
// hold them), cipher, MAC, key exchange and key type names, and the list
// prefixes servconf.c allows. It reads the sources of each release tag
// (V_7_4_P1 onwards) from a git directory of openssh-portable, without a
// work tree: `git show TAG:cipher.c`. The sources are read, never copied:
// only names go into the table.
//
//	go run ./internal/genalgs -git /path/to/openssh-portable/.git -o algorithms_table.go
//
// Compile-time conditions (#ifdef) are taken as a Linux distribution builds
// sshd: with OpenSSL (ECC, NIST P-521, GCM, SHA-256), PAM, GSSAPI and
// Kerberos, zlib, security keys and the post-quantum key exchanges; without
// SSH protocol 1, XMSS, ML-DSA or the OpenBSD-only features; with DSA keys
// until 9.7 (9.8 made them a configure option that is off by default).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type version struct{ major, minor int }

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }
func (v version) less(w version) bool {
	return v.major < w.major || v.major == w.major && v.minor < w.minor
}

var (
	gitDir = flag.String("git", "", "git directory of openssh-portable (a bare mirror is fine)")
	out    = flag.String("o", "algorithms_table.go", "output file")
	oldest = version{7, 4}
)

func main() {
	flag.Parse()
	if *gitDir == "" {
		log.Fatal("genalgs: -git DIR is required: a clone of openssh-portable (go generate passes $OPENSSH_PORTABLE_GIT)")
	}
	tags := releaseTags()
	if len(tags) == 0 {
		log.Fatal("genalgs: no release tags V_X_Y_P1 found")
	}
	if len(tags) > 64 {
		log.Fatalf("genalgs: %d releases do not fit the 64-bit release set", len(tags))
	}
	t := &table{
		ciphers: map[string]uint64{}, macs: map[string]uint64{}, kex: map[string]uint64{},
		keys: map[string]uint64{}, certs: map[string]uint64{}, short: map[string]uint64{},
		kwKnown: map[string]uint64{}, kwMatch: map[string]uint64{}, kwIgnored: map[string]uint64{},
	}
	for i, tg := range tags {
		bit := uint64(1) << i
		t.versions = append(t.versions, tg.v.String())
		t.read(tg, bit)
	}
	var b bytes.Buffer
	t.write(&b)
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("genalgs: formatting: %v\n%s", err, b.Bytes())
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

type tag struct {
	name string
	v    version
}

func git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", *gitDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(b), nil
}

func show(tg tag, file string) string {
	s, err := git("show", tg.name+":"+file)
	if err != nil {
		return ""
	}
	return s
}

func releaseTags() []tag {
	s, err := git("tag", "--list", "V_*_P1")
	if err != nil {
		log.Fatal(err)
	}
	re := regexp.MustCompile(`^V_(\d+)_(\d+)_P1$`)
	var tags []tag
	for _, name := range strings.Fields(s) {
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		v := version{a, b}
		if v.less(oldest) {
			continue
		}
		tags = append(tags, tag{name, v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].v.less(tags[j].v) })
	return tags
}

type table struct {
	versions                    []string
	ciphers, macs, kex          map[string]uint64
	keys, certs, short          map[string]uint64
	kwKnown, kwMatch, kwIgnored map[string]uint64
	caret, minus                uint64
}

// defined is the build this table describes (see the package comment).
func defined(v version) map[string]bool {
	d := map[string]bool{}
	for _, m := range []string{"WITH_OPENSSL", "OPENSSL_HAS_ECC", "OPENSSL_HAS_NISTP521",
		"OPENSSL_HAVE_EVPGCM", "OPENSSL_HAVE_EVPCTR", "HAVE_EVP_SHA256", "HAVE_EVP_RIPEMD160",
		"ENABLE_SK", "USE_PAM", "GSSAPI", "KRB5", "WITH_ZLIB", "USE_SNTRUP761X25519",
		"USE_MLKEM768X25519", "OPENSSL_HAS_ED25519", "HAVE_SYS_VALID_RDOMAIN", "HAVE_UTIL_H"} {
		d[m] = true
	}
	if v.less(version{9, 8}) {
		d["WITH_DSA"] = true
	}
	return d
}

// preprocess drops the lines a build with the macros in d leaves out. It
// understands #if/#ifdef/#ifndef/#elif/#else/#endif with defined(),
// !, && and ||; any other condition counts as false.
func preprocess(src string, d map[string]bool) string {
	type frame struct{ parent, taken, on bool }
	var stack []frame
	on := true
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			dir := strings.TrimSpace(t[1:])
			word, rest, _ := strings.Cut(dir, " ")
			if i := strings.Index(rest, "/*"); i >= 0 {
				rest = rest[:i]
			}
			rest = strings.TrimSpace(rest)
			switch word {
			case "ifdef", "ifndef", "if":
				var c bool
				switch word {
				case "ifdef":
					c = d[rest]
				case "ifndef":
					c = !d[rest]
				default:
					c = evalCond(rest, d)
				}
				stack = append(stack, frame{parent: on, taken: c, on: on})
				on = on && c
				continue
			case "elif":
				if len(stack) > 0 {
					f := &stack[len(stack)-1]
					c := !f.taken && evalCond(rest, d)
					f.taken = f.taken || c
					on = f.parent && c
				}
				continue
			case "else":
				if len(stack) > 0 {
					f := &stack[len(stack)-1]
					on = f.parent && !f.taken
					f.taken = true
				}
				continue
			case "endif":
				if len(stack) > 0 {
					on = stack[len(stack)-1].parent
					stack = stack[:len(stack)-1]
				}
				continue
			}
		}
		if on {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

var condTok = regexp.MustCompile(`defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)|&&|\|\||!|\(|\)|\w+|\S`)

// cond is a recursive-descent reader of a #if condition.
type cond struct {
	toks [][]string
	pos  int
	d    map[string]bool
}

// evalCond evaluates a #if condition of defined(), !, &&, || and parens.
// Anything else (comparisons) makes it false.
func evalCond(s string, d map[string]bool) bool {
	c := &cond{toks: condTok.FindAllStringSubmatch(s, -1), d: d}
	v := c.or()
	return v && c.pos == len(c.toks)
}

func (c *cond) peek() string {
	if c.pos < len(c.toks) {
		return c.toks[c.pos][0]
	}
	return ""
}

func (c *cond) or() bool {
	v := c.and()
	for c.peek() == "||" {
		c.pos++
		w := c.and()
		v = v || w
	}
	return v
}

func (c *cond) and() bool {
	v := c.unary()
	for c.peek() == "&&" {
		c.pos++
		w := c.unary()
		v = v && w
	}
	return v
}

func (c *cond) unary() bool {
	if c.pos >= len(c.toks) {
		return false
	}
	t := c.toks[c.pos]
	c.pos++
	switch {
	case t[1] != "":
		return c.d[t[1]]
	case t[2] != "":
		return c.d[t[2]]
	case t[0] == "!":
		return !c.unary()
	case t[0] == "(":
		v := c.or()
		if c.peek() == ")" {
			c.pos++
		}
		return v
	case t[0] == "1":
		return true
	}
	return c.d[t[0]]
}

// arrayBody returns the text between "NAME[] = {" and the closing "};".
func arrayBody(src, name string) string {
	i := strings.Index(src, name+"[] = {")
	if i < 0 {
		return ""
	}
	rest := src[i:]
	j := strings.Index(rest, "\n};")
	if j < 0 {
		return ""
	}
	return rest[:j]
}

var (
	entryRe  = regexp.MustCompile(`\{\s*("[^"]*"|[A-Z][A-Z0-9_]*)\s*,`)
	defineRe = regexp.MustCompile(`(?m)^#\s*define\s+(\w+)\s+"([^"]*)"`)
)

// entries returns the first field of each { ... } entry, resolving macro
// names with defs.
func entries(body string, defs map[string]string) []string {
	var out []string
	for _, m := range entryRe.FindAllStringSubmatch(body, -1) {
		f := m[1]
		if strings.HasPrefix(f, `"`) {
			out = append(out, strings.Trim(f, `"`))
		} else if v, ok := defs[f]; ok {
			out = append(out, v)
		}
	}
	return out
}

func (t *table) read(tg tag, bit uint64) {
	d := defined(tg.v)
	pp := func(file string) string { return preprocess(show(tg, file), d) }

	cipher := pp("cipher.c")
	for _, n := range entries(arrayBody(cipher, "ciphers"), nil) {
		if n != "none" { // ciphers_valid refuses the internal "none"
			t.ciphers[n] |= bit
		}
	}
	for _, n := range entries(arrayBody(pp("mac.c"), "macs"), nil) {
		t.macs[n] |= bit
	}
	defs := map[string]string{}
	for _, m := range defineRe.FindAllStringSubmatch(show(tg, "kex.h"), -1) {
		defs[m[1]] = m[2]
	}
	kexSrc := pp("kex-names.c")
	if arrayBody(kexSrc, "kexalgs") == "" {
		kexSrc = pp("kex.c")
	}
	for _, n := range entries(arrayBody(kexSrc, "kexalgs"), defs) {
		t.kex[n] |= bit
	}
	t.readKeys(tg, bit, pp)
	t.readKeywords(pp("servconf.c"), pp("servconf.h"), bit)
}

var (
	keytypeRe = regexp.MustCompile(`\{\s*"([^"]+)"\s*,\s*"([^"]+)"`)
	implRefRe = regexp.MustCompile(`&(sshkey_\w+_impl)`)
	implDefRe = regexp.MustCompile(`const struct sshkey_impl (sshkey_\w+_impl) = \{\s*/\*[^*]*\*/\s*"([^"]+)",\s*/\*[^*]*\*/\s*"([^"]+)"`)
)

func (t *table) readKeys(tg tag, bit uint64, pp func(string) string) {
	sk := pp("sshkey.c")
	add := func(name, short string) {
		if strings.Contains(name, "-cert-") {
			t.certs[name] |= bit
			return
		}
		t.keys[name] |= bit
		t.short[strings.ToLower(short)] |= bit
	}
	if body := arrayBody(sk, "keytypes"); body != "" {
		for _, m := range keytypeRe.FindAllStringSubmatch(body, -1) {
			add(m[1], m[2])
		}
		return
	}
	body := arrayBody(sk, "keyimpls")
	if body == "" {
		log.Fatalf("genalgs: %s: neither keytypes[] nor keyimpls[] in sshkey.c", tg.name)
	}
	files, err := git("ls-tree", "--name-only", tg.name)
	if err != nil {
		log.Fatal(err)
	}
	impls := map[string][2]string{}
	for _, f := range strings.Fields(files) {
		if !strings.HasSuffix(f, ".c") || !(strings.HasPrefix(f, "ssh") || strings.HasPrefix(f, "sshkey")) {
			continue
		}
		for _, m := range implDefRe.FindAllStringSubmatch(show(tg, f), -1) {
			impls[m[1]] = [2]string{m[2], m[3]}
		}
	}
	for _, m := range implRefRe.FindAllStringSubmatch(body, -1) {
		im, ok := impls[m[1]]
		if !ok {
			log.Fatalf("genalgs: %s: no definition of %s", tg.name, m[1])
		}
		add(im[0], im[1])
	}
}

var xmacroRe = regexp.MustCompile(`^SSHCONF_(CUSTOM|INT|INTFLAG|STRING|STRARRAY|DEPRECATE|UNSUPPORTED_INT|UNSUPPORTED_STRING|ALIAS)\(([^)]*)\)`)

var kwRe = regexp.MustCompile(`\{\s*"([^"]+)"\s*,\s*(s\w+)\s*,\s*([A-Z_| ]+)\s*\}`)

func (t *table) readKeywords(servconf, servconfH string, bit uint64) {
	body := arrayBody(servconf, "keywords")
	if body == "" {
		log.Fatal("genalgs: no keywords[] in servconf.c")
	}
	add := func(name, opcode, flags string) {
		name = strings.ToLower(name)
		t.kwKnown[name] |= bit
		if strings.Contains(flags, "SSHCFG_ALL") || strings.Contains(flags, "SSHCFG_MATCH") {
			t.kwMatch[name] |= bit
		}
		switch opcode {
		case "sDeprecated", "sUnsupported", "sIgnore":
			t.kwIgnored[name] |= bit
		}
	}
	for _, m := range kwRe.FindAllStringSubmatch(body, -1) {
		add(m[1], m[2], m[3])
	}
	// 10.4 and later build keywords[] from X-macros in servconf.h.
	for _, line := range strings.Split(servconfH+"\n"+servconf, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			continue
		}
		m := xmacroRe.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		a := strings.Split(m[2], ",")
		for i := range a {
			a[i] = strings.TrimSpace(a[i])
		}
		switch m[1] {
		case "CUSTOM":
			add(a[0], "s"+a[0], a[2])
		case "INT", "INTFLAG", "STRING":
			add(a[1], "s"+a[1], a[2])
		case "STRARRAY":
			add(a[2], "s"+a[2], a[3])
		case "DEPRECATE":
			add(a[0], "sDeprecated", a[1])
		case "UNSUPPORTED_INT", "UNSUPPORTED_STRING":
			add(a[1], "sUnsupported", a[2])
		case "ALIAS":
			add(a[0], "s"+a[1], a[2])
		}
	}
	// List prefixes: 7.5 added "-", 8.2 added "^" (see the Ciphers case).
	i := strings.Index(servconf, "ciphers_valid(")
	if i < 0 {
		log.Fatal("genalgs: no ciphers_valid call in servconf.c")
	}
	ctx := servconf[max(0, i-200) : i+100]
	if strings.Contains(ctx, "*arg != '-'") {
		t.minus |= bit
	}
	if strings.Contains(ctx, "'^'") {
		t.caret |= bit
	}
}

func (t *table) write(b *bytes.Buffer) {
	fmt.Fprintf(b, "// Code generated by sshcfg/internal/genalgs from openssh-portable's release tags; DO NOT EDIT.\n\n")
	fmt.Fprintf(b, "package sshcfg\n\n")
	fmt.Fprintf(b, "// releaseNames are the OpenSSH releases the tables describe; bit i of a\n// relSet stands for releaseNames[i].\n")
	fmt.Fprintf(b, "var releaseNames = [...]string{")
	for _, v := range t.versions {
		fmt.Fprintf(b, "%q, ", v)
	}
	fmt.Fprintf(b, "}\n\n")
	set := func(comment, name string, m map[string]uint64) {
		fmt.Fprintf(b, "// %s\nvar %s = map[string]relSet{\n", comment, name)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(b, "%q: %#x,\n", k, m[k])
		}
		fmt.Fprintf(b, "}\n\n")
	}
	set("cipherReleases: cipher.c ciphers[] (less the internal \"none\").", "cipherReleases", t.ciphers)
	set("macReleases: mac.c macs[].", "macReleases", t.macs)
	set("kexReleases: kexalgs[] of kex.c or kex-names.c.", "kexReleases", t.kex)
	set("keyReleases: plain key and signature algorithm names (sshkey.c).", "keyReleases", t.keys)
	set("certReleases: certificate key type names (sshkey.c).", "certReleases", t.certs)
	set("keyShortReleases: short key type names sshkey_type_from_name accepts, lower case.", "keyShortReleases", t.short)
	set("keywordReleases: servconf.c keywords[] (lower case).", "keywordReleases", t.kwKnown)
	set("keywordMatchReleases: keywords a Match block may hold (SSHCFG_MATCH).", "keywordMatchReleases", t.kwMatch)
	set("keywordIgnoredReleases: keywords sshd reads as deprecated, unsupported or ignored.", "keywordIgnoredReleases", t.kwIgnored)
	fmt.Fprintf(b, "// minusReleases accept a \"-\" list prefix; caretReleases a \"^\" prefix.\n")
	fmt.Fprintf(b, "const (\n\tminusReleases relSet = %#x\n\tcaretReleases relSet = %#x\n)\n", t.minus, t.caret)
}
