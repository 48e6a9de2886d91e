package checker

import (
	"bytes"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// ServiceFacts is how the system starts sshd, read from its files (never by
// running systemctl): the systemd units ssh/sshd.service and
// ssh/sshd.socket with their drop-ins, masks and enablement, the sshd
// options their ExecStart passes (after EnvironmentFile expansion), or on
// the BSDs the sshd_flags of rc.conf. Every path is as the system names it
// ("/etc/systemd/system/ssh.socket.d/port.conf"), also inside an image.
//
// For a caller deciding what to do next:
//   - Manager "" means no unit and no rc.conf entry was found: sshd is
//     started some other way (by hand, a container's entrypoint) or not
//     installed; nothing below is set.
//   - SocketActive (SocketEnabled and not SocketMasked) means systemd, not
//     sshd, binds the port: SocketListen is what it listens on; a change of
//     port needs `systemctl daemon-reload` then `systemctl restart SOCKET`,
//     and, unless SocketFollowsConfig, an edit of the socket's ListenStream=
//     (in a drop-in under /etc/systemd/system/SOCKET.d/).
//   - Otherwise Service is the unit to reload (`systemctl reload SERVICE`)
//     after an edit of sshd_config.
//   - Args holds the service's -p, -o and -f options with the file and line
//     that set each (a unit line, or the EnvironmentFile line of
//     $SSHD_OPTS/$OPTIONS): a -p there overrides every Port line, so an
//     edit of the port must edit that line instead.
//   - ConfigFile is the -f file the service runs sshd with ("" for sshd's
//     default /etc/ssh/sshd_config).
type ServiceFacts struct {
	// Manager is "systemd", "rc.conf" (a BSD's /etc/rc.conf sshd_flags) or "".
	Manager string `json:"manager"`

	// Service is the unit that runs sshd: "ssh.service" (Debian, Ubuntu)
	// or "sshd.service" (Fedora, RHEL, Arch, SUSE); on a BSD, "sshd".
	Service string `json:"service,omitempty"`
	// ServiceFile is the unit file in effect (after the search path);
	// ServiceDropIns its drop-ins in the order systemd applies them.
	ServiceFile    string   `json:"service_file,omitempty"`
	ServiceDropIns []string `json:"service_dropins"`
	ServiceEnabled bool     `json:"service_enabled"`
	ServiceMasked  bool     `json:"service_masked"`
	// ExecStart is the command line systemd runs, as written (after
	// drop-ins), with the file and line it comes from.
	ExecStart *Setting `json:"exec_start,omitempty"`
	// KillMode is the service's KillMode= ("process" on Debian and
	// Fedora: stopping the service leaves the sessions running); "" when
	// unset (systemd's default, control-group).
	KillMode string `json:"kill_mode,omitempty"`
	// EnvironmentFiles are the files the service reads variables from, as
	// written ("-" prefix removed), whether they exist or not.
	EnvironmentFiles []string `json:"environment_files"`

	// Socket is the socket unit for sshd when its file exists
	// ("ssh.socket", "sshd.socket"); "" otherwise.
	Socket         string   `json:"socket,omitempty"`
	SocketFile     string   `json:"socket_file,omitempty"`
	SocketDropIns  []string `json:"socket_dropins"`
	SocketEnabled  bool     `json:"socket_enabled"`
	SocketMasked   bool     `json:"socket_masked"`
	SocketAccept   bool     `json:"socket_accept"` // Accept=yes: one sshd -i per connection
	SocketListen   []Listen `json:"socket_listen"` // ListenStream= in effect, TCP and others
	BindIPv6Only   string   `json:"bind_ipv6only,omitempty"`
	SocketActive   bool     `json:"socket_active"` // enabled and not masked: systemd binds the port
	SocketTemplate string   `json:"socket_service,omitempty"`
	// Generator: Ubuntu's sshd-socket-generator is installed (and not
	// masked): at boot and at every `systemctl daemon-reload` it rewrites
	// the socket's ListenStream= from sshd_config, in GeneratorFile.
	Generator     bool   `json:"generator"`
	GeneratorFile string `json:"generator_file,omitempty"` // its drop-in, when present
	// SocketFollowsConfig: the generator's ListenStream= is the one in
	// effect (no drop-in of the administrator's replaces it), so the
	// socket follows sshd_config after a daemon-reload.
	SocketFollowsConfig bool `json:"socket_follows_config"`

	// Args are the sshd options -p, -o and -f of the service's command
	// line (ExecStart, or rc.conf's sshd_flags), in order.
	Args []SSHDArg `json:"args"`
	// ConfigFile is the -f file, "" when the service uses sshd's default.
	ConfigFile string `json:"config_file,omitempty"`

	// Notes are things the reader could not model (an unparsable unit, an
	// unreadable EnvironmentFile).
	Notes []string `json:"notes"`
}

// Setting is a value with the file and line that set it.
type Setting struct {
	Value string `json:"value"`
	File  string `json:"file"`
	Line  int    `json:"line"`
}

// Listen is one ListenStream= of a socket unit.
type Listen struct {
	Value string `json:"value"` // as written: "22", "0.0.0.0:2222", "[::]:22", "/run/x.sock"
	// Endpoints are the TCP addresses it binds: "22" and "[::]:22" are
	// [::]:22, which also takes IPv4 (so 0.0.0.0:22 is listed) unless
	// BindIPv6Only=ipv6-only.
	// Empty for AF_UNIX, vsock and anything else not TCP.
	Endpoints []netip.AddrPort `json:"endpoints"`
	File      string           `json:"file"`
	Line      int              `json:"line"`
}

// SSHDArg is one option of sshd's command line that bears on where it
// listens or what it reads: -p PORT, -o KEYWORD=VALUE, -f FILE.
type SSHDArg struct {
	Flag  string `json:"flag"` // "p", "o" or "f"
	Value string `json:"value"`
	// File and Line are where the option is written: the unit's
	// ExecStart line, or the EnvironmentFile (or rc.conf) line that sets
	// the variable it came from (Via).
	File string `json:"file"`
	Line int    `json:"line"`
	Via  string `json:"via,omitempty"` // "$SSHD_OPTS", "sshd_flags"
}

// String gives "-p 2222".
func (a SSHDArg) String() string { return "-" + a.Flag + " " + a.Value }

// Port returns the port a -p N or -o Port=N (also "-o Port N") option
// gives sshd, and whether a is such an option.
func (a SSHDArg) Port() (int, bool) {
	v := a.Value
	switch a.Flag {
	case "p":
	case "o":
		f := strings.FieldsFunc(v, func(r rune) bool { return r == '=' || r == ' ' || r == '\t' })
		if len(f) != 2 || !strings.EqualFold(f[0], "port") {
			return 0, false
		}
		v = f[1]
	default:
		return 0, false
	}
	p, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || p < 1 || p > 65535 {
		return 0, false
	}
	return p, true
}

// Ports returns the -p ports of the service's command line.
func (s *ServiceFacts) Ports() []SSHDArg {
	var out []SSHDArg
	for _, a := range s.Args {
		if a.Flag == "p" {
			out = append(out, a)
		}
	}
	return out
}

// unitDirs is systemd's search path for system units, highest priority
// first (systemd.unit(5), path-lookup.c), /lib kept for systems without
// merged /usr.
var unitDirs = []string{
	"etc/systemd/system.control",
	"run/systemd/system.control",
	"run/systemd/transient",
	"run/systemd/generator.early",
	"etc/systemd/system",
	"etc/systemd/system.attached",
	"run/systemd/system",
	"run/systemd/system.attached",
	"run/systemd/generator",
	"usr/local/lib/systemd/system",
	"usr/lib/systemd/system",
	"lib/systemd/system",
	"run/systemd/generator.late",
}

const generatorName = "sshd-socket-generator"

var generatorDirs = []string{"etc/systemd/system-generators", "run/systemd/system-generators", "usr/local/lib/systemd/system-generators", "usr/lib/systemd/system-generators", "lib/systemd/system-generators"}

// option is one unit setting with where it is written.
type option struct {
	section, name, value string
	file                 string
	line                 int
}

type unitInfo struct {
	name     string // real name (an alias symlink resolved)
	fragment string // "/usr/lib/systemd/system/ssh.service"
	masked   bool
	dropIns  []string
	opts     []option
	notes    []string
}

// values returns the effective list of a list-valued setting: an empty
// assignment resets the list, as systemd does for ExecStart= and ListenStream=.
func (u *unitInfo) values(section, name string) []option {
	var out []option
	for _, o := range u.opts {
		if o.section != section || o.name != name {
			continue
		}
		if strings.TrimSpace(o.value) == "" {
			out = out[:0]
			continue
		}
		out = append(out, o)
	}
	return out
}

// last returns the last assignment of a single-valued setting.
func (u *unitInfo) last(section, name string) (option, bool) {
	for i := len(u.opts) - 1; i >= 0; i-- {
		if o := u.opts[i]; o.section == section && o.name == name {
			return o, true
		}
	}
	return option{}, false
}

// unitIndex lists each directory it is asked about once, so that a name
// is looked up (lstat, readlink, read) only where the listing has it: a
// dozen directories on the search path, most missing, cost one listing each
// instead of a failed lookup per name.
type unitIndex struct {
	fsys fs.FS
	dirs map[string]map[string]bool
	info map[string]fs.FileInfo // lstat results already had
}

func newUnitIndex(fsys fs.FS) *unitIndex {
	ix := &unitIndex{fsys: fsys, dirs: map[string]map[string]bool{}, info: map[string]fs.FileInfo{}}
	// Merged /usr: /lib is a link to usr/lib, whose directories come
	// earlier on the search path; do not list them twice.
	if fi, err := fs.Lstat(fsys, "lib"); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, err := fs.ReadLink(fsys, "lib"); err == nil && strings.Trim(path.Clean(t), "/") == "usr/lib" {
			ix.dirs["lib/systemd"] = nil
		}
	}
	return ix
}

// systemdDirs are the parents of the search path's directories: each is
// listed first, so that a missing directory below costs nothing more.
var systemdDirs = map[string]bool{"etc/systemd/": true, "run/systemd/": true, "usr/lib/systemd/": true, "lib/systemd/": true, "usr/local/lib/systemd/": true}

// vendorDirs hold hundreds of units: a name is looked up there directly
// rather than by listing the directory.
var vendorDirs = map[string]bool{
	"usr/lib/systemd/system": true, "lib/systemd/system": true, "usr/local/lib/systemd/system": true,
	"usr/lib/systemd/system-generators": true, "lib/systemd/system-generators": true, "usr/local/lib/systemd/system-generators": true,
}

// has reports whether dir (a slash path without leading slash) lists name.
func (ix *unitIndex) has(dir, name string) bool {
	if vendorDirs[dir] {
		if ix.dirs["lib/systemd"] == nil && strings.HasPrefix(dir, "lib/") {
			if _, listed := ix.dirs["lib/systemd"]; listed {
				return false // merged /usr: seen through usr/lib
			}
		}
		m, seen := ix.dirs[dir]
		if !seen {
			// One lookup of the directory itself spares a failed lookup
			// per name where it is missing (/usr/local/lib/systemd/...).
			if fi, err := fs.Stat(ix.fsys, dir); err == nil && fi.IsDir() {
				m = map[string]bool{}
			}
			ix.dirs[dir] = m
		}
		if m == nil {
			return false
		}
		found, ok := m[name]
		if !ok {
			fi, err := fs.Lstat(ix.fsys, dir+"/"+name)
			found = err == nil
			m[name] = found
			if found {
				ix.info[dir+"/"+name] = fi
			}
		}
		return found
	}
	if parent, base := path.Split(dir); systemdDirs[parent] && !ix.has(strings.TrimSuffix(parent, "/"), base) {
		return false
	}
	m, ok := ix.dirs[dir]
	if !ok {
		names := listNames(ix.fsys, dir)
		if names != nil {
			m = make(map[string]bool, len(names))
			for _, n := range names {
				m[n] = true
			}
		}
		ix.dirs[dir] = m
	}
	return m[name]
}

