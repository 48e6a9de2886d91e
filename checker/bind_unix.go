//go:build unix

package checker

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// bindProbe binds a TCP socket to each endpoint as sshd would (SO_REUSEADDR,
// IPV6_V6ONLY on IPv6, never SO_REUSEPORT), never listens, and closes it.
func bindProbe(eps []netip.AddrPort) []ProbeResult {
	out := make([]ProbeResult, len(eps))
	for i, ep := range eps {
		out[i] = bindOne(ep)
	}
	return out
}

func bindOne(ep netip.AddrPort) ProbeResult {
	a := ep.Addr().Unmap()
	ep = netip.AddrPortFrom(a, ep.Port())
	res := ProbeResult{Endpoint: ep, V6Only: a.Is6()}
	var fam int
	var sa unix.Sockaddr
	if a.Is4() {
		fam = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(ep.Port()), Addr: a.As4()}
	} else {
		fam = unix.AF_INET6
		s6 := &unix.SockaddrInet6{Port: int(ep.Port()), Addr: a.As16()}
		if z := a.Zone(); z != "" {
			id, err := strconv.Atoi(z)
			if err != nil {
				res.Err = "zone " + z + ": only numeric zones are probed"
				return res
			}
			s6.ZoneId = uint32(id)
		}
		sa = s6
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer unix.Close(fd)
	unix.CloseOnExec(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		res.Err = err.Error()
		return res
	}
	if fam == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			res.Err = err.Error()
			return res
		}
	}
	switch err := unix.Bind(fd, sa); err {
	case nil:
	case unix.EADDRINUSE:
		res.InUse = true
	default:
		res.Err = err.Error()
	}
	return res
}
