// Command listprobe is the benchmark's stand-in for `sshport check`: one
// whole process that gathers host facts with the given listing method
// (netlink or proc), looks up the owner of and bind-probes the port, and
// prints the findings. Exit 0 no finding, 1 findings, 2 error.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"

	"github.com/sshport/sshport/checker"
)

func main() {
	method := flag.String("method", "", "listing method: netlink, proc or empty for the best")
	port := flag.Int("port", 20022, "port to check")
	flag.Parse()
	p := uint16(*port)
	eps := []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), p), netip.AddrPortFrom(netip.IPv6Unspecified(), p)}
	f, err := checker.System{}.Probe(context.Background(), checker.Request{Owners: []int{*port}, Bind: eps, Method: *method})
	if err != nil {
		fmt.Fprintln(os.Stderr, "listprobe:", err)
		os.Exit(2)
	}
	fs := checker.Check(checker.Candidate{Port: *port, Endpoints: eps, SSHDOwn: true}, f)
	fmt.Printf("%d listeners via %s, %d findings\n", len(f.Listeners), f.ListenMethod, len(fs))
	for _, x := range fs {
		fmt.Printf("%s %s: %s\n", x.Severity, x.Code, x.Message)
	}
	if len(fs) > 0 {
		os.Exit(1)
	}
}