// listNames returns the names in dir, nil when it cannot be read. It asks
// an *os.File (what a directory tree's Open returns) for the bare names,
// unsorted: a vendor unit directory holds hundreds of entries, and their
// file info is not needed.
func listNames(fsys fs.FS, dir string) []string {
	f, err := fsys.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	if d, ok := f.(interface {
		Readdirnames(n int) ([]string, error)
	}); ok {
		names, err := d.Readdirnames(-1)
		if err != nil {
			return nil
		}
		return names
	}
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil
	}
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names
}

// lstat returns dir/name's info when the listing of dir has it.
func (ix *unitIndex) lstat(dir, name string) (fs.FileInfo, bool) {
	if !ix.has(dir, name) {
		return nil, false
	}
	if fi, ok := ix.info[dir+"/"+name]; ok {
		return fi, true
	}
	return exists(ix.fsys, dir+"/"+name)
}

func exists(fsys fs.FS, name string) (fs.FileInfo, bool) {
	fi, err := fs.Lstat(fsys, name)
	return fi, err == nil
}

// maskedLink reports whether name is a symlink to /dev/null.
func maskedLink(fsys fs.FS, name string, fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeSymlink == 0 {
		return false
	}
	t, err := fs.ReadLink(fsys, name)
	return err == nil && path.Clean(t) == "/dev/null"
}

