package hostenv

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Firewall kinds.
const (
	FirewallUFW       = "ufw"
	FirewallFirewalld = "firewalld"
	FirewallNftables  = "nftables"
	FirewallIPTables  = "iptables"
)

// Firewall is the host firewall in use, the first of ufw, firewalld,
// nftables and iptables found enabled (ufw and firewalld drive nftables or
// iptables themselves, so their own rules are the ones to change).
type Firewall struct {
	Kind      string     `json:"kind"` // "" when none is enabled
	UFW       *UFW       `json:"ufw,omitempty"`
	Firewalld *Firewalld `json:"firewalld,omitempty"`
	Nft       *Nft       `json:"nftables,omitempty"`
	IPTables  *IPTables  `json:"iptables,omitempty"`
}

// UFW is an enabled ufw (ENABLED=yes in /etc/ufw/ufw.conf).
type UFW struct {
	// OldRules are the rules allowing an old port from anywhere, as
	// `ufw delete` takes them: "allow 22/tcp", "limit OpenSSH".
	OldRules []UFWRule `json:"old_rules"`
	// RuleFiles are ufw's saved rule files present ("/etc/ufw/user.rules",
	// "/etc/ufw/user6.rules").
	RuleFiles []string `json:"rule_files"`
}

// UFWRule is one ufw rule that lets an old port in.
type UFWRule struct {
	Port   int    `json:"port"`
	Action string `json:"action"` // allow, limit
	Spec   string `json:"spec"`   // "22/tcp", "22", "OpenSSH"
}

// Firewalld is an enabled firewalld.
type Firewalld struct {
	Zone     string   `json:"zone"`
	ZoneFrom string   `json:"zone_from"` // how the zone was found, in words
	Services []string `json:"services"`  // services the zone allows
	Ports    []string `json:"ports"`     // "22/tcp" entries of the zone
}

// Nft is an nftables ruleset with a filtering input chain.
type Nft struct {
	// File is the ruleset the distribution loads at boot
	// ("/etc/nftables.conf", "/etc/sysconfig/nftables.conf").
	File string `json:"file"`
	// Filters: an input chain drops what it does not accept (policy drop or
	// a final drop/reject rule); without it nothing needs opening.
	Filters bool `json:"filters"`
	// Rules accept an old port: in the live ruleset (Handle set) and in
	// the file (At set).
	Rules []NftRule `json:"rules"`
	// Chain is the filtering input chain ("inet filter input"), and
	// ChainAt its hook line in the file, for a rule when no old one exists.
	Chain   string   `json:"chain"`
	ChainAt Location `json:"chain_at"`
	// Live: the live ruleset was read.
	Live bool `json:"live"`
}

// NftRule is a rule accepting an old port.
type NftRule struct {
	Port   int    `json:"port"`
	Chain  string `json:"chain"`  // "inet filter input"
	Handle int    `json:"handle"` // live rule handle, 0 from the file
	// Text is the rule in nft syntax with the port's operand replaced by
	// "{PORT}"; "" when the live rule has an expression this reader does not
	// render (then JSON holds it).
	Text string `json:"text"`
	// JSON is the live rule's expression list with the port operand
	// replaced by the number 0xFFFFFF (to substitute), for `nft -j -f -`.
	JSON string   `json:"json,omitempty"`
	At   Location `json:"at"`
}

// IPTables is an iptables ruleset saved for boot (iptables-persistent or
// the iptables service).
type IPTables struct {
	Files []IPTablesFile `json:"files"`
}

// IPTablesFile is one saved ruleset (IPv4 or IPv6).
type IPTablesFile struct {
	File    string `json:"file"`
	Command string `json:"command"` // iptables or ip6tables
	Filters bool   `json:"filters"` // INPUT policy DROP or a final -j DROP/REJECT
	// Rules accept an old port; Number is the rule's position in INPUT.
	Rules []IPTablesRule `json:"rules"`
	// InputAt is the ":INPUT" policy line, for a rule when none exists.
	InputAt Location `json:"input_at"`
}

// IPTablesRule is a saved INPUT rule accepting an old port.
type IPTablesRule struct {
	Port   int      `json:"port"`
	Number int      `json:"number"`
	Spec   string   `json:"spec"` // the rule after "-A INPUT ", port replaced by {PORT}
	At     Location `json:"at"`
}

