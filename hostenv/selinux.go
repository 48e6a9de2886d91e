package hostenv

import (
	"strconv"
	"strings"
)

// SELinux is the SELinux state and the new port's type.
type SELinux struct {
	// Mode is "enforcing", "permissive" or "disabled"; "" when SELinux is
	// not installed. Live, the kernel's /sys/fs/selinux/enforce wins over
	// /etc/selinux/config (which says what the next boot does).
	Mode     string `json:"mode"`
	ModeFrom string `json:"mode_from,omitempty"`
	// PortType is the type the new port is defined with (ssh_port_t,
	// http_port_t, ...), "" when it has none of its own (only a generic
	// range such as unreserved_port_t covers it).
	PortType string `json:"port_type"`
	// PortTypeKnown: PortType was read (`semanage port -l`, live only).
	PortTypeKnown bool `json:"port_type_known"`
}

func (d *detector) selinux() SELinux {
	var s SELinux
	if kv := keyValues(d.read("etc/selinux/config")); kv["SELINUX"] != "" {
		s.Mode, s.ModeFrom = strings.ToLower(kv["SELINUX"]), "/etc/selinux/config"
	}
	if d.o.Live && s.Mode != "" {
		switch strings.TrimSpace(string(d.read("sys/fs/selinux/enforce"))) {
		case "1":
			s.Mode, s.ModeFrom = "enforcing", "/sys/fs/selinux/enforce"
		case "0":
			s.Mode, s.ModeFrom = "permissive", "/sys/fs/selinux/enforce"
		case "":
			if !d.exists("sys/fs/selinux") {
				s.Mode, s.ModeFrom = "disabled", "no /sys/fs/selinux: the running kernel has SELinux off"
			}
		}
	}
	if s.Mode == "enforcing" || s.Mode == "permissive" {
		if d.o.Live && d.o.NewPort > 0 {
			out, err := d.o.Runner.Output(d.ctx, "semanage", "port", "-l")
			if err != nil {
				d.notes = append(d.notes, "cannot list SELinux port types (semanage port -l): "+err.Error())
			} else {
				s.PortType, s.PortTypeKnown = semanagePortType(string(out), d.o.NewPort), true
			}
		}
	}
	return s
}

// semanagePortType finds the type `semanage port -l` gives port itself
// (not a range that merely covers it).
func semanagePortType(out string, port int) string {
	want := strconv.Itoa(port)
	for _, l := range strings.Split(out, "\n") {
		w := strings.Fields(l)
		if len(w) < 3 || w[1] != "tcp" {
			continue
		}
		for _, item := range strings.Split(strings.Join(w[2:], ""), ",") {
			if item == want {
				return w[0]
			}
		}
	}
	return ""
}