// loadUnit finds name on the search path and applies its drop-ins. It
// returns nil when no unit file exists.
func loadUnit(ix *unitIndex, name string) *unitInfo {
	fsys := ix.fsys
	u := &unitInfo{name: name}
	for _, d := range unitDirs {
		p := d + "/" + name
		fi, ok := ix.lstat(d, name)
		if !ok {
			continue
		}
		u.fragment = "/" + p
		if maskedLink(fsys, p, fi) {
			u.masked = true
			return u
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			// An alias (sshd.service -> ssh.service) or a linked unit file.
			if t, err := fs.ReadLink(fsys, p); err == nil {
				if !strings.HasPrefix(t, "/") {
					t = "/" + path.Join(d, t)
				}
				u.fragment = path.Clean(t)
				if b := path.Base(t); path.Ext(b) == path.Ext(name) {
					u.name = b
				}
			}
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			u.notes = append(u.notes, "/"+p+": "+errText(err))
			return u
		}
		if len(bytes.TrimSpace(data)) == 0 {
			u.masked = true // systemd treats an empty unit file as masked
			return u
		}
		u.parse(data, u.fragment)
		break
	}
	if u.fragment == "" {
		return nil
	}
	// Drop-ins: NAME.d/*.conf in every directory of the search path (and
	// the type-wide service.d/, socket.d/); for one file name the directory
	// first on the path wins; they apply sorted by file name.
	names := []string{u.name}
	if u.name != name {
		names = append(names, name)
	}
	typ := strings.TrimPrefix(path.Ext(name), ".")
	chosen := map[string]string{}
	for _, d := range unitDirs {
		for _, dir := range append([]string{typ}, names...) {
			if !ix.has(d, dir+".d") {
				continue
			}
			dd := d + "/" + dir + ".d"
			ents, err := fs.ReadDir(fsys, dd)
			if err != nil {
				continue
			}
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".conf") {
					continue
				}
				if _, seen := chosen[e.Name()]; !seen {
					chosen[e.Name()] = dd + "/" + e.Name()
				}
			}
		}
	}
	files := make([]string, 0, len(chosen))
	for n := range chosen {
		files = append(files, n)
	}
	slices.Sort(files)
	for _, n := range files {
		p := chosen[n]
		fi, ok := exists(fsys, p)
		if !ok || maskedLink(fsys, p, fi) {
			continue
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			u.notes = append(u.notes, "/"+p+": "+errText(err))
			continue
		}
		u.dropIns = append(u.dropIns, "/"+p)
		u.parse(data, "/"+p)
	}
	return u
}

