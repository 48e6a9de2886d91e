// Package sshdtest runs the real OpenSSH sshd as an oracle for tests: it
// asks `sshd -T` what a configuration tree means (ports, address family,
// listen endpoints) or why sshd refuses it, reads and writes the corpus
// layout used under testdata/corpus, and generates random configuration
// trees for differential tests. It is imported only by tests.
//
// A tree is a directory laid out like an image (ROOT/etc/ssh/sshd_config,
// drop-ins, ...). Run binds ROOT/etc/ssh over /etc/ssh in a private mount
// namespace, so absolute Include paths resolve inside the tree, and binds a
// fixed /etc/hosts (see Hosts) so host names resolve the same everywhere.
// It needs root (for the mount namespace) and the sh and mount commands.
package sshdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Path returns the sshd binary to use: "sshd" from $PATH, else
// /usr/sbin/sshd, else "" when there is none.
func Path() string {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	if fi, err := os.Stat("/usr/sbin/sshd"); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return "/usr/sbin/sshd"
	}
	return ""
}

// InCI reports whether the CI environment variable is set to a true value.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Require returns the sshd path, or skips the test when sshd (or root, which
// Run needs for its mount namespace) is missing and CI is not set. Under
// CI=true a missing sshd or root is a test failure.
func Require(t testing.TB) string {
	t.Helper()
	p := Path()
	why := ""
	switch {
	case p == "":
		why = "sshd not found in $PATH or /usr/sbin/sshd"
	case os.Geteuid() != 0:
		why = "running sshd in a private mount namespace needs root"
	}
	if why != "" {
		if InCI() {
			t.Fatalf("%s (CI is set: install openssh-server and run as root)", why)
		}
		t.Skip(why)
	}
	return p
}

// Result is what `sshd -T` said about a tree.
type Result struct {
	// Ports are the "port N" lines of sshd -T, in order, duplicates kept.
	Ports []int
	// AddressFamily is the value of the "addressfamily" line.
	AddressFamily string
	// Listen holds "ADDR:PORT" for each "listenaddress" line, exactly as
	// sshd prints it ("[::]:22", "0.0.0.0:22"), without any rdomain suffix.
	Listen []string
	// ListenRDomain is parallel to Listen: the routing domain sshd prints
	// after the endpoint, or "".
	ListenRDomain []string
	// Err is sshd's stderr when it refused the configuration (Exit != 0).
	Err string
	// ErrLines are the "FILE:LINE" positions named in Err, in order.
	ErrLines []string
	// Exit is sshd's exit status.
	Exit int
	// Retried holds the extra arguments of a second run: plain `sshd -T`
	// (no -C) refuses any configuration with a Match LocalPort block
	// ("'Match LocalPort' in configuration but 'lport' not in connection
	// test specification"), although `sshd -t` and the daemon accept it.
	// Run then asks again with "-C lport=65535"; the ports, family and
	// endpoints cannot depend on it (global-only keywords inside a Match
	// block other than "Match all" are refused in the first pass).
	Retried []string
	// Stdout is the full output of sshd -T; Stderr its full error output
	// (sshd may warn on stderr and still succeed).
	Stdout, Stderr string
}

// ListenLines returns each endpoint as the whole text sshd -T prints after
// "listenaddress ": "ADDR:PORT", followed by " rdomain NAME" when set.
func (r Result) ListenLines() []string {
	out := make([]string, len(r.Listen))
	for i, l := range r.Listen {
		out[i] = l
		if i < len(r.ListenRDomain) && r.ListenRDomain[i] != "" {
			out[i] += " rdomain " + r.ListenRDomain[i]
		}
	}
	return out
}

// Refused reports whether sshd refused the configuration.
func (r Result) Refused() bool { return r.Exit != 0 }

// Expected renders r in the corpus format: the port, addressfamily and
// listenaddress lines of sshd -T (expected.txt), or, when sshd refused,
// its stderr followed by "exit N" (expected-error.txt).
func (r Result) Expected() string {
	if r.Refused() {
		return FormatError(r.Stderr, r.Exit)
	}
	return strings.Join(KeyLines(r.Stdout), "\n") + "\n"
}

