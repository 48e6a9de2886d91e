package sshcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
)

// countingNames is a Resolver that records the host lookups it is asked.
type countingNames struct {
	fakeNames
	asked *[]string
}

func (c countingNames) Host(name, family string) ([]netip.Addr, error) {
	*c.asked = append(*c.asked, name)
	return c.fakeNames.Host(name, family)
}

func TestFilesResolverHosts(t *testing.T) {
	const hosts = "127.0.0.1 localhost\n192.0.2.1 web web.example # comment\n2001:db8::1 web\n::1 ip6-localhost\n192.0.2.2 web\n"
	dnsHas := fakeNames{hosts: map[string][]netip.Addr{
		"dnsonly": {netip.MustParseAddr("198.51.100.9")},
		"web":     {netip.MustParseAddr("198.51.100.80")},
	}}
	tests := []struct {
		name     string
		files    map[string]string // etc/hosts, etc/nsswitch.conf, etc/host.conf
		host     string
		family   string
		other    bool // --resolve: the machine's resolver (a fake) stands for the other sources
		want     string
		err      string
		askOther bool
	}{
		{name: "first line only without host.conf", files: map[string]string{"etc/hosts": hosts}, host: "web", want: "[192.0.2.1]"},
		{name: "multi on", files: map[string]string{"etc/hosts": hosts, "etc/host.conf": "multi on\n"}, host: "web", want: "[192.0.2.1 2001:db8::1 192.0.2.2]"},
		{name: "case-insensitive alias", files: map[string]string{"etc/hosts": hosts}, host: "WEB.example", want: "[192.0.2.1]"},
		{name: "inet skips v6 lines", files: map[string]string{"etc/hosts": "2001:db8::1 web\n192.0.2.1 web\n"}, host: "web", family: "inet", want: "[192.0.2.1]"},
		{name: "inet maps ::1", files: map[string]string{"etc/hosts": "::1 lo6\n"}, host: "lo6", family: "inet", want: "[127.0.0.1]"},
		{name: "inet6 skips v4 lines", files: map[string]string{"etc/hosts": hosts}, host: "web", family: "inet6", want: "[2001:db8::1]"},
		{name: "unknown, dns not asked", files: map[string]string{"etc/hosts": hosts}, host: "dnsonly",
			err: "Temporary failure in name resolution: not in /etc/hosts, and sshport asks no dns source unless --resolve is given"},
		{name: "unknown with files only", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: files\n"}, host: "dnsonly",
			err: "Name or service not known: not in /etc/hosts"},
		{name: "no hosts file", files: map[string]string{"etc/nsswitch.conf": "hosts: files\n"}, host: "web",
			err: "Temporary failure in name resolution: no readable /etc/hosts"},
		{name: "resolve asks the machine after files", files: map[string]string{"etc/hosts": hosts}, host: "dnsonly", other: true,
			want: "[198.51.100.9]", askOther: true},
		{name: "resolve: files answer first", files: map[string]string{"etc/hosts": hosts}, host: "web", other: true, want: "[192.0.2.1]"},
		{name: "resolve: dns before files", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: dns files\n"}, host: "web", other: true,
			want: "[198.51.100.80]", askOther: true},
		{name: "dns before files without resolve: files still answer", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: dns files\n"}, host: "web", want: "[192.0.2.1]"},
		{name: "notfound=return after files stops", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: files [NOTFOUND=return] dns\n"}, host: "dnsonly", other: true,
			err: "Name or service not known: not in /etc/hosts"},
		{name: "!UNAVAIL=return stops on notfound", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: resolve [!UNAVAIL=return] files\n"}, host: "web", other: true,
			want: "[198.51.100.80]", askOther: true},
		{name: "!UNAVAIL=return goes on when unavailable", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: resolve [!UNAVAIL=return] files\n"}, host: "web", want: "[192.0.2.1]"},
		{name: "files not asked", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: dns\n"}, host: "web",
			err: "Temporary failure in name resolution: the hosts line of /etc/nsswitch.conf does not ask files, and sshport asks no dns source unless --resolve is given"},
		{name: "last hosts line wins, comments ignored", files: map[string]string{"etc/hosts": hosts, "etc/nsswitch.conf": "hosts: dns\n# hosts: dns\nhosts: files\n"}, host: "dnsonly", other: true,
			err: "Name or service not known: not in /etc/hosts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for p, c := range tc.files {
				m[p] = &fstest.MapFile{Data: []byte(c)}
			}
			var asked []string
			var other Resolver
			if tc.other {
				other = countingNames{dnsHas, &asked}
			}
			family := tc.family
			if family == "" {
				family = "any"
			}
			addrs, err := FilesResolver(m, other).Host(tc.host, family)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Host = %v, %v; want error %q", addrs, err, tc.err)
				}
			} else if err != nil || fmt.Sprint(addrs) != tc.want {
				t.Fatalf("Host = %v, %v; want %s", addrs, err, tc.want)
			}
			if (len(asked) > 0) != tc.askOther {
				t.Errorf("the machine's resolver was asked %q; want asked: %v", asked, tc.askOther)
			}
		})
	}
}

