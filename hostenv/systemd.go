package hostenv

import (
	"io/fs"
	"strings"

	"github.com/sshport/sshport/checker"
)

// Systemd is sshd's place in systemd. (A minimal reading: enough to choose
// how the new port is brought live.)
type Systemd struct {
	// Present: systemd manages services (live: /run/systemd/system exists;
	// an image: systemd is installed).
	Present bool `json:"present"`
	// Service is sshd's unit ("ssh.service" on Debian/Ubuntu,
	// "sshd.service" elsewhere), "" when none was found.
	Service string `json:"service"`
	// Socket is the matching socket unit when one is installed.
	Socket string `json:"socket,omitempty"`
	// SocketEnabled: the socket unit is enabled (sockets.target.wants), so
	// systemd, not sshd, holds the port.
	SocketEnabled bool `json:"socket_enabled"`
	// Generator: Ubuntu's sshd-socket-generator is installed; it writes the
	// socket's ListenStream from sshd_config at daemon-reload.
	Generator bool `json:"generator"`
	// ExecPorts are the -p / -o Port= values of the service's ExecStart
	// (they replace every Port line of sshd_config).
	ExecPorts []int `json:"exec_ports"`
	// ExecPortAt is where the -p comes from: a unit file or drop-in
	// ("/etc/systemd/system/ssh.service.d/port.conf") or an EnvironmentFile.
	ExecPortAt Location `json:"exec_port_at"`
	// ExecConfig is the -f FILE of ExecStart, "" when none.
	ExecConfig string `json:"exec_config,omitempty"`
	// Init names another service manager when systemd is absent:
	// "openrc", "sysv" (/etc/init.d) or "bsd" (/etc/rc.d), with sshd's
	// script name in InitName.
	Init     string `json:"init,omitempty"`
	InitName string `json:"init_name,omitempty"`
	// KillModeProcess: stopping the service leaves the sessions' processes
	// alive (Debian's and Fedora's units say KillMode=process).
	KillModeProcess bool `json:"kill_mode_process"`
}

// Location is a line of a file as the system names it.
type Location struct {
	File string `json:"file,omitempty"` // "/etc/..."
	Line int    `json:"line,omitempty"`
	Text string `json:"text,omitempty"` // the line as written
}

func (d *detector) systemd() Systemd {
	var s Systemd
	if d.o.Live {
		s.Present = d.exists("run/systemd/system")
	} else {
		s.Present = d.exists("usr/lib/systemd/systemd") || d.exists("lib/systemd/systemd")
	}
	s.ExecPorts = []int{}
	if !s.Present {
		for _, c := range []struct{ file, init, name string }{
			{"etc/init.d/sshd", "sysv", "sshd"}, {"etc/init.d/ssh", "sysv", "ssh"},
			{"etc/rc.d/sshd", "bsd", "sshd"}, {"usr/local/etc/rc.d/sshd", "bsd", "sshd"},
		} {
			if d.exists(c.file) {
				s.Init, s.InitName = c.init, c.name
				if c.init == "sysv" && (d.exists("sbin/openrc-run") || d.exists("sbin/openrc")) {
					s.Init = "openrc"
				}
				break
			}
		}
	}
	return s.withService(d.fsys, checker.ReadService(d.fsys))
}

// withService fills s with sshd's units as checker.ReadService read them
// (the unit-file reading check reports: search path, drop-ins, masks,
// aliases, EnvironmentFile expansion), so that the next steps and check
// never disagree about what starts sshd. Present and Init are Detect's. A
// svc that found no systemd unit leaves s as it is.
func (s Systemd) withService(fsys fs.FS, svc *checker.ServiceFacts) Systemd {
	if svc == nil || svc.Manager != "systemd" {
		return s
	}
	s.Service, s.Socket = svc.Service, svc.Socket
	s.KillModeProcess = svc.KillMode == "process"
	// The socket holds the port when it is enabled and not masked; the
	// generator matters only while nothing overrides its ListenStream=.
	s.SocketEnabled = svc.SocketActive
	s.Generator = svc.SocketFollowsConfig
	s.ExecPorts, s.ExecPortAt = []int{}, Location{}
	// -p N and -o Port=N both bind a port the edit of sshd_config does
	// not move; the last one names where to change them.
	for _, a := range svc.Args {
		if p, ok := a.Port(); ok {
			s.ExecPorts = append(s.ExecPorts, p)
			s.ExecPortAt = Location{File: a.File, Line: a.Line, Text: lineOf(fsys, a.File, a.Line)}
		}
	}
	s.ExecConfig = svc.ConfigFile
	return s
}

// lineOf returns line n (from 1) of the file name ("/etc/...") in fsys as
// written, "" when it cannot be read.
func lineOf(fsys fs.FS, name string, n int) string {
	b, err := fs.ReadFile(fsys, strings.TrimPrefix(name, "/"))
	if err != nil || n < 1 {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if n > len(lines) {
		return ""
	}
	return strings.TrimSuffix(lines[n-1], "\r")
}