// FormatError renders an sshd refusal as expected-error.txt holds it.
func FormatError(stderr string, exit int) string {
	s := stderr
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return fmt.Sprintf("%sexit %d\n", s, exit)
}

// KeyLines returns the port, addressfamily and listenaddress lines of an
// `sshd -T` output, in order.
func KeyLines(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		l = strings.TrimRight(l, "\r")
		k, _, _ := strings.Cut(l, " ")
		switch k {
		case "port", "addressfamily", "listenaddress":
			out = append(out, l)
		}
	}
	return out
}

// ParseKeyLines fills the Ports, AddressFamily, Listen and ListenRDomain
// fields of r from `sshd -T` output (or expected.txt content).
func (r *Result) ParseKeyLines(stdout string) error {
	for _, l := range KeyLines(stdout) {
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "port":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("bad port line %q", l)
			}
			r.Ports = append(r.Ports, n)
		case "addressfamily":
			r.AddressFamily = v
		case "listenaddress":
			ep, rd, _ := strings.Cut(v, " rdomain ")
			r.Listen = append(r.Listen, ep)
			r.ListenRDomain = append(r.ListenRDomain, rd)
		}
	}
	return nil
}

// errLineRE matches sshd's two position styles: "FILE line N:" (fatal
// errors from servconf.c) and "FILE: line N:" (bad configuration option).
var errLineRE = regexp.MustCompile(`(?m)^(.+?):? line (\d+): `)

// ErrLines returns the "FILE:LINE" positions that sshd's error text names,
// in order of appearance.
func ErrLines(stderr string) []string {
	var out []string
	for _, m := range errLineRE.FindAllStringSubmatch(stderr, -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return out
}

// Unpositioned reports whether stderr holds an error line that names no
// FILE line N position (such as "Too many recursive configuration
// includes" or "bad addr or host: ..."), not counting sshd's closing
// "terminating, N bad configuration options".
func Unpositioned(stderr string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, ": terminating, ") {
			continue
		}
		if len(ErrLines(l+"\n")) == 0 {
			return true
		}
	}
	return false
}

// BadOptions returns the positions of sshd's "Bad configuration option"
// (unknown keyword) errors in stderr.
func BadOptions(stderr string) []string {
	var pos []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, ": Bad configuration option: ") {
			pos = append(pos, ErrLines(l+"\n")...)
		}
	}
	return pos
}

// BadOptionsOnly reports whether every error line in stderr is a "Bad
// configuration option" (an unknown keyword), apart from sshd's closing
// "terminating, N bad configuration options" line; it returns the
// positions of those options.
func BadOptionsOnly(stderr string) ([]string, bool) {
	var pos []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\r\n"), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.Contains(l, ": terminating, ") && strings.HasSuffix(l, " bad configuration options") {
			continue
		}
		if !strings.Contains(l, ": Bad configuration option: ") {
			return nil, false
		}
		p := ErrLines(l + "\n")
		if len(p) != 1 {
			return nil, false
		}
		pos = append(pos, p[0])
	}
	return pos, len(pos) > 0
}

// Hosts is the /etc/hosts that Run binds inside sshd's namespace when the
// tree has no etc/hosts of its own, so that ListenAddress host names
// resolve the same on every machine. Resolve answers from the same table.
const Hosts = "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n"

// Resolve resolves host names the way sshd resolves them under Run for a
// tree without etc/hosts (from Hosts).
func Resolve(host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, l := range strings.Split(Hosts, "\n") {
		f := strings.Fields(l)
		for _, n := range f[min(1, len(f)):] {
			if strings.EqualFold(n, host) {
				out = append(out, netip.MustParseAddr(f[0]))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sshdtest: unknown host %q", host)
	}
	return out, nil
}

// Names answers service and host names the way sshd finds them under Run
// for the tree at Root ("" for a tree with no etc/ of its own): the tree's
// etc/services, else the machine's /etc/services; the tree's etc/hosts,
// else Hosts; no DNS (Run points sshd's resolv.conf at 127.0.0.1, where
// no name server answers). It has the methods of sshcfg.Resolver (for a
// family other than "any" it leaves the filtering to sshcfg). It assumes
// the machine's host.conf says "multi on" and its nsswitch.conf asks
// files first, as Debian's do.
type Names struct{ Root string }

// Service looks name up as getservbyname(name, "tcp").
func (n Names) Service(name string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(n.Root, "etc", "services"))
	if n.Root == "" || err != nil {
		data, _ = os.ReadFile("/etc/services")
	}
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto != "tcp" {
			continue
		}
		for _, alias := range append(f[:1:1], f[2:]...) {
			if alias == name {
				p, err := strconv.Atoi(num)
				return p, err == nil
			}
		}
	}
	return 0, false
}