func TestFilesResolverServices(t *testing.T) {
	m := fstest.MapFS{"etc/services": {Data: []byte("ssh 22/tcp\nimg 2345/udp\nimg 2346/tcp alias-img # c\n")}}
	r := FilesResolver(m, SystemResolver())
	for name, want := range map[string]int{"ssh": 22, "img": 2346, "alias-img": 2346, "SSH": -1, "domain": -1} {
		p, ok := r.Service(name)
		if (want < 0 && ok) || (want >= 0 && (!ok || p != want)) {
			t.Errorf("Service(%q) = %d, %v; want %d", name, p, ok, want)
		}
	}
	// No etc/services: no service name is known, whatever this machine has.
	if p, ok := FilesResolver(fstest.MapFS{}, nil).Service("ssh"); ok {
		t.Errorf("Service(ssh) without etc/services = %d", p)
	}
}

// TestLoadNoDNSByDefault: a nil Resolver reads the tree's own tables and
// never asks anything else.
func TestLoadNoDNSByDefault(t *testing.T) {
	m := mapFS(map[string]string{mainCfg: "Port imgssh\nListenAddress front\n", "/etc/services": "imgssh 2200/tcp\n", "/etc/hosts": "192.0.2.5 front\n"})
	cfg, err := Load(m, mainCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := endpointStrings(cfg.Listen); !slices.Equal(got, []string{"192.0.2.5:2200"}) {
		t.Errorf("listen %q", got)
	}
	m = mapFS(map[string]string{mainCfg: "ListenAddress localhost\n"})
	if _, err := Load(m, mainCfg, nil); err == nil || !strings.Contains(err.Error(), "bad addr or host: localhost (") {
		t.Errorf("a tree without etc/hosts resolved localhost: %v", err)
	}
}

// TestFilesResolverAgainstSSHD gives an image its own etc/hosts, host.conf
// and nsswitch.conf and requires the endpoints sshcfg computes with
// FilesResolver to be those of the real `sshd -T` in that image (no name
// server reachable: sshdtest.Run points resolv.conf at 127.0.0.1).
func TestFilesResolverAgainstSSHD(t *testing.T) {
	sshdtest.Require(t)
	hosts := "127.0.0.1 localhost\n192.0.2.41 front front.internal\n2001:db8::41 front\n192.0.2.42 front\n"
	tests := []struct {
		name, config, hostConf, nss string
		refused                     bool
	}{
		{name: "multi on", config: "Port 2200\nListenAddress front\n", hostConf: "multi on\n", nss: "hosts: files dns\n"},
		{name: "multi off", config: "Port 2200\nListenAddress front\n", hostConf: "multi off\n", nss: "hosts: files dns\n"},
		{name: "inet", config: "AddressFamily inet\nListenAddress front:2201\n", hostConf: "multi on\n", nss: "hosts: files\n"},
		{name: "inet6", config: "AddressFamily inet6\nListenAddress front\n", hostConf: "multi on\n", nss: "hosts: files\n"},
		{name: "inet6 name of a v4 line only", config: "AddressFamily inet6\nListenAddress front.internal\n", hostConf: "multi on\n", nss: "hosts: files\n", refused: true},
		{name: "unknown", config: "ListenAddress nosuch\n", hostConf: "multi on\n", nss: "hosts: files dns\n", refused: true},
		{name: "unknown with files only", config: "ListenAddress nosuch\n", hostConf: "multi on\n", nss: "hosts: files\n", refused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{mainCfg: tc.config, "/etc/hosts": hosts, "/etc/host.conf": tc.hostConf, "/etc/nsswitch.conf": tc.nss})
			fsys := rootfstest.Open(t, dir)
			cfg, err := Load(fsys, mainCfg, &Options{Resolver: FilesResolver(fsys, nil)})
			want := sshdtest.Run(t, dir, mainCfg)
			if tc.refused {
				if !want.Refused() || err == nil {
					t.Fatalf("want both to refuse: sshd exit %d, sshcfg %v", want.Exit, err)
				}
				// sshd names no line; its reason is the same words.
				reason := strings.TrimSpace(want.Err)
				if i := strings.Index(reason, "bad addr or host"); i >= 0 {
					reason = reason[i:]
				}
				reason, _, _ = strings.Cut(reason, ")")
				if !strings.Contains(err.Error(), reason) {
					t.Errorf("sshd says %q, sshcfg %q", want.Err, err)
				}
				return
			}
			if err != nil || want.Refused() {
				t.Fatalf("sshcfg %v; sshd exit %d %s", err, want.Exit, want.Err)
			}
			got := endpointStrings(cfg.Listen)
			slices.Sort(got)
			w := slices.Clone(want.ListenLines())
			slices.Sort(w)
			// sshd orders the addresses of one name by RFC 3484 on the
			// running machine; sshcfg keeps file order. Compare sets.
			if !slices.Equal(got, w) {
				t.Errorf("listen: sshcfg %q, sshd %q", got, w)
			}
		})
	}
}

