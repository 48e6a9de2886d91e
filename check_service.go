package main

import (
	"fmt"
	"io"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
)

// bound is what check judges: where sshd (or the socket unit that stands for
// it) really binds, each endpoint traced to the lines that made it.
type bound struct {
	svc       *checker.ServiceFacts
	applies   bool   // the service runs the configuration being checked
	svcConfig string // the configuration the service runs
	by        string // "sshd" or the socket unit's name
	eps       []netip.AddrPort
	sources   map[int][]source // per port
	general   []checker.Finding
	apply     string // the step that makes a running sshd take the file
	cmdArgs   []sshcfg.CmdArg
	defaultF  bool  // the configuration is sshd's default file
	portOrder []int // the configuration's Port values, in order
}

// readService reads how the system starts sshd and which of its command-line
// options apply to the configuration t checks.
func readService(t target) *bound {
	b := &bound{svc: checker.ReadService(t.root), sources: map[int][]source{}, by: "sshd"}
	svcConfig := sshcfg.DefaultConfig
	if b.svc.ConfigFile != "" {
		svcConfig = path.Join("/", b.svc.ConfigFile)
	}
	b.defaultF = path.Clean(t.config) == sshcfg.DefaultConfig
	b.svcConfig = svcConfig
	b.applies = b.svc.Manager != "" && path.Clean(t.config) == svcConfig
	if b.applies {
		for _, a := range b.svc.Args {
			if a.Flag == "p" || a.Flag == "o" && isListenOption(a.Value) {
				b.cmdArgs = append(b.cmdArgs, sshcfg.CmdArg{Flag: a.Flag[0], Value: a.Value, File: a.File, Line: a.Line})
			}
		}
	}
	return b
}

// isListenOption reports whether a -o value sets Port, ListenAddress or AddressFamily.
func isListenOption(v string) bool {
	f := strings.FieldsFunc(v, func(r rune) bool { return r == '=' || r == ' ' || r == '\t' })
	if len(f) == 0 {
		return false
	}
	switch strings.ToLower(f[0]) {
	case "port", "listenaddress", "addressfamily":
		return true
	}
	return false
}

func argWhere(a checker.SSHDArg) string {
	s := fmt.Sprintf("%s line %d", a.File, a.Line)
	if a.Via != "" {
		s += " (" + a.Via + ")"
	}
	return s
}