// Host looks name up in the tree's etc/hosts, else in Hosts.
func (n Names) Host(name, family string) ([]netip.Addr, error) {
	data, err := os.ReadFile(filepath.Join(n.Root, "etc", "hosts"))
	if n.Root == "" || err != nil {
		return Resolve(name)
	}
	var out []netip.Addr
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, h := range f[1:] {
			if strings.EqualFold(h, name) {
				out = append(out, a)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("Temporary failure in name resolution")
	}
	return out, nil
}

type env struct {
	key    string // host key file
	empty  string // empty directory, bound over /etc/ssh when a tree has none
	hosts  string // file with Hosts
	resolv string // resolv.conf naming 127.0.0.1 only
	err    error
}

var (
	envOnce sync.Once
	theEnv  env
)

// setup creates, once per process, a host key (with ssh-keygen), an empty
// directory and the hosts file, in a temporary directory outside /etc/ssh.
// The directory is shared by later processes of the same user (a test binary
// cannot remove it at exit without a TestMain).
func setup() env {
	envOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("sshdtest-v2-%d", os.Geteuid()))
		if _, err := os.Stat(filepath.Join(dir, "ok")); err != nil {
			tmp, err := os.MkdirTemp(os.TempDir(), "sshdtest-new-")
			if err != nil {
				theEnv.err = err
				return
			}
			if err := populate(tmp); err != nil {
				os.RemoveAll(tmp)
				theEnv.err = err
				return
			}
			if err := os.Rename(tmp, dir); err != nil {
				// Another process won the race; use its directory.
				os.RemoveAll(tmp)
				if _, err2 := os.Stat(filepath.Join(dir, "ok")); err2 != nil {
					theEnv.err = err
					return
				}
			}
		}
		theEnv = env{
			key:    filepath.Join(dir, "ssh_host_ed25519_key"),
			empty:  filepath.Join(dir, "empty"),
			hosts:  filepath.Join(dir, "hosts"),
			resolv: filepath.Join(dir, "resolv.conf"),
		}
	})
	return theEnv
}

func populate(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return fmt.Errorf("sshdtest: ssh-keygen: %w", err)
	}
	key := filepath.Join(dir, "ssh_host_ed25519_key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "sshdtest", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("sshdtest: ssh-keygen: %v: %s", err, out)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(Hosts), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ok"), nil, 0o644)
}