func (d *detector) firewall() Firewall {
	var fw Firewall
	if kv := keyValues(d.read("etc/ufw/ufw.conf")); strings.EqualFold(kv["ENABLED"], "yes") {
		fw.Kind, fw.UFW = FirewallUFW, d.ufw()
		return fw
	}
	if d.unitEnabled("firewalld.service", "multi-user.target", "graphical.target") {
		fw.Kind, fw.Firewalld = FirewallFirewalld, d.firewalld()
		return fw
	}
	if d.unitEnabled("nftables.service", "multi-user.target", "sysinit.target", "network-pre.target") {
		if n := d.nft(); n != nil {
			fw.Kind, fw.Nft = FirewallNftables, n
			return fw
		}
	}
	if d.unitEnabled("netfilter-persistent.service", "multi-user.target", "sysinit.target", "network-pre.target") ||
		d.unitEnabled("iptables.service", "multi-user.target", "basic.target") {
		if ipt := d.iptables(); ipt != nil {
			fw.Kind, fw.IPTables = FirewallIPTables, ipt
		}
	}
	return fw
}

func (d *detector) ufw() *UFW {
	u := &UFW{OldRules: []UFWRule{}, RuleFiles: []string{}}
	for _, f := range []string{"etc/ufw/user.rules", "etc/ufw/user6.rules"} {
		b := d.read(f)
		if b == nil {
			continue
		}
		u.RuleFiles = append(u.RuleFiles, "/"+f)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			l, ok := strings.CutPrefix(sc.Text(), "### tuple ### ")
			if !ok {
				continue
			}
			// ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIRECTION
			w := strings.Fields(l)
			if len(w) < 7 || (w[0] != "allow" && w[0] != "limit") || w[len(w)-1] != "in" {
				continue
			}
			if w[4] != "any" || !anyAddr(w[3]) || !anyAddr(w[5]) {
				continue
			}
			for _, p := range d.o.OldPorts {
				if !portListHas(w[2], p, ",") {
					continue
				}
				r := UFWRule{Port: p, Action: w[0], Spec: w[2]}
				if w[1] != "any" {
					r.Spec += "/" + w[1]
				}
				if len(w) == 9 && w[6] != "-" {
					r.Spec = strings.ReplaceAll(w[6], "%20", " ")
				}
				if !slices.Contains(u.OldRules, r) {
					u.OldRules = append(u.OldRules, r)
				}
			}
		}
	}
	return u
}

func anyAddr(s string) bool { return s == "0.0.0.0/0" || s == "::/0" || s == "any" }

// portListHas reports whether a list of ports and ranges ("22,80",
// "1000:2000", "ssh") names port.
func portListHas(list string, port int, sep string) bool {
	for _, it := range strings.Split(list, sep) {
		it = strings.TrimSpace(it)
		lo, hi, isRange := strings.Cut(it, ":")
		if !isRange {
			lo, hi, isRange = strings.Cut(it, "-")
		}
		a, ok1 := portValue(lo)
		if !isRange {
			if ok1 && a == port {
				return true
			}
			continue
		}
		b, ok2 := portValue(hi)
		if ok1 && ok2 && a <= port && port <= b {
			return true
		}
	}
	return false
}

// portValue reads a port number or the service name ssh.
func portValue(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "ssh" {
		return 22, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 65535
}

func (d *detector) firewalld() *Firewalld {
	f := &Firewalld{Services: []string{}, Ports: []string{}}
	f.Zone, f.ZoneFrom = "public", "firewalld's built-in default zone"
	if z := keyValues(d.read("etc/firewalld/firewalld.conf"))["DefaultZone"]; z != "" {
		f.Zone, f.ZoneFrom = z, "DefaultZone in /etc/firewalld/firewalld.conf"
	}
	if d.o.Live {
		if ifc := defaultRouteInterface(d.read("proc/net/route")); ifc != "" {
			if z := d.zoneOfInterface(ifc); z != "" {
				f.Zone, f.ZoneFrom = z, "the zone of "+ifc+", the default route's interface"
			}
		}
	}
	b := d.read("etc/firewalld/zones/" + f.Zone + ".xml")
	if b == nil {
		b = d.read("usr/lib/firewalld/zones/" + f.Zone + ".xml")
	}
	var z fwZone
	if xml.Unmarshal(b, &z) == nil {
		for _, s := range z.Services {
			f.Services = append(f.Services, s.Name)
		}
		for _, p := range z.Ports {
			f.Ports = append(f.Ports, p.Port+"/"+p.Protocol)
		}
	}
	return f
}

type fwZone struct {
	Interfaces []struct {
		Name string `xml:"name,attr"`
	} `xml:"interface"`
	Services []struct {
		Name string `xml:"name,attr"`
	} `xml:"service"`
	Ports []struct {
		Port     string `xml:"port,attr"`
		Protocol string `xml:"protocol,attr"`
	} `xml:"port"`
}

// zoneOfInterface finds the zone an interface is bound to: a firewalld
// zone file naming it, or its NetworkManager connection's zone=.
func (d *detector) zoneOfInterface(ifc string) string {
	for _, f := range d.glob("etc/firewalld/zones", ".xml") {
		var z fwZone
		if xml.Unmarshal(d.read(f), &z) == nil {
			for _, i := range z.Interfaces {
				if i.Name == ifc {
					return strings.TrimSuffix(path.Base(f), ".xml")
				}
			}
		}
	}
	for _, f := range d.glob("etc/NetworkManager/system-connections", ".nmconnection") {
		var name, zone string
		for _, l := range strings.Split(string(d.read(f)), "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "interface-name="); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(l, "zone="); ok {
				zone = v
			}
		}
		if name == ifc && zone != "" {
			return zone
		}
	}
	return ""
}