// resolve computes the endpoints and the findings about the service from
// the loaded configuration.
func (b *bound) resolve(t target, cfg *sshcfg.Config) {
	s := b.svc
	for _, p := range cfg.Ports {
		b.portOrder = append(b.portOrder, p.Port)
	}
	var cfgEps []netip.AddrPort
	for _, ep := range cfg.Listen {
		if a, err := netip.ParseAddr(ep.Address); err == nil {
			ap := netip.AddrPortFrom(a.WithZone(""), uint16(ep.Port))
			if !slices.Contains(cfgEps, ap) {
				cfgEps = append(cfgEps, ap)
			}
		}
	}
	switch {
	case s.Manager == "systemd" && s.Service != "":
		b.apply = "systemctl reload " + s.Service
	case s.Manager == "rc.conf":
		b.apply = "service sshd reload"
	}
	if !b.applies {
		b.apply = "" // not the service's sshd: RunningFindings names kill -HUP PID
	}
	// The service runs sshd with another file.
	if !b.applies && s.Manager != "" && b.defaultF && s.ConfigFile != "" {
		var at checker.SSHDArg
		for _, a := range s.Args {
			if a.Flag == "f" {
				at = a
			}
		}
		b.general = append(b.general, checker.Finding{Port: 0, Code: checker.CodeCmdlineConfig, Severity: checker.SevWarning,
			Message: fmt.Sprintf("%s runs sshd -f %s (%s): sshd reads that file, not %s; check it with --config %s", s.Service, s.ConfigFile, argWhere(at), t.config, s.ConfigFile)})
	}
	socketMode := b.applies && s.SocketActive
	if !socketMode {
		b.eps = cfgEps
		b.configSources(cfg)
		if b.applies {
			for _, a := range s.Args {
				switch {
				case a.Flag == "p":
					b.general = append(b.general, checker.Finding{Port: portOf(cfg, a.Value), Code: checker.CodeCmdlinePort, Severity: checker.SevInfo,
						Message: fmt.Sprintf("%s starts sshd with -p %s (%s): it replaces every Port line of the configuration, so a new port goes there", serviceName(s), a.Value, argWhere(a))})
				case a.Flag == "o" && isListenOption(a.Value):
					b.general = append(b.general, checker.Finding{Port: 0, Code: checker.CodeCmdlinePort, Severity: checker.SevInfo,
						Message: fmt.Sprintf("%s starts sshd with -o %q (%s): sshd reads it before the configuration files", serviceName(s), a.Value, argWhere(a))})
				}
			}
		}
		if s.Socket != "" && !s.SocketActive && !s.SocketMasked && b.applies {
			if eps := socketEndpoints(s); len(eps) > 0 && !sameSet(eps, cfgEps) {
				b.general = append(b.general, checker.Finding{Port: int(eps[0].Port()), Code: checker.CodeSocketActivation, Severity: checker.SevInfo,
					Message: fmt.Sprintf("%s is disabled, so it binds nothing; started or enabled it would listen on %s (%s), not where the configuration says", s.Socket, joinEps(eps), listenWhere(s))})
			}
		}
	} else {
		b.by = s.Socket
		b.apply = "systemctl daemon-reload && systemctl restart " + s.Socket
		sockEps := socketEndpoints(s)
		if t.image && s.SocketFollowsConfig && s.GeneratorFile == "" {
			// An image: the generator writes ListenStream= at boot.
			sockEps = cfgEps
		}
		switch {
		case s.SocketFollowsConfig:
			// The generator writes ListenStream= from the configuration at
			// boot and at daemon-reload: the configuration decides.
			b.eps = cfgEps
			b.configSources(cfg)
			msg := fmt.Sprintf("%s (systemd) binds the port, not sshd; sshd-socket-generator rewrites its ListenStream= from %s at boot and at `systemctl daemon-reload`", s.Socket, t.config)
			sev := checker.SevInfo
			if len(sockEps) > 0 && !sameSet(sockEps, cfgEps) {
				sev = checker.SevWarning
				msg += fmt.Sprintf(": it listens on %s (%s) until `%s`", joinEps(sockEps), listenWhere(s), b.apply)
			} else {
				msg += fmt.Sprintf(": after editing it, run `%s`", b.apply)
			}
			b.general = append(b.general, checker.Finding{Port: firstPort(cfgEps), Code: checker.CodeSocketActivation, Severity: sev, Message: msg})
		default:
			b.eps = sockEps
			for _, l := range s.SocketListen {
				for _, ep := range l.Endpoints {
					p := int(ep.Port())
					src := source{File: l.File, Line: l.Line, Directive: "ListenStream=" + l.Value}
					if !slices.Contains(b.sources[p], src) {
						b.sources[p] = append(b.sources[p], src)
					}
				}
			}
			sev := checker.SevInfo
			msg := fmt.Sprintf("%s (systemd) binds the port, not sshd: it listens on %s (%s)", s.Socket, joinEps(sockEps), listenWhere(s))
			if !sameSet(sockEps, cfgEps) {
				sev = checker.SevWarning
				msg += fmt.Sprintf("; the configuration's %s is not used: change ListenStream= in a drop-in (/etc/systemd/system/%s.d/), then `%s`", joinEps(cfgEps), s.Socket, b.apply)
			}
			b.general = append(b.general, checker.Finding{Port: firstPort(sockEps), Code: checker.CodeSocketActivation, Severity: sev, Message: msg})
		}
	}
	b.overridden(cfg, socketMode && !s.SocketFollowsConfig)
}

func serviceName(s *checker.ServiceFacts) string {
	if s.Manager == "rc.conf" {
		return "rc.conf's sshd_flags"
	}
	return s.Service
}

func portOf(cfg *sshcfg.Config, v string) int {
	for _, p := range cfg.Ports {
		if p.Cmdline && p.Value == v {
			return p.Port
		}
	}
	return 0
}

func firstPort(eps []netip.AddrPort) int {
	if len(eps) == 0 {
		return 0
	}
	return int(eps[0].Port())
}