// Run runs `sshd -T -f CONFIG -h KEY EXTRA...` on the tree under root, where
// config names the main file as sshd sees it ("/etc/ssh/sshd_config"), and
// returns what sshd said. Extra arguments go to sshd after the others, e.g.
// "-C", "lport=2222,user=root,host=h,addr=127.0.0.1" to evaluate Match
// blocks for a connection.
//
// sshd runs in a private mount namespace where ROOT/etc/ssh is bound over
// /etc/ssh (an empty directory when the tree has none) and Hosts over
// /etc/hosts. Any other top-level directory of the tree (and anything in
// ROOT/etc besides ssh) is laid over the machine's directory of the same
// name with a read-only overlay, so e.g. /etc/crypto-policies/... resolves
// inside the tree while /etc/passwd still comes from the machine. Run calls
// t.Fatal when sshd cannot be started at all; a refusal is a Result.
func Run(t testing.TB, root, config string, extra ...string) Result {
	t.Helper()
	r, err := RunErr(root, config, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RunWith is Run with extra sshd arguments; it exists to make call sites
// that evaluate Match blocks (RunWith(t, root, cfg, "-C", "lport=2222"))
// read as such.
func RunWith(t testing.TB, root, config string, extra ...string) Result {
	t.Helper()
	return Run(t, root, config, extra...)
}

// RunErr is Run without a testing.TB.
func RunErr(root, config string, extra ...string) (Result, error) {
	r, err := runOnce(root, config, extra...)
	if err == nil && len(extra) == 0 && r.Refused() &&
		strings.Contains(r.Stderr, "'lport' not in connection test specification") {
		retry := []string{"-C", "lport=65535"}
		r, err = runOnce(root, config, retry...)
		r.Retried = retry
	}
	return r, err
}

func runOnce(root, config string, extra ...string) (Result, error) {
	sshd := Path()
	if sshd == "" {
		return Result{}, errors.New("sshdtest: sshd not found")
	}
	e := setup()
	if e.err != nil {
		return Result{}, e.err
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return Result{}, err
	}
	// sshd -T insists on its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return Result{}, fmt.Errorf("sshdtest: %w", err)
	}
	script, err := mountScript(root, e)
	if err != nil {
		return Result{}, err
	}
	args := append([]string{"-T", "-f", config, "-h", e.key}, extra...)
	script += "exec " + shQuote(sshd)
	for _, a := range args {
		script += " " + shQuote(a)
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		return Result{}, fmt.Errorf("sshdtest: running sshd: %v", err)
	}
	if strings.Contains(res.Stderr, "sshdtest-setup: ") {
		return Result{}, fmt.Errorf("sshdtest: preparing namespace for %s: %s", root, res.Stderr)
	}
	if res.Refused() {
		res.Err = res.Stderr
		res.ErrLines = ErrLines(res.Stderr)
		return res, nil
	}
	if err := res.ParseKeyLines(res.Stdout); err != nil {
		return Result{}, fmt.Errorf("sshdtest: %v in output for %s", err, root)
	}
	return res, nil
}

// mountScript returns shell commands that prepare the namespace.
func mountScript(root string, e env) (string, error) {
	var b strings.Builder
	fail := func(what string) string {
		return " || { echo " + shQuote("sshdtest-setup: "+what) + " >&2; exit 125; }\n"
	}
	var overlays []string
	tops, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("sshdtest: %w", err)
	}
	for _, d := range tops {
		name := d.Name()
		if name == "etc" {
			ents, err := os.ReadDir(filepath.Join(root, "etc"))
			if err != nil {
				return "", fmt.Errorf("sshdtest: %w", err)
			}
			if len(ents) == 0 || (len(ents) == 1 && ents[0].Name() == "ssh") {
				continue
			}
		}
		overlays = append(overlays, name)
	}
	sort.Strings(overlays)
	for _, name := range overlays {
		src := filepath.Join(root, name)
		dst := "/" + name
		if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("sshdtest: tree %s has /%s, which is not a directory on this machine", root, name)
		}
		if strings.ContainsAny(src, ":,") {
			return "", fmt.Errorf("sshdtest: cannot overlay %s (':' or ',' in path)", src)
		}
		b.WriteString("mount -t overlay overlay -o " + shQuote("lowerdir="+src+":"+dst) + " " + shQuote(dst) + fail("overlay "+dst))
	}
	ssh := filepath.Join(root, "etc", "ssh")
	if fi, err := os.Stat(ssh); err != nil || !fi.IsDir() {
		ssh = e.empty
	}
	b.WriteString("mount --bind " + shQuote(ssh) + " /etc/ssh" + fail("bind /etc/ssh"))
	if fi, err := os.Stat(filepath.Join(root, "etc", "hosts")); err != nil || !fi.Mode().IsRegular() {
		b.WriteString("mount --bind " + shQuote(e.hosts) + " /etc/hosts" + fail("bind /etc/hosts"))
	}
	// No name server: a name the files do not know fails at once, and
	// no query leaves the machine.
	b.WriteString("mount --bind " + shQuote(e.resolv) + " /etc/resolv.conf" + fail("bind /etc/resolv.conf"))
	return b.String(), nil
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
