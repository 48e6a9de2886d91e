package checker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func osEphemeral(f *Facts) {
	if !readLinuxEphemeral(f, os.DirFS("/"), "proc/sys/net/ipv4", "/proc/sys/net/ipv4") {
		ianaFallback(f, "/proc/sys/net/ipv4/ip_local_port_range unreadable")
	}
}

func osListeners(f *Facts, method string) error {
	switch method {
	case MethodNetlink:
		ls, notes, err := netlinkListeners()
		if err != nil {
			return fmt.Errorf("netlink sock_diag: %w", err)
		}
		f.Listeners, f.ListenMethod, f.Notes = ls, MethodNetlink, append(f.Notes, notes...)
		return nil
	case MethodProc:
		ls, notes, err := procListeners("/proc")
		if err != nil {
			return err
		}
		f.Listeners, f.ListenMethod, f.Notes = ls, MethodProc, append(f.Notes, notes...)
		return nil
	case "":
	default:
		return fmt.Errorf("unknown listing method %q", method)
	}
	ls, notes, err := netlinkListeners()
	if err == nil {
		f.Listeners, f.ListenMethod, f.Notes = ls, MethodNetlink, append(f.Notes, notes...)
		return nil
	}
	f.Notes = append(f.Notes, fmt.Sprintf("netlink sock_diag refused (%v): listeners read from /proc/net/tcp{,6}", err))
	ls, notes, err2 := procListeners("/proc")
	if err2 == nil {
		f.Listeners, f.ListenMethod, f.Notes = ls, MethodProc, append(f.Notes, notes...)
		return nil
	}
	f.ListenMethod = MethodBind
	f.Notes = append(f.Notes, fmt.Sprintf("%v: listeners not listed; only the bind probe tests ports", err2))
	return nil
}

// Netlink sock_diag constants not all named by x/sys/unix.
const (
	tcpListen          = 10 // TCP_LISTEN
	inetDiagSKV6Only   = 11 // INET_DIAG_SKV6ONLY attribute
	sizeofNlMsghdr     = 16
	sizeofInetDiagReq  = 56 // struct inet_diag_req_v2
	sizeofInetDiagMsg  = 72 // struct inet_diag_msg
	inetDiagInodeOff   = 68
	inetDiagSrcAddrOff = 8
)

// netlinkListeners dumps LISTEN TCP sockets with one NETLINK_SOCK_DIAG
// request per family; the kernel filters by state, so the cost does not grow
// with established connections. The kernel attaches INET_DIAG_SKV6ONLY to
// every AF_INET6 socket it reports (idiag_ext has no bit for it).
func netlinkListeners() ([]Listener, []string, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 32<<10)
	ls, err := diagDump(fd, unix.AF_INET, 1, buf, nil)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	ls, err = diagDump(fd, unix.AF_INET6, 2, buf, ls)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EAFNOSUPPORT) {
		notes = append(notes, "IPv6 is off in this kernel: IPv4 listeners only")
	} else if err != nil {
		return nil, nil, err
	}
	return ls, notes, nil
}

func diagDump(fd int, family uint8, seq uint32, buf []byte, ls []Listener) ([]Listener, error) {
	var req [sizeofNlMsghdr + sizeofInetDiagReq]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	r := req[sizeofNlMsghdr:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpListen) // idiag_states
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return ls, err
	}
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ls, err
		}
		b := buf[:n]
		for len(b) >= sizeofNlMsghdr {
			mlen := int(ne.Uint32(b[0:]))
			typ := ne.Uint16(b[4:])
			mseq := ne.Uint32(b[8:])
			if mlen < sizeofNlMsghdr || mlen > len(b) {
				return ls, errors.New("short netlink message")
			}
			body := b[sizeofNlMsghdr:mlen]
			b = b[min(len(b), (mlen+3)&^3):]
			if mseq != seq {
				continue
			}
			switch typ {
			case unix.NLMSG_DONE:
				if len(body) >= 4 {
					if e := int32(ne.Uint32(body)); e < 0 {
						return ls, unix.Errno(-e)
					}
				}
				return ls, nil
			case unix.NLMSG_ERROR:
				if len(body) >= 4 {
					if e := int32(ne.Uint32(body)); e < 0 {
						return ls, unix.Errno(-e)
					}
				}
				return ls, errors.New("netlink error message")
			case unix.SOCK_DIAG_BY_FAMILY:
				l, ok := parseDiagMsg(body)
				if ok {
					ls = append(ls, l)
				}
			}
		}
	}
}

