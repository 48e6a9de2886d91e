package main

import (
	"fmt"
	"io"
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
			"inside the OS ephemeral range, in IANA's dynamic range, assigned by IANA to another service,\n" +
			"an alternate SSH port scanners probe (2222, 10022, ...). A port with no finding is safe:\n" +
			"suggest keeps it; one with a finding is what suggest moves.\n" +
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
	defer t.root.Close()
	b := readService(t)
	cfg, err := t.loadArgs(b.cmdArgs)
	if err != nil {
		return err
	}
	if cfg.Missing && !b.defaultF {
		// sshd -f MISSING does not start; only the default path missing
		// means "sshd's defaults" (a machine without sshd).
		return &exitErr{code: exitError, err: fmt.Errorf("%s: no such file: sshd would refuse to start (\"No such file or directory\")", t.config)}
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
	req := checker.Request{Live: live, Root: t.root, Owners: ports, SSHD: live && !t.image, PIDFiles: pidFiles(cfg),
		Families: !candidate && checker.SingleFamily(b.eps)}
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
		return suggest.Endpoints(cfg, port, true)
	}
	return b.epsOf(port)
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

// The JSON wire format of check. Field names are stable; slices are never null.

type checkReport struct {
	Config   string       `json:"config"`
	Root     string       `json:"root,omitempty"`
	Missing  bool         `json:"missing"`
	Files    []string     `json:"files"`
	Ports    []jsonPort   `json:"ports"`
	Family   string       `json:"address_family"`
	Listen   []jsonListen `json:"listen"`
	Findings []jsonFind   `json:"findings"`
	Warnings []string     `json:"warnings"`
	// Incomplete: an Include could not be read in full (see warnings);
	// the ports may be incomplete.
	Incomplete bool     `json:"incomplete"`
	Host       jsonHost `json:"host"`
	OK         bool     `json:"ok"`
	// Bind, Systemd and Running: see check_service.go.
	Bind    []jsonBind            `json:"bind"`
	Systemd *checker.ServiceFacts `json:"systemd"`
	Running []jsonRunning         `json:"running"`
	Apply   string                `json:"apply,omitempty"` // the step that makes the running sshd take an edited configuration
	General []checker.Finding     `json:"-"`               // findings about no judged port
	// serviceRuns: the system's sshd service runs this configuration, not
	// the one checked ("" when it runs the one checked, or none is found).
	serviceRuns string
	Checked     []portReport `json:"-"`
}

type jsonPort struct {
	Port    int    `json:"port"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Default bool   `json:"default,omitempty"`
	Cmdline bool   `json:"cmdline,omitempty"` // from sshd's command line (-p, -o Port=): file and line are where that is written
}

type jsonListen struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	RDomain string `json:"rdomain,omitempty"`
}

type jsonFind struct {
	Port     int    `json:"port"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type jsonHost struct {
	OS              string   `json:"os"`
	Ephemeral       string   `json:"ephemeral_range"`
	EphemeralSource string   `json:"ephemeral_source"`
	Reserved        []string `json:"reserved_ports"`
	ListenMethod    string   `json:"listen_method"`
	Notes           []string `json:"notes"`
}

// portReport is one port's block in the text report.
type portReport struct {
	Port     int
	Sources  []source
	Listen   []string
	Findings []checker.Finding
}

type source struct {
	File      string
	Line      int
	Directive string
	Default   bool
}

func jsonFinding(f checker.Finding) jsonFind {
	return jsonFind{Port: f.Port, Code: f.Code, Severity: f.Severity, Message: f.Message}
}

func newCheckReport(t target, cfg *sshcfg.Config, f checker.Facts) *checkReport {
	r := &checkReport{
		Config: cfg.Main, Missing: cfg.Missing, Family: cfg.AddressFamily,
		Files: []string{}, Ports: []jsonPort{}, Listen: []jsonListen{},
		Findings: []jsonFind{}, Warnings: []string{},
		Host: jsonHost{OS: f.OS, Ephemeral: f.Ephemeral.String(), EphemeralSource: f.EphemeralSource,
			Reserved: []string{}, ListenMethod: f.ListenMethod, Notes: append([]string{}, f.Notes...)},
	}
	if t.image {
		r.Root = t.rootArg
	}
	for _, file := range cfg.Files {
		r.Files = append(r.Files, file.Path)
	}
	for _, p := range cfg.Ports {
		r.Ports = append(r.Ports, jsonPort{Port: p.Port, File: p.File, Line: p.Line, Default: p.Default, Cmdline: p.Cmdline})
	}
	for _, e := range cfg.Listen {
		r.Listen = append(r.Listen, jsonListen{Address: e.Address, Port: e.Port, RDomain: e.RDomain})
	}
	for _, w := range cfg.Warnings {
		r.Warnings = append(r.Warnings, w.Error())
	}
	r.Incomplete = len(cfg.Incomplete) > 0
	for _, res := range f.Reserved {
		r.Host.Reserved = append(r.Host.Reserved, res.String())
	}
	return r
}

func printCheck(w io.Writer, r *checkReport, color bool) {
	p := painter(color)
	fmt.Fprintf(w, "sshd configuration: %s", r.Config)
	if r.Root != "" {
		fmt.Fprintf(w, " (in image %s)", r.Root)
	}
	fmt.Fprintln(w)
	if r.Missing {
		fmt.Fprintf(w, "  the file does not exist: sshd's defaults apply (Port 22, every address)\n")
	} else {
		fmt.Fprintf(w, "  files read: %s\n", joinComma(r.Files))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  %s %s\n", p.paint("33", "warning:"), warn)
	}
	printService(w, r)
	fmt.Fprintf(w, "  address family: %s\n", r.Family)
	fmt.Fprintf(w, "  ephemeral range: %s (%s)\n", r.Host.Ephemeral, r.Host.EphemeralSource)
	fmt.Fprintf(w, "  listening sockets: %s\n", r.Host.ListenMethod)
	for _, n := range r.Host.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	printFindings(w, p, r.General, "\n")
	move := false // a port suggest would move
	for _, pr := range r.Checked {
		fmt.Fprintf(w, "\nPort %d\n", pr.Port)
		for _, s := range pr.Sources {
			if s.Default {
				fmt.Fprintf(w, "  from:    sshd's default (no Port directive)\n")
			} else {
				fmt.Fprintf(w, "  from:    %s line %d: %s\n", s.File, s.Line, s.Directive)
			}
		}
		if len(pr.Sources) == 0 {
			fmt.Fprintf(w, "  from:    --port (a candidate; the configuration is not changed)\n")
		}
		if len(pr.Listen) > 0 {
			fmt.Fprintf(w, "  listen:  %s\n", joinComma(pr.Listen))
		}
		printFindings(w, p, pr.Findings, "")
		v := verdict(pr.Findings)
		move = move || strings.HasPrefix(v, "MOVE") || strings.HasPrefix(v, "CONFLICT")
		if v == verdict(nil) {
			v = p.paint("32", v)
		} else {
			v = p.paint("1", v)
		}
		fmt.Fprintf(w, "  verdict: %s\n", v)
	}
	n := countFindings(r.Findings)
	fmt.Fprintf(w, "\n%s, %s", plural(len(r.Checked), "port", "ports"), plural(n, "finding", "findings"))
	if i := len(r.Findings) - n; i > 0 {
		fmt.Fprintf(w, " (%s)", plural(i, "note", "notes"))
	}
	fmt.Fprint(w, ".")
	if move {
		fmt.Fprintf(w, " Run `sshport suggest` for a safe port and the diff.")
	}
	if r.Incomplete {
		fmt.Fprintf(w, " Part of the configuration could not be read (see the warnings): sshd may use more ports.")
	}
	fmt.Fprintln(w)
}

func printFindings(w io.Writer, p painter, fs []checker.Finding, before string) {
	if len(fs) > 0 {
		fmt.Fprint(w, before)
	}
	for _, f := range fs {
		sev := p.paint("33", f.Severity)
		switch f.Severity {
		case checker.SevError:
			sev = p.paint("31", f.Severity)
		case checker.SevInfo:
			sev = f.Severity
		}
		fmt.Fprintf(w, "  %-7s  [%s] %s\n", sev, f.Code, f.Message)
	}
}
