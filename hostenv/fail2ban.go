package hostenv

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Fail2ban is fail2ban's jails that guard an old port.
type Fail2ban struct {
	Enabled bool `json:"enabled"` // fail2ban.service is enabled
	// Jails are the enabled jails whose port names an old port or "ssh".
	Jails []Jail `json:"jails"`
}

// Jail is one enabled fail2ban jail guarding an old port.
type Jail struct {
	Name string `json:"name"`
	Port string `json:"port"` // the effective port value, interpolated
	// PortAt is the line that sets it; Local when that file is one an
	// admin edits (*.local), else the new value goes in a .local override.
	PortAt Location `json:"port_at"`
	Local  bool     `json:"local"`
}

type iniValue struct {
	val string
	at  Location
}

type iniFile struct {
	sections map[string]map[string]iniValue
	order    []string
}

// fail2banFiles lists jail files in fail2ban's reading order:
// jail.conf, jail.d/*.conf, jail.local, jail.d/*.local (later ones override).
func (d *detector) fail2banFiles() []string {
	out := []string{"etc/fail2ban/jail.conf"}
	out = append(out, d.glob("etc/fail2ban/jail.d", ".conf")...)
	out = append(out, "etc/fail2ban/jail.local")
	return append(out, d.glob("etc/fail2ban/jail.d", ".local")...)
}

func (d *detector) fail2ban() Fail2ban {
	f := Fail2ban{Jails: []Jail{}}
	f.Enabled = d.unitEnabled("fail2ban.service", "multi-user.target")
	if !f.Enabled {
		return f
	}
	ini := &iniFile{sections: map[string]map[string]iniValue{}}
	for _, name := range d.fail2banFiles() {
		if b := d.read(name); b != nil {
			ini.parse("/"+name, string(b))
		}
	}
	for _, sec := range ini.order {
		if sec == "DEFAULT" || sec == "INCLUDES" || sec == "Definition" || sec == "Init" {
			continue
		}
		en, _ := ini.get(sec, "enabled", 0)
		if !iniTrue(en.val) {
			continue
		}
		port, ok := ini.get(sec, "port", 0)
		if !ok {
			continue
		}
		guards := false
		for _, it := range strings.Split(port.val, ",") {
			if n, ok := portValue(it); ok && (strings.TrimSpace(it) == "ssh" || slices.Contains(d.o.OldPorts, n)) {
				guards = true
			}
		}
		if guards {
			f.Jails = append(f.Jails, Jail{Name: sec, Port: port.val, PortAt: port.at, Local: strings.HasSuffix(port.at.File, ".local")})
		}
	}
	return f
}

func iniTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "on":
		return true
	}
	return false
}

var inlineComment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s;.*$`) })

// parse reads one file the way Python's configparser does with
// fail2ban's settings: [section] headers, "key = value" or "key: value",
// keys case-insensitive, indented lines continue a value, # and ; start a
// comment line, " ;" an inline comment. Values of a later file replace
// earlier ones key by key; the replaced value stays reachable as known/KEY.
func (f *iniFile) parse(name, text string) {
	sec := ""
	var lastKey string
	for i, raw := range strings.Split(text, "\n") {
		l := strings.TrimRight(raw, "\r")
		t := strings.TrimSpace(l)
		if t == "" {
			lastKey = ""
			continue
		}
		if t[0] == '#' || t[0] == ';' {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && lastKey != "" && sec != "" {
			v := f.sections[sec][lastKey]
			v.val += "\n" + inlineComment().ReplaceAllString(t, "")
			f.sections[sec][lastKey] = v
			continue
		}
		if t[0] == '[' && strings.HasSuffix(t, "]") {
			sec = t[1 : len(t)-1]
			if f.sections[sec] == nil {
				f.sections[sec] = map[string]iniValue{}
				f.order = append(f.order, sec)
			}
			lastKey = ""
			continue
		}
		if sec == "" {
			continue
		}
		k, v, ok := cutFirst(t, "=:")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(inlineComment().ReplaceAllString(v, ""))
		if old, ok := f.sections[sec][k]; ok && !strings.HasPrefix(k, "known/") {
			f.sections[sec]["known/"+k] = old
		}
		f.sections[sec][k] = iniValue{val: v, at: Location{File: name, Line: i + 1, Text: l}}
		lastKey = k
	}
}

func cutFirst(s, seps string) (string, string, bool) {
	i := strings.IndexAny(s, seps)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

var interp = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`%\(([^)]+)\)s`) })

// get returns sec's key (or DEFAULT's), with %(name)s interpolated from
// the same section, then DEFAULT; __name__ is the section name.
func (f *iniFile) get(sec, key string, depth int) (iniValue, bool) {
	v, ok := f.sections[sec][key]
	if !ok {
		v, ok = f.sections["DEFAULT"][key]
	}
	if !ok || depth > 10 {
		return v, ok
	}
	v.val = interp().ReplaceAllStringFunc(v.val, func(m string) string {
		name := strings.ToLower(interp().FindStringSubmatch(m)[1])
		if name == "__name__" {
			return sec
		}
		if r, ok := f.get(sec, name, depth+1); ok {
			return r.val
		}
		return m
	})
	return v, true
}