// defaultRouteInterface reads /proc/net/route for the interface of the
// IPv4 default route.
func defaultRouteInterface(b []byte) string {
	for _, l := range strings.Split(string(b), "\n")[1:] {
		w := strings.Fields(l)
		if len(w) > 7 && w[1] == "00000000" && w[7] == "00000000" {
			return w[0]
		}
	}
	return ""
}

// iptables reads the saved rulesets.
func (d *detector) iptables() *IPTables {
	ipt := &IPTables{}
	for _, c := range []struct{ file, cmd string }{
		{"etc/iptables/rules.v4", "iptables"}, {"etc/iptables/rules.v6", "ip6tables"},
		{"etc/sysconfig/iptables", "iptables"}, {"etc/sysconfig/ip6tables", "ip6tables"},
	} {
		b := d.read(c.file)
		if b == nil {
			continue
		}
		ipt.Files = append(ipt.Files, d.iptablesFile("/"+c.file, c.cmd, b))
	}
	if len(ipt.Files) == 0 {
		return nil
	}
	return ipt
}

var dportRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(--dports?|--destination-ports?)\s+(\S+)`) })

func (d *detector) iptablesFile(name, cmd string, b []byte) IPTablesFile {
	f := IPTablesFile{File: name, Command: cmd, Rules: []IPTablesRule{}}
	table := ""
	num := 0
	lines := strings.Split(string(b), "\n")
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case table != "filter":
		case strings.HasPrefix(l, ":INPUT "):
			f.InputAt = Location{File: name, Line: i + 1, Text: raw}
			f.Filters = f.Filters || strings.Fields(l)[1] == "DROP"
		case strings.HasPrefix(l, "-A INPUT "):
			num++
			spec := strings.TrimPrefix(l, "-A INPUT ")
			if isFinalDrop(spec) {
				f.Filters = true
			}
			m := dportRE().FindStringSubmatchIndex(spec)
			if m == nil || !strings.Contains(spec, "-j ACCEPT") {
				continue
			}
			for _, p := range d.o.OldPorts {
				if portListHas(spec[m[4]:m[5]], p, ",") {
					tmpl := spec[:m[2]] + "--dport {PORT}" + spec[m[5]:]
					tmpl = strings.Replace(tmpl, "-m multiport ", "", 1)
					f.Rules = append(f.Rules, IPTablesRule{Port: p, Number: num, Spec: tmpl, At: Location{File: name, Line: i + 1, Text: raw}})
				}
			}
		}
	}
	return f
}

// isFinalDrop: an INPUT rule dropping or rejecting every packet it sees.
func isFinalDrop(spec string) bool {
	w := strings.Fields(spec)
	return len(w) == 2 && w[0] == "-j" && (w[1] == "DROP" || w[1] == "REJECT") ||
		len(w) >= 2 && w[0] == "-j" && w[1] == "REJECT"
}

// Insert returns the nft command inserting before r the same rule for
// port (the live handle, else at the top of the chain).
func (r NftRule) Insert(port int) string {
	switch {
	case r.Text != "" && r.Handle > 0:
		return fmt.Sprintf("nft insert rule %s handle %d %s", quoteWords(strings.Fields(r.Chain)), r.Handle, quoteWords(strings.Fields(strings.ReplaceAll(r.Text, "{PORT}", strconv.Itoa(port)))))
	case r.Text != "" || r.JSON == "":
		return fmt.Sprintf("nft insert rule %s %s", quoteWords(strings.Fields(r.Chain)), quoteWords(strings.Fields(strings.ReplaceAll(r.Text, "{PORT}", strconv.Itoa(port)))))
	}
	j := strings.ReplaceAll(r.JSON, strconv.Itoa(jsonPortMark), strconv.Itoa(port))
	return "echo '" + strings.ReplaceAll(j, "'", `'\''`) + "' | nft -j -f -"
}

// quoteWords quotes each word for a POSIX shell where it needs it and
// joins them with spaces (nft joins its arguments again before parsing).
func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
			q[i] = w
			continue
		}
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// SplitWords splits a line into words as a shell or a unit file would:
// white space separates, double and single quotes group.
func SplitWords(s string) []string { return splitWords(s) }

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