func errText(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// parse adds the settings of one unit file. go-systemd's parser gives the
// values; their line numbers are found by matching each setting, in order,
// with the lines that assign that name in that section.
func (u *unitInfo) parse(data []byte, file string) {
	opts, err := unit.DeserializeOptions(bytes.NewReader(data))
	if err != nil {
		u.notes = append(u.notes, file+": "+err.Error())
		return
	}
	lines := settingLines(data)
	next := map[string]int{}
	for _, o := range opts {
		k := o.Section + "\x00" + o.Name
		ln := 0
		if l := lines[k]; next[k] < len(l) {
			ln = l[next[k]]
		}
		next[k]++
		u.opts = append(u.opts, option{section: o.Section, name: o.Name,
			value: strings.ReplaceAll(o.Value, "\\\n", " "), file: file, line: ln})
	}
}

// settingLines maps "Section\x00Name" to the numbers of the lines that
// start such an assignment, skipping comments and continuation lines.
func settingLines(data []byte) map[string][]int {
	out := map[string][]int{}
	section := ""
	cont := false
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		wasCont := cont
		cont = strings.HasSuffix(line, "\\")
		if wasCont {
			continue
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			cont = false
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k := section + "\x00" + strings.TrimSpace(name)
		out[k] = append(out[k], n+1)
	}
	return out
}

// enabled reports whether a wants/ or requires/ link of the unit exists for
// one of the targets its [Install] section names (or the usual targets).
func enabled(ix *unitIndex, u *unitInfo, defaults ...string) bool {
	targets := slices.Clone(defaults)
	for _, k := range []string{"WantedBy", "RequiredBy", "UpheldBy"} {
		for _, o := range u.opts {
			if o.section == "Install" && o.name == k {
				targets = append(targets, strings.Fields(o.value)...)
			}
		}
	}
	for _, d := range []string{"etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"} {
		for _, t := range targets {
			for _, kind := range []string{".wants", ".requires", ".upholds"} {
				if vendorDirs[d] && kind != ".wants" {
					continue // vendors enable statically with .wants only
				}
				if !ix.has(d, t+kind) {
					continue
				}
				wd := d + "/" + t + kind
				if fi, ok := ix.lstat(wd, u.name); ok && !maskedLink(ix.fsys, wd+"/"+u.name, fi) {
					return true
				}
			}
		}
	}
	return false
}

// ReadService reads how the system under fsys (rooted at its "/") starts
// sshd. It never fails: what it cannot read is said in Notes.
func ReadService(fsys fs.FS) *ServiceFacts {
	s := &ServiceFacts{ServiceDropIns: []string{}, SocketDropIns: []string{}, SocketListen: []Listen{},
		EnvironmentFiles: []string{}, Args: []SSHDArg{}, Notes: []string{}}
	ix := newUnitIndex(fsys)
	var svc, sock *unitInfo
	for _, pair := range [][2]string{{"ssh.service", "ssh.socket"}, {"sshd.service", "sshd.socket"}} {
		if svc == nil {
			svc = loadUnit(ix, pair[0])
		}
		if sock == nil && (svc == nil || svc.name == pair[0] || svc.name == strings.TrimSuffix(pair[1], ".socket")+".service") {
			sock = loadUnit(ix, pair[1])
		}
	}
	if svc == nil && sock == nil {
		readRCConf(fsys, s)
		return s
	}
	s.Manager = "systemd"
	if svc != nil {
		s.Service, s.ServiceFile, s.ServiceMasked = svc.name, svc.fragment, svc.masked
		s.ServiceDropIns = append(s.ServiceDropIns, svc.dropIns...)
		s.Notes = append(s.Notes, svc.notes...)
		if !svc.masked {
			s.ServiceEnabled = enabled(ix, svc, "multi-user.target")
			if o, ok := svc.last("Service", "KillMode"); ok {
				s.KillMode = strings.TrimSpace(o.value)
			}
			if es := svc.values("Service", "ExecStart"); len(es) > 0 {
				e := es[len(es)-1]
				s.ExecStart = &Setting{Value: e.value, File: e.file, Line: e.line}
				env := unitEnv(fsys, svc, s)
				s.Args = sshdArgs(execWords(e, env))
			}
		}
	}
	if sock != nil {
		s.Socket, s.SocketFile, s.SocketMasked = sock.name, sock.fragment, sock.masked
		s.SocketDropIns = append(s.SocketDropIns, sock.dropIns...)
		s.Notes = append(s.Notes, sock.notes...)
		if !sock.masked {
			s.SocketEnabled = enabled(ix, sock, "sockets.target")
			if o, ok := sock.last("Socket", "BindIPv6Only"); ok {
				s.BindIPv6Only = strings.TrimSpace(o.value)
			}
			if o, ok := sock.last("Socket", "Accept"); ok {
				s.SocketAccept = parseBool(o.value)
			}
			for _, o := range sock.values("Socket", "ListenStream") {
				v := strings.TrimSpace(o.value)
				s.SocketListen = append(s.SocketListen, Listen{Value: v, Endpoints: listenEndpoints(v, s.BindIPv6Only), File: o.file, Line: o.line})
			}
			s.Generator = generatorInstalled(ix)
			for _, d := range sock.dropIns {
				if strings.HasPrefix(d, "/run/systemd/generator/") {
					s.GeneratorFile = d
				}
			}
			s.SocketFollowsConfig = s.Generator && followsGenerator(sock)
		}
		s.SocketActive = s.SocketEnabled && !s.SocketMasked
		if s.SocketAccept {
			s.SocketTemplate = strings.TrimSuffix(sock.name, ".socket") + "@.service"
		}
	}
	for _, a := range s.Args {
		if a.Flag == "f" {
			s.ConfigFile = a.Value
		}
	}
	return s
}

// followsGenerator reports whether the last ListenStream= reset of the
// socket is the generator's (or, when the generator has not run yet, that
// no drop-in of the administrator's sets ListenStream= at all).
func followsGenerator(u *unitInfo) bool {
	last := ""
	for _, o := range u.opts {
		if o.section == "Socket" && o.name == "ListenStream" && o.file != u.fragment {
			last = o.file
		}
	}
	return last == "" || strings.HasPrefix(last, "/run/systemd/generator/")
}

func generatorInstalled(ix *unitIndex) bool {
	for _, d := range generatorDirs {
		p := d + "/" + generatorName
		if fi, ok := ix.lstat(d, generatorName); ok {
			return !maskedLink(ix.fsys, p, fi)
		}
	}
	return false
}

func parseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "y", "true", "t", "on":
		return true
	}
	return false
}

