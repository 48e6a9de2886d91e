package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
)

// The JSON wire format. Field names are stable; slices are never null.

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
	Incomplete bool          `json:"incomplete"`
	Host       jsonHost      `json:"host"`
	OK         bool          `json:"ok"`
	Checked    []portReport  `json:"-"`
	facts      checker.Facts `json:"-"`
}

type jsonPort struct {
	Port    int    `json:"port"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Default bool   `json:"default,omitempty"`
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
		Findings: []jsonFind{}, Warnings: []string{}, facts: f,
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
		r.Ports = append(r.Ports, jsonPort{Port: p.Port, File: p.File, Line: p.Line, Default: p.Default})
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

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// colorOK reports whether w is a terminal and NO_COLOR is unset.
func colorOK(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
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
	fmt.Fprintf(w, "  address family: %s\n", r.Family)
	fmt.Fprintf(w, "  ephemeral range: %s (%s)\n", r.Host.Ephemeral, r.Host.EphemeralSource)
	fmt.Fprintf(w, "  listening sockets: %s\n", r.Host.ListenMethod)
	for _, n := range r.Host.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
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
		for _, f := range pr.Findings {
			sev := p.paint("33", f.Severity)
			if f.Severity == checker.SevError {
				sev = p.paint("31", f.Severity)
			}
			fmt.Fprintf(w, "  %-7s  [%s] %s\n", sev, f.Code, f.Message)
		}
		v := verdict(pr.Findings)
		if len(pr.Findings) == 0 {
			v = p.paint("32", v)
		} else {
			v = p.paint("1", v)
		}
		fmt.Fprintf(w, "  verdict: %s\n", v)
	}
	fmt.Fprintf(w, "\n%s, %s.", plural(len(r.Checked), "port", "ports"), plural(len(r.Findings), "finding", "findings"))
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, " Run `sshport suggest` for a safe port and the diff.")
	}
	if r.Incomplete {
		fmt.Fprintf(w, " Part of the configuration could not be read (see the warnings): sshd may use more ports.")
	}
	fmt.Fprintln(w)
}