// configSources traces each port of the configuration's endpoints.
func (b *bound) configSources(cfg *sshcfg.Config) {
	for _, ep := range b.eps {
		p := int(ep.Port())
		if _, done := b.sources[p]; done {
			continue
		}
		b.sources[p] = sourcesOf(cfg, p)
		// A port from the command line: name the option and where it is written.
		for i, src := range b.sources[p] {
			for _, a := range b.svc.Args {
				if a.File == src.File && a.Line == src.Line && (a.Flag == "p" || a.Flag == "o") && strings.Contains(a.Value, strings.TrimPrefix(strings.TrimPrefix(src.Directive, "Port "), "ListenAddress ")) {
					d := "sshd " + a.String()
					if a.Via != "" {
						d = a.Via + ": " + d
					}
					b.sources[p][i].Directive = d
					break
				}
			}
		}
	}
}

// overridden reports the Port lines that bind nothing.
func (b *bound) overridden(cfg *sshcfg.Config, socketDecides bool) {
	ports := map[int]bool{}
	for _, ep := range b.eps {
		ports[int(ep.Port())] = true
	}
	seen := map[string]bool{}
	for _, p := range cfg.Ports {
		if p.Default || ports[p.Port] && !socketDecides {
			continue
		}
		key := fmt.Sprintf("%s:%d", p.File, p.Line)
		if seen[key] {
			continue
		}
		seen[key] = true
		what := "Port " + p.Value
		where := fmt.Sprintf("%s line %d", p.File, p.Line)
		if p.Cmdline {
			what = "sshd -p " + p.Value
		}
		var why string
		switch {
		case socketDecides:
			why = fmt.Sprintf("%s decides where sshd listens (socket-activation)", b.svc.Socket)
		default:
			var las []string
			for _, la := range cfg.ListenAddresses {
				las = append(las, fmt.Sprintf("ListenAddress %s (%s line %d)", la.String(), la.File, la.Line))
			}
			why = "overridden by " + strings.Join(las, ", ") + ": every ListenAddress names its own port"
		}
		b.general = append(b.general, checker.Finding{Port: p.Port, Code: checker.CodePortOverridden, Severity: checker.SevInfo,
			Message: fmt.Sprintf("%s (%s) binds nothing: %s", what, where, why)})
	}
	// With -p, sshd ignores every Port line of the files.
	if b.applies && len(b.svc.Ports()) > 0 {
		for d := range cfg.Directives() {
			if d.Key != "port" || !d.Active || len(d.Line().Args) == 0 {
				continue
			}
			a := b.svc.Ports()[0]
			b.general = append(b.general, checker.Finding{Port: 0, Code: checker.CodePortOverridden, Severity: checker.SevInfo,
				Message: fmt.Sprintf("Port %s (%s line %d) binds nothing: overridden by sshd -p %s (%s)", d.Line().Args[0].Text, d.File, d.Num(), a.Value, argWhere(a))})
		}
	}
}

func socketEndpoints(s *checker.ServiceFacts) []netip.AddrPort {
	var out []netip.AddrPort
	for _, l := range s.SocketListen {
		for _, ep := range l.Endpoints {
			if !slices.Contains(out, ep) {
				out = append(out, ep)
			}
		}
	}
	return out
}

func listenWhere(s *checker.ServiceFacts) string {
	var w []string
	for _, l := range s.SocketListen {
		x := fmt.Sprintf("%s line %d", l.File, l.Line)
		if !slices.Contains(w, x) {
			w = append(w, x)
		}
	}
	if len(w) == 0 {
		return "no ListenStream="
	}
	return strings.Join(w, ", ")
}

