package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
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
	b := readService(t)
	cfg, err := t.loadArgs(b.cmdArgs)
	if err != nil {
		return err
	}
	if cfg.Missing && !b.defaultF {
		// sshd -f MISSING does not start; only the default path missing
		// means "sshd's defaults" (a machine without sshd).
		return &exitErr{code: exitError, err: fmt.Errorf("%s: no such file: sshd would refuse to start (\"No such file or directory\")", t.display(t.config))}
	}
	b.resolve(t, cfg)
	ports := b.ports()
	if c.IsSet("port") {
		p := c.Int("port")
		if p < 1 || p > 65535 {
			return usageErr("--port %d: not a port number 1-65535", p)
		}
		ports = []int{p}
	}
	rep, err := e.inspect(c, t, cfg, b, ports, c.IsSet("port"), c.Bool("probe"))
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	// A configuration read in part is never a clean answer (exit 1); info
	// findings are notes, not problems.
	rep.OK = countFindings(rep.Findings) == 0 && !rep.Incomplete
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
func (e *env) inspect(c *cli.Context, t target, cfg *sshcfg.Config, b *bound, ports []int, candidate, probe bool) (*checkReport, error) {
	live := !t.image || probe
	req := checker.Request{Live: live, Owners: ports, SSHD: live && !t.image, PIDFiles: pidFiles(cfg),
		Families: !candidate && checker.SingleFamily(b.eps)}
	if t.image {
		req.Root = t.root
	}
	for _, p := range ports {
		req.Bind = append(req.Bind, b.endpoints(cfg, p, candidate)...)
	}
	facts, err := e.prober.Probe(c.Context, req)
	if err != nil {
		return nil, err
	}
	rep := newCheckReport(t, cfg, facts)
	lv := checker.Live{Config: t.config, Socket: b.applies && b.svc.SocketActive, Facts: &facts}
	rep.addService(b, lv, live && !t.image)
	var others []int
	for _, p := range cfg.Ports {
		if slices.Contains(ports, p.Port) {
			others = append(others, p.Port)
		}
	}
	var extra []checker.Finding
	if !candidate {
		extra = append(b.general, checker.FamilyFindings(b.eps, &facts)...)
		if live && !t.image {
			extra = append(extra, checker.RunningFindings(lv, checker.Expect{Endpoints: b.eps, Apply: b.apply})...)
		}
	}
	for i, p := range ports {
		// A port configured twice is judged once, on its first
		// occurrence, where the duplicate finding says so.
		if slices.Index(ports, p) != i {
			continue
		}
		cand := checker.Candidate{Port: p, SSHDOwn: slices.Contains(b.ports(), p), Endpoints: b.endpoints(cfg, p, candidate)}
		if len(facts.SSHD) > 0 || lv.Socket {
			cand.Holder, cand.Describe = lv.Holder, lv.Describe
		}
		pr := portReport{Port: p}
		for _, ap := range cand.Endpoints {
			pr.Listen = append(pr.Listen, ap.String())
		}
		if !candidate {
			if j := slices.Index(others, p); j >= 0 {
				cand.Others = slices.Delete(slices.Clone(others), j, j+1)
			}
			pr.Sources = b.sources[p]
		}
		pr.Findings = checker.Check(cand, facts)
		for _, f := range extra {
			if f.Port == p {
				pr.Findings = append(pr.Findings, f)
			}
		}
		for _, f := range pr.Findings {
			rep.Findings = append(rep.Findings, jsonFinding(f))
		}
		rep.Checked = append(rep.Checked, pr)
	}
	for _, f := range extra {
		if !slices.Contains(ports, f.Port) {
			rep.General = append(rep.General, f)
			rep.Findings = append(rep.Findings, jsonFinding(f))
		}
	}
	return rep, nil
}

// endpoints returns the addresses sshd binds for port, or for a candidate
// port those it would bind.
func (b *bound) endpoints(cfg *sshcfg.Config, port int, candidate bool) []netip.AddrPort {
	if candidate {
		return endpointsFor(cfg, port, true)
	}
	return b.epsOf(port)
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

// countFindings counts the findings that are problems (not info).
func countFindings(fs []jsonFind) int {
	n := 0
	for _, f := range fs {
		if f.Severity != checker.SevInfo {
			n++
		}
	}
	return n
}

func verdict(all []checker.Finding) string {
	var fs []checker.Finding
	for _, f := range all {
		if f.Severity != checker.SevInfo {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return "OK: safe to keep"
	}
	for _, f := range fs {
		if f.Severity == checker.SevError {
			return "CONFLICT: sshd cannot use this port as it stands"
		}
	}
	for _, f := range fs {
		switch f.Code {
		case checker.CodeSocketActivation, checker.CodeNotApplied, checker.CodeCmdlineConfig:
		default:
			return "MOVE: consider `sshport suggest` for a safer port"
		}
	}
	return "PENDING: the port is safe, but sshd does not listen as configured yet (see above)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }
