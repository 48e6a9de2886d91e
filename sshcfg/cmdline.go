package sshcfg

import "fmt"

// CmdlineFile is the name sshd gives the -o options of its command line in
// its messages ("command-line line 0: ...").
const CmdlineFile = "command-line"

// CmdArg is one option of sshd's command line that bears on where it listens:
// -p PORT, or -o "Keyword=value" (-o "Port=2222", -o "ListenAddress=...").
// sshd reads them, in order, before its configuration files. File and Line
// say where the option is written (a unit file's ExecStart, an
// EnvironmentFile, rc.conf), for messages; they may be empty.
type CmdArg struct {
	Flag  byte // 'p' or 'o'
	Value string
	File  string
	Line  int
}

// String gives the option as written on a command line: "-p 2222".
func (a CmdArg) String() string { return fmt.Sprintf("-%c %s", a.Flag, a.Value) }

// commandLine processes the command-line options as sshd's main() does
// before it reads the files: -p adds a port and makes every Port line of the
// files ignored (ports_from_cmdline); -o is a configuration line of its own
// (a Port there adds a port, and does not silence the files' Port lines).
func (l *loader) commandLine() {
	for _, a := range l.opts.Args {
		switch a.Flag {
		case 'p':
			if len(l.cfg.Ports) >= maxPorts {
				l.fatalf(CmdlineFile, 0, "too many ports.")
			}
			p := a2port(a.Value, l.opts.Resolver.Service)
			if p <= 0 {
				l.fatalf(CmdlineFile, 0, "Bad port number: %s (%s)", a.Value, where(a))
			}
			l.portsFromCmdline = true
			l.cfg.Ports = append(l.cfg.Ports, Port{Port: p, File: a.File, Line: a.Line, Value: a.Value, Cmdline: true})
		case 'o':
			f, err := Parse(CmdlineFile, []byte(a.Value))
			if err != nil {
				l.fatalf(CmdlineFile, 0, "%v (%s)", err, where(a))
			}
			np, nl := len(l.cfg.Ports), len(l.cfg.ListenAddresses)
			f.noNum = true
			for i := range f.Len() {
				if !l.line(f, f.Line(i), &state{active: true}, false, 0) {
					l.fatalf(CmdlineFile, 0, "bad option -o %q (%s)", a.Value, where(a))
				}
			}
			for i := np; i < len(l.cfg.Ports); i++ {
				p := &l.cfg.Ports[i]
				p.File, p.Line, p.Cmdline, p.line = a.File, a.Line, true, nil
			}
			for i := nl; i < len(l.cfg.ListenAddresses); i++ {
				la := &l.cfg.ListenAddresses[i]
				la.File, la.Line, la.Cmdline = a.File, a.Line, true
			}
		default:
			l.fatalf(CmdlineFile, 0, "unsupported command-line option -%c", a.Flag)
		}
	}
}

func where(a CmdArg) string {
	if a.File == "" {
		return "sshd " + a.String()
	}
	return fmt.Sprintf("sshd %s at %s line %d", a.String(), a.File, a.Line)
}