// noAccessFS is a MapFS where some directories cannot be listed or looked into
// (EACCES), as for a user who is not root.
type noAccessFS struct {
	fstest.MapFS
	deny map[string]bool // directories; a file's own name denies opening it
}

func (d noAccessFS) check(op, name string) error {
	if d.deny[name] && op == "open" {
		if fi, err := d.MapFS.Stat(name); err == nil && !fi.IsDir() {
			return &fs.PathError{Op: op, Path: name, Err: syscall.EACCES}
		}
	}
	for p := name; ; p = filepath.Dir(p) {
		if d.deny[p] && (p != name || op == "readdir") {
			return &fs.PathError{Op: op, Path: name, Err: syscall.EACCES}
		}
		if p == "." || p == "/" || !strings.Contains(p, "/") {
			if d.deny[p] && p != name {
				return &fs.PathError{Op: op, Path: name, Err: syscall.EACCES}
			}
			return nil
		}
	}
}

func (d noAccessFS) Open(name string) (fs.File, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	return d.MapFS.Open(name)
}

func (d noAccessFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := d.check("readdir", name); err != nil {
		return nil, err
	}
	return d.MapFS.ReadDir(name)
}

func (d noAccessFS) Stat(name string) (fs.FileInfo, error) {
	if err := d.check("stat", name); err != nil {
		return nil, err
	}
	return d.MapFS.Stat(name)
}

func (d noAccessFS) Lstat(name string) (fs.FileInfo, error) {
	if err := d.check("lstat", name); err != nil {
		return nil, err
	}
	return d.MapFS.Lstat(name)
}