// listenEndpoints gives the TCP endpoints of a ListenStream= value.
func listenEndpoints(v, bindIPv6Only string) []netip.AddrPort {
	eps := []netip.AddrPort{}
	if p, err := strconv.ParseUint(v, 10, 16); err == nil && p > 0 {
		eps = append(eps, netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(p)))
		if bindIPv6Only != "ipv6-only" {
			eps = append(eps, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p)))
		}
		return eps
	}
	if strings.HasPrefix(v, "[") {
		// "[addr]:port" or "[addr]:port%dev"
		if i := strings.LastIndexByte(v, '%'); i > strings.IndexByte(v, ']') {
			v = v[:i]
		}
	}
	ap, err := netip.ParseAddrPort(v)
	if err != nil || ap.Port() == 0 {
		return eps
	}
	eps = append(eps, netip.AddrPortFrom(ap.Addr().WithZone("").Unmap(), ap.Port()))
	if ap.Addr() == netip.IPv6Unspecified() && bindIPv6Only != "ipv6-only" {
		// A dual-stack [::] takes IPv4 too (BindIPv6Only=both, or default
		// with net.ipv6.bindv6only=0).
		eps = append(eps, netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port()))
	}
	return eps
}

// envVar is a variable with where it is set.
type envVar struct {
	value string
	file  string
	line  int
}

