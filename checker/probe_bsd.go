//go:build freebsd || darwin || openbsd || dragonfly

package checker

import "golang.org/x/sys/unix"

func osEphemeral(f *Facts) {
	lo, err1 := unix.SysctlUint32("net.inet.ip.portrange.first")
	hi, err2 := unix.SysctlUint32("net.inet.ip.portrange.last")
	r := Range{int(lo), int(hi)}
	if r.Lo > r.Hi { // the kernel accepts first > last and swaps them
		r.Lo, r.Hi = r.Hi, r.Lo
	}
	if err1 != nil || err2 != nil || !r.Valid() {
		ianaFallback(f, "sysctl net.inet.ip.portrange.first/last unreadable")
		return
	}
	f.Ephemeral, f.EphemeralSource = r, "sysctl net.inet.ip.portrange.first/last"
}
