//go:build !unix

package checker

import "net/netip"

func bindProbe(eps []netip.AddrPort) []ProbeResult {
	out := make([]ProbeResult, len(eps))
	for i, ep := range eps {
		out[i] = ProbeResult{Endpoint: ep, Err: "bind probe not supported on this system"}
	}
	return out
}
