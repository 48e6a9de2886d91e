package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

func checkCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "report the ports sshd uses, where each comes from, and what is wrong with them",
		Description: "Reads sshd_config as sshd does (Include, Match, Port, ListenAddress, AddressFamily) and\n" +
			"checks each port: in use by another process, well known (0-1023), sshd's default 22,\n" +
			"inside the OS ephemeral range, in IANA's dynamic range, assigned by IANA to another service.\n" +
			"Exit 0: no finding; 1: findings; 2: error (the config would be refused, or is unreadable).",
		Flags: append(globalFlags(),
			&cli.IntFlag{Name: "port", Usage: "judge candidate port `N` instead of the configured ones (the config is not changed)"},
			&cli.BoolFlag{Name: "probe", Usage: "with --root: check this system's sockets too (an image's are not live)"},
		),
		Action: func(c *cli.Context) error { return runCheck(c, e) },
	}
}

func runCheck(c *cli.Context, e *env) error {
	if c.Args().Len() > 0 {
		return usageErr("check takes no arguments (got %q)", c.Args().First())
	}
	t, err := targetOf(c)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := t.load()
	if err != nil {
		return err
	}
	var ports []int
	if c.IsSet("port") {
		p := c.Int("port")
		if p < 1 || p > 65535 {
			return usageErr("--port %d: not a port number 1-65535", p)
		}
		ports = []int{p}
	} else {
		for _, p := range cfg.Ports {
			ports = append(ports, p.Port)
		}
		for _, la := range cfg.ListenAddresses {
			if la.Port != 0 && !slices.Contains(ports, la.Port) {
				ports = append(ports, la.Port)
			}
		}
	}
	rep, err := e.inspect(c, t, cfg, ports, c.IsSet("port"), c.Bool("probe"))
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	// A configuration read in part is never a clean answer (exit 1).
	rep.OK = len(rep.Findings) == 0 && !rep.Incomplete
	if t.json {
		writeJSON(e.stdout, rep)
	} else {
		printCheck(e.stdout, rep, colorOK(e.stdout))
	}
	if !rep.OK {
		return &exitErr{code: exitFindings}
	}
	return nil
}

// inspect gathers the host facts and judges ports; candidate says the
// ports are --port candidates rather than the configured ones.
func (e *env) inspect(c *cli.Context, t target, cfg *sshcfg.Config, ports []int, candidate, probe bool) (*checkReport, error) {
	req := checker.Request{Live: !t.image || probe, Owners: ports}
	if t.image {
		req.Root = t.root
	}
	for _, p := range ports {
		req.Bind = append(req.Bind, endpointsFor(cfg, p, candidate)...)
	}
	facts, err := e.prober.Probe(c.Context, req)
	if err != nil {
		return nil, err
	}
	rep := newCheckReport(t, cfg, facts)
	configured := suggest.ListenPorts(cfg)
	for i, p := range ports {
		// A port configured twice is judged once, on its first
		// occurrence, where the duplicate finding says so.
		if slices.Index(ports, p) != i {
			continue
		}
		cand := checker.Candidate{Port: p, SSHDOwn: slices.Contains(configured, p), Endpoints: endpointsFor(cfg, p, candidate)}
		pr := portReport{Port: p}
		if candidate {
			for _, ap := range cand.Endpoints {
				pr.Listen = append(pr.Listen, ap.String())
			}
		} else {
			cand.Others = slices.Delete(slices.Clone(ports), i, i+1)
			pr.Sources = sourcesOf(cfg, p)
			for _, ep := range cfg.Listen {
				if ep.Port == p {
					pr.Listen = append(pr.Listen, ep.String())
				}
			}
		}
		pr.Findings = checker.Check(cand, facts)
		for _, f := range pr.Findings {
			rep.Findings = append(rep.Findings, jsonFinding(f))
		}
		rep.Checked = append(rep.Checked, pr)
	}
	return rep, nil
}

// endpointsFor returns the addresses sshd binds (or would bind) for port.
func endpointsFor(cfg *sshcfg.Config, port int, candidate bool) []netip.AddrPort {
	var out []netip.AddrPort
	add := func(addr string) {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		ap := netip.AddrPortFrom(a.WithZone(""), uint16(port))
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	for _, ep := range cfg.Listen {
		if ep.Port == port || candidate {
			add(ep.Address)
		}
	}
	return out
}

// sourcesOf says where port comes from: Port lines and ListenAddress lines.
func sourcesOf(cfg *sshcfg.Config, port int) []source {
	var out []source
	for _, p := range cfg.Ports {
		if p.Port != port {
			continue
		}
		if p.Default {
			out = append(out, source{Default: true})
			continue
		}
		out = append(out, source{File: p.File, Line: p.Line, Directive: "Port " + p.Value})
	}
	for _, la := range cfg.ListenAddresses {
		if la.Port == port {
			out = append(out, source{File: la.File, Line: la.Line, Directive: "ListenAddress " + la.String()})
		}
	}
	return out
}

func verdict(fs []checker.Finding) string {
	if len(fs) == 0 {
		return "OK: safe to keep"
	}
	for _, f := range fs {
		if f.Severity == checker.SevError {
			return "CONFLICT: sshd cannot use this port as it stands"
		}
	}
	return "MOVE: consider `sshport suggest` for a safer port"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }
