package hostenv

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

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

// unitDirs are systemd's unit directories, highest precedence first.
var unitDirs = []string{"etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"}

func (d *detector) unitFile(name string) string {
	for _, dir := range unitDirs {
		if p := dir + "/" + name; d.exists(p) {
			return p
		}
	}
	return ""
}

// dropIns lists name's drop-ins in the order systemd applies them: by
// file name, a name in a higher-precedence directory hiding the same name
// in a lower one.
func (d *detector) dropIns(name string) []string {
	byBase := map[string]string{}
	var bases []string
	for i := len(unitDirs) - 1; i >= 0; i-- {
		for _, p := range d.glob(unitDirs[i]+"/"+name+".d", ".conf") {
			b := path.Base(p)
			if _, ok := byBase[b]; !ok {
				bases = append(bases, b)
			}
			byBase[b] = p
		}
	}
	slices.Sort(bases)
	out := make([]string, len(bases))
	for i, b := range bases {
		out[i] = byBase[b]
	}
	return out
}

func (d *detector) systemd() Systemd {
	var s Systemd
	if d.o.Live {
		s.Present = d.exists("run/systemd/system")
	} else {
		s.Present = d.exists("usr/lib/systemd/systemd") || d.exists("lib/systemd/systemd")
	}
	for _, base := range []string{"ssh", "sshd"} {
		if d.unitFile(base+".service") == "" {
			continue
		}
		s.Service = base + ".service"
		if d.unitFile(base+".socket") != "" {
			s.Socket = base + ".socket"
			s.SocketEnabled = d.unitEnabled(s.Socket, "sockets.target")
		}
		break
	}
	s.Generator = d.exists("usr/lib/systemd/system-generators/sshd-socket-generator") || d.exists("lib/systemd/system-generators/sshd-socket-generator")
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
	if s.Service == "" {
		return s
	}
	d.execStart(&s)
	return s
}

// execStart reads the service's ExecStart (after drop-ins, an empty
// ExecStart= resetting the list) for -p, -o Port= and -f, expanding
// $VAR and ${VAR} from Environment= and EnvironmentFile=.
func (d *detector) execStart(s *Systemd) {
	files := append([]string{d.unitFile(s.Service)}, d.dropIns(s.Service)...)
	var exec Location
	env := map[string]Location{}
	envVal := map[string]string{}
	for _, f := range files {
		b := d.read(f)
		section := ""
		sc := bufio.NewScanner(bytes.NewReader(b))
		n := 0
		for sc.Scan() {
			n++
			raw := sc.Text()
			l := strings.TrimSpace(raw)
			if l == "" || l[0] == '#' || l[0] == ';' {
				continue
			}
			if l[0] == '[' {
				section = strings.Trim(l, "[]")
				continue
			}
			if section != "Service" {
				continue
			}
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "ExecStart":
				if v == "" {
					exec = Location{}
				} else {
					exec = Location{File: "/" + f, Line: n, Text: raw}
				}
			case "KillMode":
				s.KillModeProcess = v == "process"
			case "Environment":
				for _, w := range splitWords(v) {
					if a, b, ok := strings.Cut(w, "="); ok {
						envVal[a], env[a] = b, Location{File: "/" + f, Line: n, Text: raw}
					}
				}
			case "EnvironmentFile":
				name := strings.TrimPrefix(v, "-")
				eb := d.read(strings.TrimPrefix(name, "/"))
				for i, el := range strings.Split(string(eb), "\n") {
					kv := keyValues([]byte(el))
					for a, b := range kv {
						envVal[a], env[a] = b, Location{File: name, Line: i + 1, Text: el}
					}
				}
			}
		}
	}
	if exec.File == "" {
		return
	}
	_, cmdline, _ := strings.Cut(exec.Text, "=")
	words := splitWords(cmdline)
	// Expand variables word by word, remembering where each word came from.
	var args []string
	var from []Location
	for _, w := range words {
		if m := varRE().FindStringSubmatch(w); m != nil && m[0] == w {
			name := m[1] + m[2]
			for _, x := range strings.Fields(envVal[name]) {
				args = append(args, x)
				from = append(from, env[name])
			}
			continue
		}
		if len(args) == 0 {
			w = strings.TrimLeft(w, "-@:+!|")
		}
		args = append(args, w)
		from = append(from, exec)
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		val, at := "", from[i]
		opt := ""
		switch {
		case a == "-p" || a == "-f" || a == "-o":
			if i+1 < len(args) {
				opt, val, at = a, args[i+1], from[i+1]
				i++
			}
		case strings.HasPrefix(a, "-p") || strings.HasPrefix(a, "-f") || strings.HasPrefix(a, "-o"):
			opt, val = a[:2], a[2:]
		}
		switch opt {
		case "-p":
			if p, err := strconv.Atoi(val); err == nil {
				s.ExecPorts = append(s.ExecPorts, p)
				s.ExecPortAt = at
			}
		case "-o":
			k, v, _ := strings.Cut(val, "=")
			if strings.EqualFold(strings.TrimSpace(k), "port") {
				if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					s.ExecPorts = append(s.ExecPorts, p)
					s.ExecPortAt = at
				}
			}
		case "-f":
			s.ExecConfig = val
		}
	}
}

var varRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`) })

// splitWords splits a unit value into words: white space separates,
// double and single quotes group.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == q:
			q = 0
		case q != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			q, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// WithService returns s with sshd's units as checker.ReadService read them
// (the full unit-file reading that check reports: search path, drop-ins,
// masks, aliases, EnvironmentFile expansion), so that the next steps and
// check never disagree about what starts sshd. Present, Init and
// KillModeProcess stay as Detect found them. A nil svc, or one that found
// no systemd unit, leaves s as it is.
func (s Systemd) WithService(fsys fs.FS, svc *checker.ServiceFacts) Systemd {
	if svc == nil || svc.Manager != "systemd" {
		return s
	}
	s.Service, s.Socket = svc.Service, svc.Socket
	// The socket holds the port when it is enabled and not masked; the
	// generator matters only while nothing overrides its ListenStream=.
	s.SocketEnabled = svc.SocketActive
	s.Generator = svc.SocketFollowsConfig
	s.ExecPorts, s.ExecPortAt = []int{}, Location{}
	for _, a := range svc.Ports() {
		p, err := strconv.Atoi(a.Value)
		if err != nil {
			continue
		}
		if len(s.ExecPorts) == 0 {
			s.ExecPortAt = Location{File: a.File, Line: a.Line, Text: lineOf(fsys, a.File, a.Line)}
		}
		s.ExecPorts = append(s.ExecPorts, p)
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
