package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
)

func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "connect to sshd's ports and check that each answers as an SSH-2.0 server",
		Description: "Connects to every target and reads the server's identification string (RFC 4253 4.2:\n" +
			"lines before SSH- are allowed). By default the targets are the ports the configuration\n" +
			"binds, on 127.0.0.1 and ::1 for wildcard addresses, else on the address itself. It sends\n" +
			"only its own identification string (SSH-2.0-sshport_verify) after the server's, never a key\n" +
			"exchange or credentials. --closed N checks that N no longer answers.\n" +
			"Exit 0: every target as expected; 1: one did not answer SSH-2.0 (or a closed one did); 2: error.",
		Flags: append(globalFlags(),
			&cli.StringSliceFlag{Name: "host", Usage: "connect to `HOST` instead of the configuration's addresses (repeatable)"},
			&cli.IntSliceFlag{Name: "port", Usage: "check port `N` instead of the configured ones (repeatable)"},
			&cli.IntSliceFlag{Name: "closed", Usage: "expect port `N` to be closed (no SSH answer) (repeatable)"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give each target `D` to answer"},
		),
		Action: func(c *cli.Context) error { return runVerify(c, e) },
	}
}

type verifyReport struct {
	Targets []verifyTarget `json:"targets"`
	OK      bool           `json:"ok"`
}

type verifyTarget struct {
	Address  string `json:"address"`
	Port     int    `json:"port"`
	Expect   string `json:"expect"` // "ssh" or "closed"
	Banner   string `json:"banner"`
	PreLines int    `json:"pre_banner_lines"`
	Error    string `json:"error,omitempty"`
	OK       bool   `json:"ok"`
}

func runVerify(c *cli.Context, e *env) error {
	if c.Args().Len() > 0 {
		return usageErr("verify takes no arguments (got %q)", c.Args().First())
	}
	t, err := targetOf(c)
	if err != nil {
		return usageErr("%v", err)
	}
	timeout := c.Duration("timeout")
	if timeout <= 0 {
		return usageErr("--timeout %v: want a positive duration", timeout)
	}
	hosts := c.StringSlice("host")
	portsArg := c.IntSlice("port")
	closed := c.IntSlice("closed")
	for _, p := range append(slices.Clone(portsArg), closed...) {
		if p < 1 || p > 65535 {
			return usageErr("port %d: not a port number 1-65535", p)
		}
	}
	for _, p := range closed {
		if slices.Contains(portsArg, p) {
			return usageErr("port %d is given both to --port (must answer SSH-2.0) and to --closed (must not)", p)
		}
	}
	if t.image && len(hosts) == 0 {
		return usageErr("verify --root: the image's sshd does not run here; give --host")
	}
	var targets []verifyTarget
	add := func(addr string, port int, expect string) {
		vt := verifyTarget{Address: addr, Port: port, Expect: expect}
		if !slices.Contains(targets, vt) {
			targets = append(targets, vt)
		}
	}
	if len(hosts) > 0 && (len(portsArg) > 0 || len(closed) > 0) {
		for _, p := range portsArg {
			for _, h := range hosts {
				add(h, p, "ssh")
			}
		}
	} else {
		cfg, err := t.load()
		if err != nil {
			return err
		}
		var addrs []string
		for _, ep := range cfg.Listen {
			a := loopbackFor(ep.Address)
			if len(hosts) > 0 {
				for _, h := range hosts {
					if !slices.Contains(addrs, h) {
						addrs = append(addrs, h)
					}
				}
			} else if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
			if len(portsArg) == 0 {
				if len(hosts) > 0 {
					for _, h := range hosts {
						add(h, ep.Port, "ssh")
					}
				} else {
					add(a, ep.Port, "ssh")
				}
			}
		}
		if len(addrs) == 0 {
			addrs = []string{"127.0.0.1"}
		}
		hosts = addrs
		for _, p := range portsArg {
			for _, a := range addrs {
				add(a, p, "ssh")
			}
		}
	}
	for _, p := range closed {
		for _, h := range hosts {
			add(h, p, "closed")
		}
	}
	if len(targets) == 0 {
		return usageErr("verify: nothing to check (give --port)")
	}
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		go func(vt *verifyTarget) {
			defer wg.Done()
			b, err := checker.ReadBanner(c.Context, net.JoinHostPort(vt.Address, strconv.Itoa(vt.Port)), timeout)
			vt.Banner, vt.PreLines = b.Ident, b.PreLines
			if err != nil {
				vt.Error = err.Error()
			}
			answered := err == nil && b.SSH2
			vt.OK = answered == (vt.Expect == "ssh")
		}(&targets[i])
	}
	wg.Wait()
	rep := verifyReport{Targets: targets, OK: true}
	for _, vt := range targets {
		rep.OK = rep.OK && vt.OK
	}
	if t.json {
		writeJSON(e.stdout, rep)
	} else {
		printVerify(e.stdout, rep)
	}
	if !rep.OK {
		return &exitErr{code: exitFindings}
	}
	return nil
}

// loopbackFor maps a wildcard listen address to the loopback address of
// its family; other addresses are connected to as they are.
func loopbackFor(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	switch {
	case a.IsUnspecified() && a.Is4():
		return "127.0.0.1"
	case a.IsUnspecified():
		return "::1"
	}
	return a.WithZone("").String()
}

func printVerify(w io.Writer, r verifyReport) {
	bad := 0
	for _, vt := range r.Targets {
		ep := net.JoinHostPort(vt.Address, strconv.Itoa(vt.Port))
		verdict := "ok"
		if !vt.OK {
			verdict = "FAIL"
			bad++
		}
		var what string
		switch {
		case vt.Expect == "closed" && vt.OK:
			what = "closed as expected (" + vt.Error + ")"
		case vt.Expect == "closed":
			what = "still answers, expected closed: " + vt.Banner
		case vt.Banner != "" && vt.Error == "":
			what = vt.Banner
			if vt.PreLines > 0 {
				what += fmt.Sprintf(" (after %d other line(s))", vt.PreLines)
			}
		case vt.Banner != "":
			what = vt.Banner + ": " + vt.Error
		default:
			what = "no SSH answer: " + vt.Error
		}
		fmt.Fprintf(w, "%-5s %-22s %s\n", verdict, ep, what)
	}
	if bad == 0 {
		fmt.Fprintf(w, "%d target(s), all as expected.\n", len(r.Targets))
	} else {
		fmt.Fprintf(w, "%d of %d target(s) not as expected.\n", bad, len(r.Targets))
	}
}