func sameSet(a, b []netip.AddrPort) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func joinEps(eps []netip.AddrPort) string {
	s := make([]string, len(eps))
	for i, e := range eps {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// epsOf returns the endpoints of port.
func (b *bound) epsOf(port int) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ep := range b.eps {
		if int(ep.Port()) == port {
			out = append(out, ep)
		}
	}
	return out
}

// ports returns the distinct ports of the endpoints: those of Port lines
// first, in their order, then the others in endpoint order.
func (b *bound) ports() []int {
	var out []int
	for _, p := range b.portOrder {
		if !slices.Contains(out, p) && len(b.epsOf(p)) > 0 {
			out = append(out, p)
		}
	}
	for _, ep := range b.eps {
		if p := int(ep.Port()); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// jsonBind is one endpoint check judges: where sshd, or the socket unit
// that stands for it ("by"), binds.
type jsonBind struct {
	Address string       `json:"address"`
	Port    int          `json:"port"`
	By      string       `json:"by"`
	Sources []jsonSource `json:"sources"`
}

type jsonSource struct {
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Directive string `json:"directive,omitempty"`
	Default   bool   `json:"default,omitempty"`
}

// jsonRunning is one running sshd daemon.
type jsonRunning struct {
	PID    int      `json:"pid"`
	Argv   []string `json:"argv"`
	Config string   `json:"config"` // its -f, or sshd's default
	Ours   bool     `json:"ours"`   // it runs the configuration checked
	Unit   string   `json:"unit,omitempty"`
	Listen []string `json:"listen"`
}

// addService fills the report's bind, systemd and running parts.
func (r *checkReport) addService(b *bound, lv checker.Live, live bool) {
	r.Bind, r.Running, r.Systemd, r.Apply = []jsonBind{}, []jsonRunning{}, b.svc, b.apply
	if b.svc.Manager != "" && !b.applies {
		r.serviceRuns = b.svcConfig
	}
	for _, ep := range b.eps {
		jb := jsonBind{Address: ep.Addr().String(), Port: int(ep.Port()), By: b.by, Sources: []jsonSource{}}
		for _, s := range b.sources[int(ep.Port())] {
			jb.Sources = append(jb.Sources, jsonSource(s))
		}
		r.Bind = append(r.Bind, jb)
	}
	if !live {
		return
	}
	for _, p := range lv.Facts.SSHD {
		jr := jsonRunning{PID: p.PID, Argv: p.Argv, Config: p.Config(), Ours: p.Config() == path.Clean(lv.Config), Unit: p.Unit, Listen: []string{}}
		for _, l := range lv.Facts.Listeners {
			if l.PID == p.PID {
				jr.Listen = append(jr.Listen, l.Endpoint().String())
			}
		}
		r.Running = append(r.Running, jr)
	}
}

// runsOther says, for the "started by" line, that the system's service runs
// another configuration than the one checked (-f FILE).
func runsOther(r *checkReport) string {
	if r.serviceRuns == "" {
		return ""
	}
	return fmt.Sprintf(": it runs %s, not this file", r.serviceRuns)
}

// printService says in the text report how sshd is started and what runs.
func printService(w io.Writer, r *checkReport) {
	s := r.Systemd
	if s == nil {
		return
	}
	switch s.Manager {
	case "systemd":
		var parts []string
		if s.Service != "" {
			st := onOff(s.ServiceEnabled, "enabled", "disabled")
			switch {
			case s.ServiceMasked:
				st = "masked"
			case s.SocketActive && !s.SocketAccept:
				st = "started by " + s.Socket
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", s.Service, st))
		}
		if s.Socket != "" {
			st := onOff(s.SocketEnabled, "enabled", "disabled")
			if s.SocketMasked {
				st = "masked"
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", s.Socket, st))
		}
		fmt.Fprintf(w, "  started by: systemd %s%s\n", strings.Join(parts, ", "), runsOther(r))
		if s.ExecStart != nil {
			fmt.Fprintf(w, "  command: %s (%s line %d)\n", s.ExecStart.Value, s.ExecStart.File, s.ExecStart.Line)
		}
	case "rc.conf":
		fmt.Fprintf(w, "  started by: rc.conf (sshd %s)%s\n", onOff(s.ServiceEnabled, "enabled", "disabled"), runsOther(r))
		if s.ExecStart != nil {
			fmt.Fprintf(w, "  command: %s (%s line %d)\n", s.ExecStart.Value, s.ExecStart.File, s.ExecStart.Line)
		}
	}
	for _, p := range r.Running {
		mark := "another configuration"
		if p.Ours {
			mark = "this configuration"
		}
		fmt.Fprintf(w, "  running: sshd pid %d (%s, %s)", p.PID, p.Config, mark)
		if len(p.Listen) > 0 {
			fmt.Fprintf(w, " on %s", joinComma(p.Listen))
		}
		fmt.Fprintln(w)
	}
}

func onOff(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// pidFiles returns where the configuration's sshd writes its pid: its
// PidFile (a relative one from /, sshd's working directory by then), none
// for "PidFile none", or the usual defaults.
func pidFiles(cfg *sshcfg.Config) []string {
	switch pf := pidFile(cfg); {
	case pf == "":
		return []string{"/run/sshd.pid", "/var/run/sshd.pid"}
	case pf == "none":
		return nil
	case !strings.HasPrefix(pf, "/"):
		return []string{"/" + pf}
	default:
		return []string{pf}
	}
}