func parseDiagMsg(m []byte) (Listener, bool) {
	if len(m) < sizeofInetDiagMsg {
		return Listener{}, false
	}
	l := Listener{
		Port:  int(binary.BigEndian.Uint16(m[4:])),
		Inode: uint64(binary.NativeEndian.Uint32(m[inetDiagInodeOff:])),
	}
	src := m[inetDiagSrcAddrOff:]
	switch m[0] {
	case unix.AF_INET:
		l.Addr = netip.AddrFrom4([4]byte(src[:4]))
	case unix.AF_INET6:
		l.Addr = netip.AddrFrom16([16]byte(src[:16]))
	default:
		return Listener{}, false
	}
	for a := m[sizeofInetDiagMsg:]; len(a) >= 4; {
		alen := int(binary.NativeEndian.Uint16(a[0:]))
		atyp := binary.NativeEndian.Uint16(a[2:])
		if alen < 4 || alen > len(a) {
			break
		}
		if atyp == inetDiagSKV6Only && alen >= 5 {
			l.V6Only = a[4] != 0
		}
		a = a[min(len(a), (alen+3)&^3):]
	}
	if l.Addr.Is4In6() {
		l.Addr, l.V6Only = l.Addr.Unmap(), false
	}
	return l, true
}

// procListeners reads dir/net/tcp and dir/net/tcp6 (state 0A, LISTEN).
// These files do not show IPV6_V6ONLY: IPv6 listeners are given the
// system default from net.ipv6.bindv6only, and a note says so.
func procListeners(dir string) ([]Listener, []string, error) {
	ls, err := procFile(dir+"/net/tcp", nil, false)
	if err != nil {
		return nil, nil, err
	}
	v6only := false
	if b, err := os.ReadFile(dir + "/sys/net/ipv6/bindv6only"); err == nil {
		v6only = strings.TrimSpace(string(b)) == "1"
	}
	var notes []string
	n := len(ls)
	ls, err = procFile(dir+"/net/tcp6", ls, v6only)
	if errors.Is(err, os.ErrNotExist) {
		notes = append(notes, "IPv6 is off in this kernel: IPv4 listeners only")
	} else if err != nil {
		return nil, nil, err
	}
	if len(ls) > n {
		notes = append(notes, fmt.Sprintf("/proc/net/tcp6 does not show IPV6_V6ONLY: IPv6 listeners assumed v6only=%v (net.ipv6.bindv6only)", v6only))
	}
	return ls, notes, nil
}

func procFile(name string, ls []Listener, v6only bool) ([]Listener, error) {
	fh, err := os.Open(name)
	if err != nil {
		return ls, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		// "  sl  local_address rem_address   st ... inode"
		line := sc.Bytes()
		f := fieldsN(line, 10)
		if len(f) < 10 || string(f[3]) != "0A" {
			continue
		}
		l, ok := parseProcAddr(f[1])
		if !ok {
			continue
		}
		l.Inode, _ = strconv.ParseUint(string(f[9]), 10, 64)
		if l.Addr.Is6() {
			l.V6Only = v6only
		}
		ls = append(ls, l)
	}
	return ls, sc.Err()
}

// fieldsN splits b on spaces into at most n fields, without allocating past the slice header.
func fieldsN(b []byte, n int) [][]byte {
	out := make([][]byte, 0, n)
	for len(out) < n {
		b = bytes.TrimLeft(b, " ")
		if len(b) == 0 {
			break
		}
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			i = len(b)
		}
		out = append(out, b[:i])
		b = b[i:]
	}
	return out
}

