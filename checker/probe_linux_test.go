package checker

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
)

func hasIPv6(t *testing.T) bool {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func selfComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// listen opens a listener with kernel-chosen port; v6only applies to IPv6.
func listen(t *testing.T, network, addr string) (netip.AddrPort, func()) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr().(*net.TCPAddr).AddrPort(), func() { l.Close() }
}

// TestRealListeners opens listeners on 127.0.0.1, ::1, dual-stack [::] and
// IPv6-only [::], and requires each listing method to find them with the
// right address, v6only flag and this process as owner, and Check to flag them.
func TestRealListeners(t *testing.T) {
	type want struct {
		ep     netip.AddrPort
		v6only bool
	}
	var ws []want
	e, c := listen(t, "tcp4", "127.0.0.1:0")
	defer c()
	ws = append(ws, want{e, false})
	if hasIPv6(t) {
		e, c = listen(t, "tcp6", "[::1]:0")
		defer c()
		ws = append(ws, want{e, true})
		e, c = listen(t, "tcp", "[::]:0") // Go leaves IPV6_V6ONLY off: dual-stack
		defer c()
		ws = append(ws, want{netip.AddrPortFrom(netip.IPv6Unspecified(), e.Port()), false})
		e, c = listen(t, "tcp6", "[::]:0") // Go sets IPV6_V6ONLY for tcp6
		defer c()
		ws = append(ws, want{e, true})
	} else {
		t.Log("no IPv6 on this host: IPv4 only")
	}
	var owners []int
	for _, w := range ws {
		owners = append(owners, int(w.ep.Port()))
	}
	comm := selfComm(t)
	for _, method := range []string{MethodNetlink, MethodProc, ""} {
		t.Run("method="+method, func(t *testing.T) {
			f, err := System{}.Probe(context.Background(), Request{Owners: owners, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			if method == "" && f.ListenMethod != MethodNetlink {
				t.Errorf("default method = %q, want netlink (notes %q)", f.ListenMethod, f.Notes)
			}
			if method != "" && f.ListenMethod != method {
				t.Errorf("ListenMethod = %q", f.ListenMethod)
			}
			for _, w := range ws {
				i := slices.IndexFunc(f.Listeners, func(l Listener) bool { return l.Endpoint() == w.ep })
				if i < 0 {
					t.Errorf("%v not listed (%d listeners)", w.ep, len(f.Listeners))
					continue
				}
				l := f.Listeners[i]
				if l.PID != os.Getpid() || l.Process != comm || l.Inode == 0 {
					t.Errorf("%v owner = pid %d %q inode %d, want pid %d %q", w.ep, l.PID, l.Process, l.Inode, os.Getpid(), comm)
				}
				if f.ListenMethod == MethodNetlink && w.ep.Addr().Is6() && l.V6Only != w.v6only {
					t.Errorf("%v v6only = %v, want %v", w.ep, l.V6Only, w.v6only)
				}
				fs := Check(Candidate{Port: int(w.ep.Port()), Endpoints: []netip.AddrPort{w.ep}}, f)
				if len(fs) == 0 || fs[0].Code != CodeInUse || fs[0].Severity != SevError || !strings.Contains(fs[0].Message, comm) {
					t.Errorf("Check(%v) = %v, want in-use by %s", w.ep, fs, comm)
				}
			}
		})
	}
}

// TestNetlinkFlat requires netlink to ignore established connections: a
// loopback connection's two ends must not be listed.
func TestNetlinkIgnoresConnections(t *testing.T) {
	e, c := listen(t, "tcp4", "127.0.0.1:0")
	defer c()
	conn, err := net.Dial("tcp4", e.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	for _, m := range []string{MethodNetlink, MethodProc} {
		f, err := System{}.Probe(context.Background(), Request{Method: m})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range f.Listeners {
			if l.Port == int(local.Port()) {
				t.Errorf("%s lists the connection's local end %v as a listener", m, local)
			}
		}
	}
}

// bindSock binds a TCP socket with SO_REUSEADDR, and listens when asked.
func bindSock(a netip.Addr, port int, v6only, listen bool) (int, int, error) {
	fam := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: port, Addr: a.As16()}
	if a.Is4() {
		fam = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: port, Addr: a.As4()}
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if a.Is6() {
		v := 0
		if v6only {
			v = 1
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	if listen {
		if err := unix.Listen(fd, 1); err != nil {
			unix.Close(fd)
			return -1, 0, err
		}
	}
	got, _ := unix.Getsockname(fd)
	switch s := got.(type) {
	case *unix.SockaddrInet4:
		port = s.Port
	case *unix.SockaddrInet6:
		port = s.Port
	}
	return fd, port, nil
}

// TestBlocksMatchesKernel binds each address pair for real and requires
// the model in Blocks to agree with the kernel.
func TestBlocksMatchesKernel(t *testing.T) {
	v6 := hasIPv6(t)
	pairs := []struct {
		held       string
		heldV6Only bool
		want       string
		wantV6Only bool
		varies     bool // kernels disagree: reported, not required
	}{
		{"0.0.0.0", false, "0.0.0.0", false, false},
		{"0.0.0.0", false, "127.0.0.1", false, false},
		{"127.0.0.1", false, "0.0.0.0", false, false},
		{"127.0.0.1", false, "127.0.0.1", false, false},
		{"127.0.0.1", false, "127.0.0.2", false, false},
		{"::", false, "0.0.0.0", false, false},
		{"::", false, "127.0.0.1", false, false},
		{"::", true, "0.0.0.0", false, false},
		{"::", true, "127.0.0.1", false, false},
		{"0.0.0.0", false, "::", false, false},
		{"0.0.0.0", false, "::", true, false},
		{"127.0.0.1", false, "::", true, false},
		{"127.0.0.1", false, "::", false, false},
		{"::1", false, "0.0.0.0", false, true},
		{"::1", true, "0.0.0.0", false, false},
		{"::1", false, "127.0.0.1", false, false},
		{"127.0.0.1", false, "::1", false, false},
		{"::", true, "::", true, false},
		{"::", false, "::1", true, false},
		{"::1", true, "::", true, false},
		{"::1", true, "::1", false, false},
		{"::ffff:127.0.0.1", false, "127.0.0.1", false, false},
	}
	for _, p := range pairs {
		held, want := netip.MustParseAddr(p.held), netip.MustParseAddr(p.want)
		if (held.Is6() && !held.Is4In6() || want.Is6()) && !v6 {
			continue
		}
		fd, port, err := bindSock(held, 0, p.heldV6Only, true)
		if err != nil {
			t.Fatalf("bind %v: %v", held, err)
		}
		fd2, _, err := bindSock(want, port, p.wantV6Only, false)
		unix.Close(fd)
		if err == nil {
			unix.Close(fd2)
		} else if !errors.Is(err, unix.EADDRINUSE) {
			t.Errorf("bind %v after %v: %v", want, held, err)
			continue
		}
		kernel := err != nil
		if model := Blocks(held, p.heldV6Only, want, p.wantV6Only); model != kernel && p.varies {
			t.Logf("held %v v6only=%v, bind %v: this kernel says in use=%v, Blocks=%v (kernels differ)", held, p.heldV6Only, want, kernel, model)
		} else if model != kernel {
			t.Errorf("held %v v6only=%v, bind %v v6only=%v: kernel in use=%v, Blocks=%v", held, p.heldV6Only, want, p.wantV6Only, kernel, model)
		}
	}
}

// TestBindProbe finds a socket bound but not listening and the local end of
// an outgoing connection, which no listener list shows, and passes a free port.
func TestBindProbe(t *testing.T) {
	fd, bound, err := bindSock(netip.MustParseAddr("127.0.0.1"), 0, false, false)
	if err != nil {
		t.Fatal(err)
	}
	// Without SO_REUSEADDR, as most programs: sshd's SO_REUSEADDR bind then fails.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0)
	defer unix.Close(fd)

	e, c := listen(t, "tcp4", "127.0.0.1:0")
	defer c()
	conn, err := net.Dial("tcp4", e.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := int(conn.LocalAddr().(*net.TCPAddr).Port)

	e2, c2 := listen(t, "tcp4", "127.0.0.1:0")
	c2() // free again (kernel-chosen, not reused by us)
	free := int(e2.Port())

	tests := []struct {
		ep    string
		port  int
		inUse bool
	}{
		{"127.0.0.1", bound, true},
		{"0.0.0.0", bound, true},
		{"127.0.0.1", local, true},
		{"0.0.0.0", local, true},
		{"127.0.0.1", free, false},
	}
	var eps []netip.AddrPort
	for _, tt := range tests {
		eps = append(eps, netip.AddrPortFrom(netip.MustParseAddr(tt.ep), uint16(tt.port)))
	}
	f, err := System{}.Probe(context.Background(), Request{Bind: eps})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Probes) != len(tests) {
		t.Fatalf("%d probes", len(f.Probes))
	}
	for i, tt := range tests {
		p := f.Probes[i]
		if p.Endpoint != eps[i] || p.InUse != tt.inUse || p.Err != "" {
			t.Errorf("probe %v = %+v, want in use %v", eps[i], p, tt.inUse)
		}
	}
	if slices.ContainsFunc(f.Listeners, func(l Listener) bool { return l.Port == bound }) {
		t.Errorf("bound-not-listening port %d listed as listener", bound)
	}
	fs := Check(Candidate{Port: bound, Endpoints: []netip.AddrPort{eps[0]}}, f)
	if len(fs) == 0 || fs[0].Code != CodeInUse || !strings.Contains(fs[0].Message, "not listening") {
		t.Errorf("Check(bound) = %v", fs)
	}
	// Probing must leave nothing behind: the free port binds again.
	if fd3, _, err := bindSock(netip.MustParseAddr("127.0.0.1"), free, false, true); err != nil {
		t.Errorf("port %d not free after probe: %v", free, err)
	} else {
		unix.Close(fd3)
	}
}

func TestBindProbeV6Only(t *testing.T) {
	if !hasIPv6(t) {
		t.Skip("no IPv6")
	}
	// A v4 listener does not stop sshd's IPv6-only [::] bind; a dual-stack [::] listener stops 0.0.0.0.
	e, c := listen(t, "tcp4", "127.0.0.1:0")
	defer c()
	d, c2 := listen(t, "tcp", "[::]:0")
	defer c2()
	eps := []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv6Unspecified(), e.Port()),
		netip.AddrPortFrom(netip.IPv4Unspecified(), d.Port()),
	}
	f, err := System{}.Probe(context.Background(), Request{Bind: eps, Owners: []int{int(e.Port()), int(d.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Probes[0].InUse || !f.Probes[0].V6Only || f.Probes[0].Err != "" {
		t.Errorf("[::] next to 127.0.0.1: %+v, want free", f.Probes[0])
	}
	if !f.Probes[1].InUse {
		t.Errorf("0.0.0.0 next to dual-stack [::]: %+v, want in use", f.Probes[1])
	}
	// Check agrees using listeners alone.
	if fs := Check(Candidate{Port: int(e.Port()), Endpoints: eps[:1]}, f); slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == CodeInUse }) {
		t.Errorf("Check flags [::] beside 127.0.0.1: %v", fs)
	}
	if fs := Check(Candidate{Port: int(d.Port()), Endpoints: eps[1:]}, f); len(fs) == 0 || fs[0].Code != CodeInUse || !strings.Contains(fs[0].Message, "dual-stack") {
		t.Errorf("Check misses 0.0.0.0 beside dual-stack [::]: %v", fs)
	}
}

func TestOwnerUnknownWhenNotFound(t *testing.T) {
	f := Facts{Listeners: []Listener{{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1, Inode: 1<<40 + 7}, {Port: 2}}}
	findOwners(&f, []int{1, 2}, nil)
	for _, l := range f.Listeners {
		if l.PID != 0 || l.Process != "unknown" || l.Owner() != "unknown" {
			t.Errorf("owner of %+v, want unknown", l)
		}
	}
}

func TestEphemeralLive(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip(err)
	}
	want, err := parseLinuxRange(string(b))
	if err != nil {
		t.Fatal(err)
	}
	f, err := System{}.Probe(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Ephemeral != want || f.EphemeralSource != "/proc/sys/net/ipv4/ip_local_port_range" || f.OS != "linux" {
		t.Errorf("Ephemeral %v from %q, want %v", f.Ephemeral, f.EphemeralSource, want)
	}
}

func TestEphemeralImage(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		want     Range
		reserved []Range
		source   string
		note     string
	}{
		{"read", map[string]string{"ip_local_port_range": "1024\t2047\n", "ip_local_reserved_ports": "1500,1600-1610\n"},
			Range{1024, 2047}, []Range{{1500, 1500}, {1600, 1610}}, "ip_local_port_range", ""},
		{"no reserved file", map[string]string{"ip_local_port_range": "40000 50000"}, Range{40000, 50000}, nil, "ip_local_port_range", ""},
		{"absent", nil, LinuxDefaultEphemeral, nil, "not read from the image", "not read from the image"},
		{"garbage", map[string]string{"ip_local_port_range": "9 8\n"}, LinuxDefaultEphemeral, nil, "not read from the image", "bad range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "proc", "sys", "net", "ipv4")
			for n, s := range tt.files {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := System{}.Probe(context.Background(), Request{Root: rootfstest.Open(t, root), Owners: []int{22}, Bind: []netip.AddrPort{ep("127.0.0.1:22")}})
			if err != nil {
				t.Fatal(err)
			}
			if f.Ephemeral != tt.want || !slices.Equal(f.Reserved, tt.reserved) || !strings.Contains(f.EphemeralSource, tt.source) {
				t.Errorf("got %v %v from %q", f.Ephemeral, f.Reserved, f.EphemeralSource)
			}
			if f.ListenMethod != MethodSkipped || len(f.Listeners) != 0 || len(f.Probes) != 0 {
				t.Errorf("image probe touched live sockets: %q %d %d", f.ListenMethod, len(f.Listeners), len(f.Probes))
			}
			notes := strings.Join(f.Notes, "\n")
			if !strings.Contains(notes, "in-use check skipped") || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q lack %q", notes, tt.note)
			}
		})
	}
	// With Live, an image probe lists this host's sockets.
	e, c := listen(t, "tcp4", "127.0.0.1:0")
	defer c()
	f, err := System{}.Probe(context.Background(), Request{Root: rootfstest.Open(t, t.TempDir()), Live: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(f.Listeners, func(l Listener) bool { return l.Endpoint() == e }) {
		t.Errorf("Live image probe misses %v", e)
	}
}

func TestProcParse(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures are little-endian /proc text")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "net"), 0o755)
	os.MkdirAll(filepath.Join(dir, "sys", "net", "ipv6"), 0o755)
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0
   2: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
`
	os.WriteFile(filepath.Join(dir, "net", "tcp"), []byte(tcp), 0o644)
	ls, notes, err := procListeners(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || !strings.Contains(strings.Join(notes, ""), "IPv6 is off") {
		t.Errorf("without tcp6: %v %q", ls, notes)
	}
	os.WriteFile(filepath.Join(dir, "net", "tcp6"), []byte(tcp6), 0o644)
	os.WriteFile(filepath.Join(dir, "sys", "net", "ipv6", "bindv6only"), []byte("1\n"), 0o644)
	ls, notes, err = procListeners(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080, Inode: 1111},
		{Addr: netip.MustParseAddr("0.0.0.0"), Port: 22, Inode: 2222},
		{Addr: netip.MustParseAddr("::1"), Port: 22, Inode: 4444, V6Only: true},
		{Addr: netip.MustParseAddr("127.0.0.1"), Port: 80, Inode: 5555},
		{Addr: netip.MustParseAddr("2001:db8::1"), Port: 443, Inode: 6666, V6Only: true},
	}
	if !slices.Equal(ls, want) {
		t.Errorf("procListeners =\n%v\nwant\n%v", ls, want)
	}
	if !strings.Contains(strings.Join(notes, ""), "v6only=true") {
		t.Errorf("notes %q", notes)
	}
}

func TestParseDiagMsg(t *testing.T) {
	m := make([]byte, sizeofInetDiagMsg, sizeofInetDiagMsg+8)
	m[0] = unix.AF_INET6
	m[1] = tcpListen
	binary.BigEndian.PutUint16(m[4:], 2222)
	a := netip.MustParseAddr("::ffff:10.1.2.3").As16()
	copy(m[inetDiagSrcAddrOff:], a[:])
	binary.NativeEndian.PutUint32(m[inetDiagInodeOff:], 987)
	attr := make([]byte, 8)
	binary.NativeEndian.PutUint16(attr[0:], 5)
	binary.NativeEndian.PutUint16(attr[2:], inetDiagSKV6Only)
	attr[4] = 1
	l, ok := parseDiagMsg(append(m, attr...))
	if !ok || l.Addr != netip.MustParseAddr("10.1.2.3") || l.Port != 2222 || l.Inode != 987 || l.V6Only {
		t.Errorf("mapped: %+v %v", l, ok)
	}
	a = netip.MustParseAddr("2001:db8::5").As16()
	copy(m[inetDiagSrcAddrOff:], a[:])
	l, ok = parseDiagMsg(append(m, attr...))
	if !ok || l.Addr != netip.MustParseAddr("2001:db8::5") || !l.V6Only {
		t.Errorf("v6only: %+v %v", l, ok)
	}
	if _, ok := parseDiagMsg(m[:40]); ok {
		t.Error("short message accepted")
	}
	if _, ok := parseDiagMsg(append(m, 0xff, 0xff, 0, 0)); !ok { // bad attribute length is ignored
		t.Error("bad attribute rejected the message")
	}
}

func BenchmarkListeners(b *testing.B) {
	for _, m := range []string{MethodNetlink, MethodProc} {
		b.Run(m, func(b *testing.B) {
			f := &Facts{}
			for i := 0; i < b.N; i++ {
				if err := osListeners(f, m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(f.Listeners)), "listeners")
		})
	}
}