func TestIncludeUnreadable(t *testing.T) {
	base := mapFS(map[string]string{
		mainCfg:                           "Include /etc/ssh/sshd_config.d/*.conf\nInclude /etc/ssh/private/extra.conf\nPort 2222\n",
		"/etc/ssh/sshd_config.d/10.conf":  "Port 2200\n",
		"/etc/ssh/private/extra.conf":     "Port 2300\n",
		"/etc/ssh/sshd_config.d/.ignored": "",
	})
	cfg, err := Load(noAccessFS{base, map[string]bool{"etc/ssh/sshd_config.d": true, "etc/ssh/private": true}}, mainCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := portStrings(cfg.Ports); !slices.Equal(got, []string{"2222 " + mainCfg + ":3"}) {
		t.Errorf("ports %q", got)
	}
	want := []string{
		l1 + "Include /etc/ssh/sshd_config.d/*.conf: cannot list the directory /etc/ssh/sshd_config.d/ (permission denied): sshd, running as root, may read configuration there that sshport cannot, so the ports shown may be incomplete (run sshport as root)",
		l2 + "Include /etc/ssh/private/extra.conf: cannot look up /etc/ssh/private/extra.conf (permission denied): sshd, running as root, may read configuration there that sshport cannot, so the ports shown may be incomplete (run sshport as root)",
	}
	var got []string
	for _, e := range cfg.Incomplete {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("Incomplete:\n got %q\nwant %q", got, want)
	}
	var warned []string
	for _, e := range cfg.Warnings {
		warned = append(warned, e.Error())
	}
	if !slices.Equal(warned, want) {
		t.Errorf("Warnings %q", warned)
	}
	// A drop-in only root may read (mode 0600) is the same: a warning,
	// not sshd's fatal error.
	cfg, err = Load(noAccessFS{base, map[string]bool{"etc/ssh/sshd_config.d/10.conf": true}}, mainCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := portStrings(cfg.Ports); !slices.Equal(got, []string{"2300 /etc/ssh/private/extra.conf:1", "2222 " + mainCfg + ":3"}) {
		t.Errorf("ports %q", got)
	}
	if len(cfg.Incomplete) != 1 || cfg.Incomplete[0].Error() != l1+"Include /etc/ssh/sshd_config.d/*.conf: cannot read /etc/ssh/sshd_config.d/10.conf (permission denied): sshd, running as root, may read configuration there that sshport cannot, so the ports shown may be incomplete (run sshport as root)" {
		t.Errorf("Incomplete %v", cfg.Incomplete)
	}
	// Readable, the same tree is complete.
	cfg, err = Load(base, mainCfg, nil)
	if err != nil || len(cfg.Incomplete) != 0 || len(cfg.Ports) != 3 {
		t.Errorf("readable: ports %v incomplete %v err %v", cfg.Ports, cfg.Incomplete, err)
	}
	// A missing directory is no reason to warn: sshd (as root) finds
	// nothing there either.
	cfg, err = Load(mapFS(only("Include /etc/ssh/nosuch.d/*.conf\nInclude /etc/ssh/sshd_config/x\n")), mainCfg, nil)
	if err != nil || len(cfg.Incomplete) != 0 {
		t.Errorf("missing directory: incomplete %v err %v", cfg.Incomplete, err)
	}
	if !errors.Is(&fs.PathError{Err: syscall.ELOOP}, syscall.ELOOP) || ordinaryMiss(&fs.PathError{Err: syscall.EACCES}) {
		t.Error("ordinaryMiss classifies EACCES as ordinary")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.conf", "a.conf", true},
		{"*.conf", ".conf", true}, // the leading-dot rule is glob's, not match's
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"?", "", false},
		{"?", "x", true},
		{"[abc]", "b", true},
		{"[!abc]", "b", false},
		{"[!abc]", "d", true},
		{"[^a]", "^", true},
		{"[^a]", "b", false},
		{"[]a]", "]", true},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[a-]", "-", true},
		{"[[:digit:]x]", "7", true},
		{"[[:digit:]x]", "x", true},
		{"[[:upper:]]", "a", false},
		{"[x", "[x", true},
		{"[x*", "[xyz", true},
		{"[]", "[]", true},
		{"[!]", "[!]", true},
		{"\\*", "*", true},
		{"\\*", "a", false},
		{"\\[x]", "[x]", true},
		{"[\\]]", "]", true},
		{"**a", "ba", true},
	}
	for _, tc := range tests {
		toks, ok, err := compileGlob(tc.pattern)
		if !ok || err != nil {
			t.Errorf("compileGlob(%q) failed", tc.pattern)
			continue
		}
		if got := matchSegment(tc.name, toks); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	for _, p := range []string{"[[:nosuch:]]", "[a/b]", "x/[/]"} {
		if _, ok, err := compileGlob(p); ok || err != nil {
			t.Errorf("compileGlob(%q) = %v, %v; sshd's glob matches nothing with it", p, ok, err)
		}
	}
	for _, p := range []string{"[[:digit:]", "x[\\a[:alpha:]/"} {
		if _, _, err := compileGlob(p); err != errGlobOverrun {
			t.Errorf("compileGlob(%q) = %v; sshd crashes on it", p, err)
		}
	}
}

func TestWalkPath(t *testing.T) {
	m := fstest.MapFS{
		"etc/ssh/x/cfg1":        {Data: []byte("")},
		"etc/ssh/real/sub/keep": {Data: []byte("")},
		"etc/ssh/real/f":        {Data: []byte("")},
		"etc/ssh/abs":           {Mode: fs.ModeSymlink, Data: []byte("/etc/ssh/real/sub")},
		"etc/ssh/rel":           {Mode: fs.ModeSymlink, Data: []byte("real/sub")},
		"etc/ssh/up":            {Mode: fs.ModeSymlink, Data: []byte("../../../../etc/ssh/real")},
		"etc/ssh/loop":          {Mode: fs.ModeSymlink, Data: []byte("loop")},
		"etc/ssh/tofile":        {Mode: fs.ModeSymlink, Data: []byte("real/f")},
	}
	tests := []struct {
		name       string
		followLast bool
		want       string
		err        error
	}{
		{"/etc/ssh/x/cfg1", true, "etc/ssh/x/cfg1", nil},
		{"/etc/ssh/x/cfg1/../cfg1", true, "", syscall.ENOTDIR},
		{"/etc/ssh/x/cfg1/.", true, "", syscall.ENOTDIR},
		{"/etc/ssh/x/cfg1/", true, "", syscall.ENOTDIR},
		{"/etc/ssh/x/../x/cfg1", true, "etc/ssh/x/cfg1", nil},
		{"/etc/ssh/abs/../f", true, "etc/ssh/real/f", nil},
		{"/etc/ssh/rel/../f", true, "etc/ssh/real/f", nil},
		{"/etc/ssh/up/f", true, "etc/ssh/real/f", nil}, // ".." stays at the root
		{"/../../etc/ssh/x/cfg1", true, "etc/ssh/x/cfg1", nil},
		{"/etc/ssh/abs", false, "etc/ssh/abs", nil},
		{"/etc/ssh/abs/", false, "etc/ssh/real/sub", nil},
		{"/etc/ssh/tofile/", false, "", syscall.ENOTDIR},
		{"/etc/ssh/loop", true, "", syscall.ELOOP},
		{"/etc/ssh/loop", false, "etc/ssh/loop", nil},
		{"/etc/ssh/nosuch/../x/cfg1", true, "", fs.ErrNotExist},
		{"/", true, ".", nil},
	}
	for _, tc := range tests {
		got, err := walkPath(m, tc.name, tc.followLast)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("walkPath(%q) = %q, %v; want error %v", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("walkPath(%q, %v) = %q, %v; want %q", tc.name, tc.followLast, got, err, tc.want)
		}
	}
}

func (d noAccessFS) ReadFile(name string) ([]byte, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	return d.MapFS.ReadFile(name)
}