// parseProcAddr parses "0100007F:1F90": each 32-bit word of the address is
// printed in host byte order.
func parseProcAddr(s []byte) (Listener, bool) {
	a, p, ok := bytes.Cut(s, []byte{':'})
	if !ok || (len(a) != 8 && len(a) != 32) {
		return Listener{}, false
	}
	port, err := strconv.ParseUint(string(p), 16, 16)
	if err != nil {
		return Listener{}, false
	}
	var raw [16]byte
	if _, err := hex.Decode(raw[:len(a)/2], a); err != nil {
		return Listener{}, false
	}
	for i := 0; i < len(a)/2; i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	var addr netip.Addr
	if len(a) == 8 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16(raw).Unmap()
	}
	return Listener{Addr: addr, Port: int(port)}, true
}

// manyFDs is where a process counts as busy: findOwners reads it last.
const manyFDs = 1000

// findOwners looks up the owning process of the listeners on ports, by
// socket inode in /proc/PID/fd. It looks at pid 1 first (systemd socket
// activation), then at first (sshd's daemons, known from its PidFile and
// its unit's cgroup), then at every other pid in numeric order, those
// holding more than manyFDs descriptors last, and stops as soon as every
// inode is found: a busy server's descriptors are read only when no other
// process holds the sockets asked about. A socket several processes hold
// gets the first of them in that order.
func findOwners(f *Facts, ports []int, first []int) {
	want := map[uint64][]int{} // inode -> listener indexes
	for i, l := range f.Listeners {
		if slices.Contains(ports, l.Port) && l.Inode != 0 {
			want[l.Inode] = append(want[l.Inode], i)
		}
	}
	for i := range f.Listeners {
		if slices.Contains(ports, f.Listeners[i].Port) {
			f.Listeners[i].Process = "unknown"
		}
	}
	if len(want) == 0 {
		return
	}
	pids, err := numericDirs("/proc")
	if err != nil {
		f.Notes = append(f.Notes, "owners unknown: "+err.Error())
		return
	}
	order := make([]int, 0, len(pids))
	if len(pids) > 0 && pids[0] == 1 {
		order = append(order, 1)
	}
	first = slices.Clone(first)
	slices.Sort(first)
	first = slices.Compact(first)
	for _, p := range first {
		if p != 1 {
			if _, ok := slices.BinarySearch(pids, p); ok {
				order = append(order, p)
			}
		}
	}
	others := len(order)
	for _, p := range pids {
		if _, ok := slices.BinarySearch(first, p); !ok && p != 1 {
			order = append(order, p)
		}
	}
	var sc fdScanner
	denied := 0
	var many []int // the busy processes, read last
	visit := func(pid int, maxFDs int64) error {
		comm := ""
		return sc.sockets("/proc/"+strconv.Itoa(pid)+"/fd", maxFDs, func(ino uint64) bool {
			idx, ok := want[ino]
			if !ok {
				return true
			}
			if comm == "" {
				comm = "unknown"
				if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
					comm = strings.TrimSpace(string(b))
				}
			}
			for _, i := range idx {
				f.Listeners[i].PID, f.Listeners[i].Process = pid, comm
			}
			delete(want, ino)
			return len(want) > 0
		})
	}
	for i, pid := range order {
		maxFDs := int64(0)
		if i >= others {
			maxFDs = manyFDs
		}
		err := visit(pid, maxFDs)
		if len(want) == 0 {
			return
		}
		switch {
		case err == errManyFDs:
			many = append(many, pid)
		case errors.Is(err, os.ErrPermission):
			denied++
		}
	}
	for _, pid := range many {
		_ = visit(pid, 0)
		if len(want) == 0 {
			return
		}
	}
	if denied > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("owner of %d socket(s) unknown: not permitted to read /proc/PID/fd of %d process(es)", len(want), denied))
	}
}

func numericDirs(dir string) ([]int, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, n := range names {
		if p, err := strconv.Atoi(n); err == nil && p > 0 {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return pids, nil
}