// unitEnv collects Environment= and EnvironmentFile= variables, in the
// order systemd applies them (files override Environment=).
func unitEnv(fsys fs.FS, u *unitInfo, s *ServiceFacts) map[string]envVar {
	env := map[string]envVar{}
	for _, o := range u.values("Service", "Environment") {
		for _, w := range splitWords(o.value) {
			if k, v, ok := strings.Cut(w.text, "="); ok {
				env[k] = envVar{v, o.file, o.line}
			}
		}
	}
	for _, o := range u.values("Service", "EnvironmentFile") {
		name := strings.TrimSpace(o.value)
		optional := strings.HasPrefix(name, "-")
		name = strings.TrimPrefix(name, "-")
		s.EnvironmentFiles = append(s.EnvironmentFiles, name)
		data, err := fs.ReadFile(fsys, strings.TrimPrefix(path.Clean(name), "/"))
		if err != nil {
			if !optional {
				s.Notes = append(s.Notes, name+" (EnvironmentFile= of "+u.name+"): "+errText(err)+": systemd does not start the service")
			}
			continue
		}
		for k, v := range parseEnvFile(data, name) {
			env[k] = v
		}
	}
	return env
}

// parseEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile= does:
// # and ; start comments, values may be quoted, a trailing backslash
// continues the line.
func parseEnvFile(data []byte, file string) map[string]envVar {
	out := map[string]envVar{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + strings.TrimSpace(lines[i])
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = envVar{envValue(strings.TrimSpace(v)), file, n}
	}
	return out
}

// envValue reads a variable's value as sh does for the simple forms these
// files use: "quoted" or 'quoted' (the quotes removed), or bare up to a
// comment.
func envValue(v string) string {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		q := v[0]
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			switch {
			case v[i] == q:
				return b.String()
			case q == '"' && v[i] == '\\' && i+1 < len(v):
				i++
				b.WriteByte(v[i])
			default:
				b.WriteByte(v[i])
			}
		}
		return b.String()
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '#' && (i == 0 || v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// word is one word of a command line; raw keeps its quotes.
type word struct {
	text, raw string
	quoted    bool
}

// splitWords splits a command line as systemd does: white space separates
// words, "..." and '...' quote, backslash escapes.
func splitWords(s string) []word {
	var out []word
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			return out
		}
		var b strings.Builder
		start := i
		quoted := false
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' {
			switch c := s[i]; c {
			case '"', '\'':
				quoted = true
				j := i + 1
				for j < len(s) && s[j] != c {
					if c == '"' && s[j] == '\\' && j+1 < len(s) {
						j++
					}
					b.WriteByte(s[j])
					j++
				}
				i = j + 1
			case '\\':
				if i+1 < len(s) {
					b.WriteByte(s[i+1])
				}
				i += 2
			default:
				b.WriteByte(c)
				i++
			}
		}
		out = append(out, word{text: b.String(), raw: s[start:min(i, len(s))], quoted: quoted})
	}
}

// arg is a command-line word with where it is written.
type arg struct {
	text string
	file string
	line int
	via  string
}

// execWords expands ExecStart's variables as systemd does: a word that is
// exactly $NAME becomes the variable's words, ${NAME} is replaced in place.
// The leading prefixes (-, @, +, !, :) of the command are dropped.
func execWords(o option, env map[string]envVar) []arg {
	var out []arg
	for i, w := range splitWords(o.value) {
		t := w.text
		if i == 0 {
			t = strings.TrimLeft(t, "-@+!:|")
		}
		if !w.quoted && strings.HasPrefix(w.raw, "$") && !strings.HasPrefix(w.raw, "${") && isName(w.raw[1:]) {
			v, ok := env[w.raw[1:]]
			if !ok {
				continue
			}
			for _, x := range splitWords(v.value) {
				out = append(out, arg{x.text, v.file, v.line, w.raw})
			}
			continue
		}
		a := arg{"", o.file, o.line, ""}
		// ${NAME} is replaced once, left to right: a value is not expanded again.
		rest := t
		for {
			j := strings.Index(rest, "${")
			k := -1
			if j >= 0 {
				k = strings.IndexByte(rest[j:], '}')
			}
			if k < 0 {
				a.text += rest
				break
			}
			name := rest[j+2 : j+k]
			v := env[name]
			if v.file != "" {
				a.file, a.line, a.via = v.file, v.line, "${"+name+"}"
			}
			a.text += rest[:j] + v.value
			rest = rest[j+k+1:]
		}
		out = append(out, a)
	}
	return out
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// sshdOptArg lists the sshd options that take an argument (sshd.c's getopt
// string "C:E:b:c:f:g:h:k:o:p:u:46DGQRTdeiqrtV").
const sshdOptArg = "CEbcfghkopu"

// sshdArgs picks -p, -o and -f out of an sshd command line (words[0] is the
// program), with getopt's rules: options may be grouped (-Dp2222) and the
// argument may be attached or the next word; "--" ends the options.
func sshdArgs(words []arg) []SSHDArg {
	out := []SSHDArg{}
	for i := 1; i < len(words); i++ {
		w := words[i].text
		if w == "--" || len(w) < 2 || w[0] != '-' {
			break
		}
		for j := 1; j < len(w); j++ {
			c := w[j]
			if !strings.ContainsRune(sshdOptArg, rune(c)) {
				continue
			}
			val, src := w[j+1:], words[i]
			if val == "" {
				if i+1 >= len(words) {
					break
				}
				i++
				val, src = words[i].text, words[i]
			}
			if c == 'p' || c == 'o' || c == 'f' {
				out = append(out, SSHDArg{Flag: string(c), Value: val, File: src.file, Line: src.line, Via: src.via})
			}
			break
		}
	}
	return out
}

// ParseSSHDArgs picks -p, -o and -f out of an sshd command line (argv[0]
// first), such as /proc/PID/cmdline.
func ParseSSHDArgs(argv []string) []SSHDArg {
	words := make([]arg, len(argv))
	for i, a := range argv {
		words[i] = arg{text: a}
	}
	return sshdArgs(words)
}

// readRCConf reads a BSD's sshd_enable and sshd_flags from /etc/rc.conf,
// then /etc/rc.conf.local and /etc/rc.conf.d/sshd (later files override).
func readRCConf(fsys fs.FS, s *ServiceFacts) {
	vars := map[string]envVar{}
	for _, f := range []string{"/etc/rc.conf", "/etc/rc.conf.local", "/etc/rc.conf.d/sshd"} {
		data, err := fs.ReadFile(fsys, f[1:])
		if err != nil {
			continue
		}
		for k, v := range parseEnvFile(data, f) {
			if k == "sshd_enable" || k == "sshd_flags" {
				vars[k] = v
			}
		}
	}
	enable, hasEnable := vars["sshd_enable"]
	flags, hasFlags := vars["sshd_flags"]
	if !hasEnable && !hasFlags {
		return
	}
	s.Manager, s.Service = "rc.conf", "sshd"
	if hasEnable {
		s.ServiceEnabled = strings.EqualFold(enable.value, "YES")
		s.ServiceFile = enable.file
	}
	if hasFlags {
		if strings.EqualFold(flags.value, "NO") {
			s.ServiceEnabled = false
		} else if !hasEnable {
			s.ServiceEnabled = true // OpenBSD: sshd_flags other than NO starts it
		}
		s.ExecStart = &Setting{Value: "sshd " + flags.value, File: flags.file, Line: flags.line}
		words := []arg{{text: "sshd"}}
		for _, w := range splitWords(flags.value) {
			words = append(words, arg{w.text, flags.file, flags.line, "sshd_flags"})
		}
		s.Args = sshdArgs(words)
		for _, a := range s.Args {
			if a.Flag == "f" {
				s.ConfigFile = a.Value
			}
		}
	}
}
