package suggest

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/hostenv"
)

// Phase says where a port move stands.
type Phase string

// The phases of a move. A move in one go drops the old ports at once; the
// two-phase migration first listens on both (PhaseKeepOld), then, once
// clients use the new port, drops the old ones (PhaseFinish).
const (
	PhaseMove    Phase = "move"
	PhaseKeepOld Phase = "keep-old"
	PhaseFinish  Phase = "finish"
)

// Step is one thing to do after the edit, in the order steps must run.
type Step struct {
	ID       string   `json:"id"`       // stable name: firewall, selinux, validate, reload, ...
	Why      string   `json:"why"`      // what it is for, from what was detected
	Commands []string `json:"commands"` // exact commands, in order; may be empty (a check by hand)
	When     string   `json:"when"`     // when to run it
}

// StepFacts is everything the next steps depend on.
type StepFacts struct {
	Phase Phase
	Old   []int // ports sshd listens on before the change
	Ports []int // ports it listens on after it
	New   int   // the port moved to

	Applied      bool   // the edit is written
	ApplyCommand string // how to apply it when not Applied
	// Sshport is how to call sshport again with the same target
	// ("sshport -f /x/sshd_config", "sshport --root img").
	Sshport string

	Image bool   // an offline image (--root)
	Root  string // the image directory as given
	// Config is sshd's configuration file as sshd names it; PidFile its
	// PidFile setting ("" when unset).
	Config        string
	DefaultConfig bool
	PidFile       string

	// Reserve: the new port lies in the OS's ephemeral range (a
	// compromise); Reserved is the current ip_local_reserved_ports list.
	Reserve  bool
	Reserved []checker.Range

	Host hostenv.Facts
}

// When phrases.
const (
	whenBefore  = "before sshd is reloaded"
	whenReload  = "once the steps above are done"
	whenAfter   = "after the reload"
	whenVerify  = "after the reload, from another terminal"
	whenClients = "once the new port answers"
	whenLast    = "once every client uses the new port"
	whenImage   = "in the image, before it boots (build recipe or chroot; never on this host)"
	whenBoot    = "after the image's first boot"
	whenAlways  = "until a new login on the new port works"
)

// NextSteps returns what an admin of the system described by f runs after
// the edit, in an order that never closes the working port before the new
// one answers. Under an image every command writes inside the image only.
func NextSteps(f StepFacts) []Step {
	b := &stepBuilder{f: f, added: minus(f.Ports, f.Old), dropped: minus(f.Old, f.Ports)}
	if len(b.added) == 0 && len(b.dropped) == 0 {
		return []Step{}
	}
	b.session()
	if len(b.added) > 0 {
		b.firewallOpen()
		b.cloud()
		b.selinux()
		b.reserve()
	} else if f.Host.SELinux.PortTypeKnown && f.Host.SELinux.PortType != "ssh_port_t" {
		b.selinux()
	}
	b.apply()
	b.validate()
	b.reload()
	b.fail2ban()
	b.verify()
	b.clients()
	if f.Phase == PhaseKeepOld {
		b.finish()
	} else if len(b.dropped) > 0 {
		b.firewallClose()
	}
	return b.steps
}

type stepBuilder struct {
	f              StepFacts
	added, dropped []int
	steps          []Step
	// inserted counts lines the firewall step inserted into each file, so
	// a later deletion of a line after them names the right line.
	inserted map[string][]int
}

func (b *stepBuilder) add(id, why, when string, cmds ...string) {
	if cmds == nil {
		cmds = []string{}
	}
	b.steps = append(b.steps, Step{ID: id, Why: why, Commands: cmds, When: when})
}

// in returns a path of the system: inside the image under --root.
func (b *stepBuilder) in(p string) string {
	if b.f.Image {
		return path.Join(b.f.Root, p)
	}
	return p
}

func (b *stepBuilder) chroot(cmd string) string {
	if b.f.Image {
		return "chroot " + shellQuote(b.f.Root) + " " + cmd
	}
	return cmd
}

func (b *stepBuilder) when(live string) string {
	if b.f.Image {
		return whenImage
	}
	return live
}

func (b *stepBuilder) session() {
	if b.f.Image {
		return
	}
	b.add("session", "keep this SSH session open: a reload keeps open sessions, and a mistake only shows in new logins", whenAlways)
}

func ports(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

func (b *stepBuilder) firewallOpen() {
	fw := b.f.Host.Firewall
	n := b.f.New
	switch fw.Kind {
	case hostenv.FirewallUFW:
		action := "allow"
		for _, r := range fw.UFW.OldRules {
			if r.Action == "limit" {
				action = "limit"
			}
		}
		why := fmt.Sprintf("ufw is enabled (/etc/ufw/ufw.conf): open %d/tcp before sshd listens there", n)
		if b.f.Image {
			var cmds []string
			for _, f := range fw.UFW.RuleFiles {
				if strings.HasSuffix(f, "6.rules") {
					cmds = append(cmds, ufwRuleEdit(b.in(f), action, n, "::/0", "ufw6-user-input"))
				} else {
					cmds = append(cmds, ufwRuleEdit(b.in(f), action, n, "0.0.0.0/0", "ufw-user-input"))
				}
			}
			b.add("firewall", why+"; ufw is not running here, so the rule goes into its saved rules as `ufw allow` writes it", whenImage, cmds...)
			return
		}
		b.add("firewall", why, whenBefore, fmt.Sprintf("ufw %s %d/tcp", action, n))
	case hostenv.FirewallFirewalld:
		z := fw.Firewalld.Zone
		why := fmt.Sprintf("firewalld is enabled; zone %s is %s: open %d/tcp there", z, fw.Firewalld.ZoneFrom, n)
		if b.f.Image {
			b.add("firewall", why+" (firewall-offline-cmd writes the image's configuration only)", whenImage,
				b.chroot(fmt.Sprintf("firewall-offline-cmd --zone=%s --add-port=%d/tcp", shellQuote(z), n)))
			return
		}
		b.add("firewall", why, whenBefore,
			fmt.Sprintf("firewall-cmd --permanent --zone=%s --add-port=%d/tcp", shellQuote(z), n), "firewall-cmd --reload")
	case hostenv.FirewallNftables:
		b.nftOpen(fw.Nft)
	case hostenv.FirewallIPTables:
		b.iptablesOpen(fw.IPTables)
	}
}

// ufwRuleEdit adds an allow rule to a ufw rules file the way ufw writes it.
func ufwRuleEdit(file, action string, port int, any, chain string) string {
	target := "ACCEPT"
	if action == "limit" {
		// ufw's limit rules need its limit chains; allow is the offline equivalent.
		action = "allow"
	}
	return fmt.Sprintf("sed -i '/^### END RULES ###/i ### tuple ### %s tcp %d %s any %s in\\n-A %s -p tcp --dport %d -j %s\\n' %s",
		action, port, any, any, chain, port, target, shellQuote(file))
}

func (b *stepBuilder) noteInsert(file string, line int) {
	if b.inserted == nil {
		b.inserted = map[string][]int{}
	}
	b.inserted[file] = append(b.inserted[file], line)
}

// shifted returns line after the inserts made before it in file.
func (b *stepBuilder) shifted(file string, line int) int {
	n := line
	for _, l := range b.inserted[file] {
		if l <= line {
			n++
		}
	}
	return n
}

func (b *stepBuilder) nftOpen(n *hostenv.Nft) {
	if !n.Filters {
		return
	}
	nw := b.f.New
	var live, persist []string
	var rule *hostenv.NftRule
	for i := range n.Rules {
		if slices.Contains(b.f.Old, n.Rules[i].Port) {
			rule = &n.Rules[i]
			break
		}
	}
	why := fmt.Sprintf("nftables filters input (%s drops what it does not accept): accept %d/tcp", n.Chain, nw)
	switch {
	case rule != nil:
		why += fmt.Sprintf(" next to the rule for %d, before any final drop", rule.Port)
		live = append(live, rule.Insert(nw))
		if !n.Live {
			why += " (the live ruleset was not read, so the running rule goes first in the chain)"
		}
		if rule.At.File != "" {
			persist = append(persist, fmt.Sprintf("sed -i '%di\\%s' %s", rule.At.Line, sedText(rule.FileLine(nw)), shellQuote(b.in(rule.At.File))))
			b.noteInsert(rule.At.File, rule.At.Line)
		}
	default:
		why += " at the top of the chain, before any drop"
		live = append(live, fmt.Sprintf("nft insert rule %s tcp dport %d accept", shellWords(strings.Fields(n.Chain)), nw))
		if n.ChainAt.File != "" {
			indent := n.ChainAt.Text[:len(n.ChainAt.Text)-len(strings.TrimLeft(n.ChainAt.Text, " \t"))]
			persist = append(persist, fmt.Sprintf("sed -i '%da\\%s' %s", n.ChainAt.Line, sedText(indent+"tcp dport "+strconv.Itoa(nw)+" accept"), shellQuote(b.in(n.ChainAt.File))))
			b.noteInsert(n.ChainAt.File, n.ChainAt.Line+1)
		}
	}
	if n.File != "" {
		why += fmt.Sprintf("; persisted in %s, which the distribution loads at boot", n.File)
	} else {
		why += "; no ruleset file was found to persist it: save the ruleset the way this system loads it at boot"
	}
	if b.f.Image {
		b.add("firewall", why, whenImage, persist...)
		return
	}
	b.add("firewall", why, whenBefore, append(live, persist...)...)
}

func (b *stepBuilder) iptablesOpen(ipt *hostenv.IPTables) {
	for _, f := range ipt.Files {
		if !f.Filters {
			continue
		}
		var rule *hostenv.IPTablesRule
		for i := range f.Rules {
			if slices.Contains(b.f.Old, f.Rules[i].Port) {
				rule = &f.Rules[i]
				break
			}
		}
		nw := strconv.Itoa(b.f.New)
		why := fmt.Sprintf("%s drops what INPUT does not accept (%s, loaded at boot): accept %s/tcp", f.Command, f.File, nw)
		var live, persist []string
		if rule != nil {
			spec := strings.ReplaceAll(rule.Spec, "{PORT}", nw)
			why += fmt.Sprintf(" just before the rule for %d", rule.Port)
			live = append(live, fmt.Sprintf("%s -I INPUT %d %s", f.Command, rule.Number, shellWords(hostenv.SplitWords(spec))))
			persist = append(persist, fmt.Sprintf("sed -i '%di\\-A INPUT %s' %s", rule.At.Line, sedText(spec), shellQuote(b.in(f.File))))
			b.noteInsert(f.File, rule.At.Line)
		} else {
			spec := "-p tcp -m tcp --dport " + nw + " -j ACCEPT"
			why += " as the first INPUT rule"
			live = append(live, fmt.Sprintf("%s -I INPUT 1 %s", f.Command, spec))
			persist = append(persist, fmt.Sprintf("sed -i '%da\\-A INPUT %s' %s", f.InputAt.Line, sedText(spec), shellQuote(b.in(f.File))))
			b.noteInsert(f.File, f.InputAt.Line+1)
		}
		if b.f.Image {
			b.add("firewall", why, whenImage, persist...)
			continue
		}
		b.add("firewall", why, whenBefore, append(live, persist...)...)
	}
}

func (b *stepBuilder) cloud() {
	why := fmt.Sprintf("a cloud security group or provider firewall in front of this host must allow %d/tcp too (sshport cannot see it)", b.f.New)
	opened := slices.ContainsFunc(b.steps, func(s Step) bool { return s.ID == "firewall" })
	switch kind := b.f.Host.Firewall.Kind; {
	case kind == "":
		why = "no host firewall was found enabled; " + strings.Replace(why, " too ", " ", 1)
	case !opened:
		why = kind + " is enabled but does not drop input here, so it needs no rule; " + strings.Replace(why, " too ", " ", 1)
	}
	when := whenBefore
	if b.f.Image {
		when = "before instances of the image boot"
	}
	b.add("cloud-firewall", why, when)
}

func (b *stepBuilder) selinux() {
	s := b.f.Host.SELinux
	if s.Mode != "enforcing" && s.Mode != "permissive" {
		return
	}
	n := b.f.New
	why := fmt.Sprintf("SELinux is %s (%s): sshd may bind only ports of type ssh_port_t", s.Mode, s.ModeFrom)
	if s.Mode == "permissive" {
		why += " (permissive only logs the denial, but it enforces after a switch)"
	}
	noreload := ""
	if b.f.Image {
		noreload = "-N "
	}
	add := fmt.Sprintf("semanage port %s-a -t ssh_port_t -p tcp %d", noreload, n)
	mod := fmt.Sprintf("semanage port %s-m -t ssh_port_t -p tcp %d", noreload, n)
	var cmds []string
	switch {
	case s.PortTypeKnown && s.PortType == "ssh_port_t":
		return
	case s.PortTypeKnown && s.PortType == "":
		cmds = []string{add}
	case s.PortTypeKnown:
		why += fmt.Sprintf("; %d is defined as %s, so its type is modified", n, s.PortType)
		cmds = []string{mod}
	default:
		why += fmt.Sprintf("; %d's current type was not read, so add it, or modify it if it has another type", n)
		cmds = []string{add + " || " + mod}
	}
	for i := range cmds {
		cmds[i] = b.chroot(cmds[i])
		if b.f.Image && strings.Contains(cmds[i], " || ") {
			l, r, _ := strings.Cut(cmds[i], " || ")
			cmds[i] = l + " || " + b.chroot(r)
		}
	}
	b.add("selinux", why, b.when(whenBefore), cmds...)
}

func (b *stepBuilder) reserve() {
	if !b.f.Reserve {
		return
	}
	var items []string
	for _, r := range b.f.Reserved {
		if r.Contains(b.f.New) {
			return
		}
		items = append(items, r.String())
	}
	items = append(items, strconv.Itoa(b.f.New))
	list := strings.Join(items, ",")
	why := fmt.Sprintf("%d lies in the ephemeral range: reserve it so the kernel never hands it to an outgoing connection (the existing list is kept)", b.f.New)
	mkdir := "mkdir -p " + shellQuote(b.in("/etc/sysctl.d"))
	persist := fmt.Sprintf("echo 'net.ipv4.ip_local_reserved_ports = %s' > %s", list, shellQuote(b.in("/etc/sysctl.d/99-sshport-reserved-ports.conf")))
	if b.f.Image {
		b.add("reserve-port", why, whenImage, mkdir, persist)
		return
	}
	b.add("reserve-port", why, whenBefore, "sysctl -w net.ipv4.ip_local_reserved_ports="+list, mkdir, persist)
}

func (b *stepBuilder) apply() {
	if b.f.Applied || b.f.ApplyCommand == "" {
		return
	}
	b.add("apply", "review the diff above, then write it (locked, backed up, validated with sshd -t, rolled back on failure)", b.when(whenReload), b.f.ApplyCommand)
}

func (b *stepBuilder) validate() {
	cmd := "sshd -t -f " + shellQuote(b.f.Config)
	why := "check the configuration sshd will read"
	if b.f.Image {
		cmd = b.chroot("/usr/sbin/sshd -t -f " + shellQuote(b.f.Config))
		why += " with the image's own sshd (it needs the image's host keys; images that make them at first boot need `ssh-keygen -A` first)"
	}
	b.add("validate", why, b.when(whenReload), cmd)
}

// runsConfig: the system's service runs the configuration being changed.
func (b *stepBuilder) runsConfig() bool {
	sd := b.f.Host.Systemd
	if sd.ExecConfig != "" {
		return sd.ExecConfig == b.f.Config
	}
	return b.f.DefaultConfig
}

func (b *stepBuilder) reload() {
	sd := b.f.Host.Systemd
	f := b.f
	if !b.runsConfig() {
		if f.Image {
			b.add("boot", fmt.Sprintf("%s is not the file the image's sshd service reads: start the sshd that uses it with -f %s", f.Config, f.Config), whenBoot)
			return
		}
		why := fmt.Sprintf("the system's sshd service does not read %s: signal the sshd started with -f %s (SIGHUP re-reads it; open sessions stay)", f.Config, f.Config)
		if f.PidFile == "" {
			why += "; " + f.Config + " sets no PidFile, so this is the default one: check it is that sshd's"
		}
		b.add("reload", why+pidNone(f.PidFile), whenReload, hupCommand(f.PidFile))
		return
	}
	switch {
	case sd.Present && sd.SocketEnabled && sd.Generator:
		why := fmt.Sprintf("%s is enabled: systemd, not sshd, holds the port; Ubuntu's sshd-socket-generator rewrites its ListenStream from sshd_config at daemon-reload", sd.Socket)
		if f.Image {
			b.add("boot", why+": nothing to do, the image's first boot runs it", whenBoot)
			return
		}
		b.add("reload", why, whenReload, "systemctl daemon-reload", "systemctl restart "+sd.Socket)
	case sd.Present && sd.SocketEnabled:
		dir := "/etc/systemd/system/" + sd.Socket + ".d"
		content := "[Socket]\nListenStream=\n"
		for _, p := range f.Ports {
			content += "ListenStream=" + strconv.Itoa(p) + "\n"
		}
		why := fmt.Sprintf("%s is enabled: systemd, not sshd, holds the port, and no generator updates it: a drop-in replaces its ListenStream with %s", sd.Socket, ports(f.Ports))
		cmds := []string{"mkdir -p " + shellQuote(b.in(dir)), printfTo(content, b.in(dir+"/sshport.conf"))}
		if f.Image {
			b.add("socket", why, whenImage, cmds...)
			return
		}
		b.add("reload", why, whenReload, append(cmds, "systemctl daemon-reload", "systemctl restart "+sd.Socket)...)
	case sd.Present && len(sd.ExecPorts) > 0:
		b.execPort()
	case f.Image:
		b.add("boot", "the image's sshd listens on "+ports(f.Ports)+" from its first boot", whenBoot)
	case sd.Present && sd.Service != "":
		b.add("reload", fmt.Sprintf("reload %s: sshd re-reads its configuration and binds %s; open sessions stay", sd.Service, ports(f.Ports)), whenReload, "systemctl reload "+sd.Service)
	case sd.Init == "openrc":
		b.add("reload", "reload sshd (OpenRC); open sessions stay", whenReload, "rc-service "+sd.InitName+" reload")
	case sd.Init != "":
		b.add("reload", "reload sshd; open sessions stay", whenReload, "service "+sd.InitName+" reload")
	default:
		b.add("reload", "no service manager was found: send sshd SIGHUP (it re-reads its configuration; open sessions stay)"+pidNone(f.PidFile), whenReload, hupCommand(f.PidFile))
	}
}

// hupCommand is the command that sends SIGHUP to the sshd whose PidFile
// setting is pidFile ("" when unset: sshd's default /run/sshd.pid). With
// "PidFile none" sshd writes no file: the command names PID for the reader
// to fill in (pidNone says how to find it). A relative PidFile is taken
// from /, sshd's working directory once it runs.
func hupCommand(pidFile string) string {
	switch {
	case pidFile == "none":
		return "kill -HUP PID"
	case pidFile == "":
		pidFile = "/run/sshd.pid"
	case !strings.HasPrefix(pidFile, "/"):
		pidFile = "/" + pidFile
	}
	return fmt.Sprintf("kill -HUP \"$(cat %s)\"", shellQuote(pidFile))
}

// pidNone is what the why of a SIGHUP step adds for "PidFile none".
func pidNone(pidFile string) string {
	if pidFile != "none" {
		return ""
	}
	return "; it writes no pid file (PidFile none): PID is the listening sshd's, as `pgrep -a sshd` or `ss -ltnp` shows it"
}

// execPortRE finds -p N, -pN, -o Port=N in an ExecStart line or an
// EnvironmentFile assignment (SSHD_OPTS="-p 22").
var execPortRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(^|[\s"'=])(-p\s*|-o\s*Port=)(\d+)`) })

// execPort: the unit's -p replaces every Port line, so the unit changes.
func (b *stepBuilder) execPort() {
	sd := b.f.Host.Systemd
	at := sd.ExecPortAt
	first := true
	newLine := execPortRE().ReplaceAllStringFunc(at.Text, func(m string) string {
		sub := execPortRE().FindStringSubmatch(m)
		p, _ := strconv.Atoi(sub[3])
		if !slices.Contains(b.dropped, p) {
			return m
		}
		if first && !slices.Contains(sd.ExecPorts, b.f.New) {
			first = false
			return sub[1] + sub[2] + strconv.Itoa(b.f.New)
		}
		return ""
	})
	if b.f.Phase == PhaseKeepOld && !slices.Contains(sd.ExecPorts, b.f.New) {
		locs := execPortRE().FindAllStringIndex(newLine, -1)
		if len(locs) > 0 {
			last := locs[len(locs)-1][1]
			newLine = newLine[:last] + " -p " + strconv.Itoa(b.f.New) + newLine[last:]
		}
	}
	why := fmt.Sprintf("%s starts sshd with %s (%s line %d), which replaces every Port line of sshd_config: change it there too", sd.Service, portFlags(sd.ExecPorts), at.File, at.Line)
	var cmds []string
	file := at.File
	if strings.HasPrefix(file, "/etc/") {
		cmds = append(cmds, fmt.Sprintf("sed -i '%dc\\%s' %s", at.Line, sedText(newLine), shellQuote(b.in(file))))
	} else {
		dir := "/etc/systemd/system/" + sd.Service + ".d"
		why += "; the vendor unit stays as shipped: a drop-in overrides ExecStart"
		_, cmdline, _ := strings.Cut(newLine, "=")
		cmds = append(cmds, "mkdir -p "+shellQuote(b.in(dir)),
			printfTo("[Service]\nExecStart=\nExecStart="+cmdline+"\n", b.in(dir+"/sshport-port.conf")))
	}
	if b.f.Image {
		b.add("unit", why, whenImage, cmds...)
		return
	}
	why += "; a reload would re-run the old command line, so the service restarts"
	if sd.KillModeProcess {
		why += " (KillMode=process: open sessions stay)"
	} else {
		why += " (the unit does not say KillMode=process: a restart may end open sessions; use a console)"
	}
	b.add("reload", why, whenReload, append(cmds, "systemctl daemon-reload", "systemctl restart "+sd.Service)...)
}

func portFlags(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = "-p " + strconv.Itoa(p)
	}
	return strings.Join(s, " ")
}

// jailPort is a jail's new port value.
func (b *stepBuilder) jailPort(val string) string {
	var out []string
	has := func(s string) bool { return slices.Contains(out, s) }
	nw := strconv.Itoa(b.f.New)
	for _, it := range strings.Split(val, ",") {
		it = strings.TrimSpace(it)
		p, err := strconv.Atoi(it)
		if it == "ssh" {
			p, err = 22, nil
		}
		if err == nil && slices.Contains(b.dropped, p) {
			it = nw
		}
		if it != "" && !has(it) {
			out = append(out, it)
		}
	}
	if !has(nw) {
		out = append(out, nw)
	}
	return strings.Join(out, ",")
}

func (b *stepBuilder) fail2ban() {
	fb := b.f.Host.Fail2ban
	if !fb.Enabled || len(fb.Jails) == 0 {
		return
	}
	var names []string
	var cmds []string
	var override []string
	for _, j := range fb.Jails {
		names = append(names, j.Name)
		nv := b.jailPort(j.Port)
		if nv == j.Port {
			continue
		}
		if j.Local {
			k, _, _ := strings.Cut(j.PortAt.Text, "=")
			if !strings.Contains(j.PortAt.Text, "=") {
				k, _, _ = strings.Cut(j.PortAt.Text, ":")
			}
			cmds = append(cmds, fmt.Sprintf("sed -i '%dc\\%s' %s", j.PortAt.Line, sedText(strings.TrimRight(k, " \t")+" = "+nv), shellQuote(b.in(j.PortAt.File))))
			continue
		}
		override = append(override, fmt.Sprintf("[%s]\nport = %s\n", j.Name, nv))
	}
	if len(override) > 0 {
		cmds = append(cmds, "mkdir -p "+shellQuote(b.in("/etc/fail2ban/jail.d")), printfTo(strings.Join(override, "\n"), b.in("/etc/fail2ban/jail.d/sshport.local")))
	}
	if len(cmds) == 0 {
		return
	}
	why := fmt.Sprintf("fail2ban's jail %s guards %s: its port list follows sshd to %s (jail.d/*.local is read last, so an override there wins)",
		strings.Join(names, ", "), fb.Jails[0].Port, ports(b.f.Ports))
	if len(names) > 1 {
		why = strings.Replace(why, "jail ", "jails ", 1)
	}
	if b.f.Image {
		b.add("fail2ban", why, whenImage, cmds...)
		return
	}
	b.add("fail2ban", why, whenAfter, append(cmds, "fail2ban-client reload")...)
}

func (b *stepBuilder) verify() {
	cmd := b.f.Sshport + " verify"
	for _, p := range b.f.Ports {
		cmd += " --port " + strconv.Itoa(p)
	}
	if b.f.Phase != PhaseKeepOld {
		for _, p := range b.dropped {
			cmd += " --closed " + strconv.Itoa(p)
		}
	}
	if b.f.Image {
		cmd = strings.Replace(cmd, " verify", " verify --host HOST", 1)
		cmd = stripRoot(cmd)
		b.add("verify", "check that every port answers as an SSH server, then log in on the new port", whenBoot, cmd, fmt.Sprintf("ssh -p %d USER@HOST", b.f.New))
		return
	}
	why := "check that sshd answers on " + ports(b.f.Ports)
	if len(b.dropped) > 0 && b.f.Phase != PhaseKeepOld {
		why += " and no longer on " + ports(b.dropped)
	}
	why += ", then log in on the new port from another terminal (this session stays open)"
	b.add("verify", why, whenVerify, cmd, fmt.Sprintf("ssh -p %d USER@HOST", b.f.New))
}

// stripRoot drops --root DIR (verify talks to a running host, not an image).
func stripRoot(cmd string) string {
	w := strings.Fields(cmd)
	var out []string
	for i := 0; i < len(w); i++ {
		if w[i] == "--root" {
			i++
			continue
		}
		out = append(out, w[i])
	}
	return strings.Join(out, " ")
}

func (b *stepBuilder) clients() {
	why := fmt.Sprintf("point every client at %d: on each machine that connects, sshport client sets Port %d for this host in ~/.ssh/config and copies its trusted host key to the new port (HOST: the name used after ssh); then scripts, monitoring, backups, jump hosts", b.f.New, b.f.New)
	when := whenClients
	if b.f.Phase == PhaseKeepOld {
		why += fmt.Sprintf("; sshd still answers on %s meanwhile", ports(b.f.Old))
	}
	if b.f.Image {
		when = whenBoot
	}
	b.add("clients", why, when, fmt.Sprintf("sshport client --host HOST --port %d --known-hosts auto --apply", b.f.New))
}

func (b *stepBuilder) finish() {
	old := minus(b.f.Old, []int{b.f.New})
	cmd := b.f.Sshport + " suggest --finish --apply"
	b.add("finish", fmt.Sprintf("this is phase 1 of 2: sshd listens on %s. Phase 2 drops %s and keeps %d (running it again changes nothing); its next steps reload sshd, check %s is closed and close it in the firewall",
		ports(b.f.Ports), ports(old), b.f.New, ports(old)), whenLast, cmd)
}

func (b *stepBuilder) firewallClose() {
	fw := b.f.Host.Firewall
	var cmds []string
	var why string
	switch fw.Kind {
	case hostenv.FirewallUFW:
		for _, r := range fw.UFW.OldRules {
			if slices.Contains(b.dropped, r.Port) {
				cmds = append(cmds, fmt.Sprintf("ufw delete %s %s", r.Action, shellQuote(r.Spec)))
			}
		}
		why = "ufw still lets " + ports(b.dropped) + " in"
		if b.f.Image && len(cmds) > 0 {
			cmds = nil
			for _, r := range fw.UFW.OldRules {
				if slices.Contains(b.dropped, r.Port) {
					for _, file := range fw.UFW.RuleFiles {
						cmds = append(cmds, fmt.Sprintf("sed -i '/^### tuple ### %s .* %d /,/^$/d' %s", r.Action, r.Port, shellQuote(b.in(file))))
					}
				}
			}
		}
	case hostenv.FirewallFirewalld:
		z := fw.Firewalld.Zone
		base := "firewall-cmd --permanent --zone=" + shellQuote(z)
		if b.f.Image {
			base = b.chroot("firewall-offline-cmd --zone=" + shellQuote(z))
		}
		for _, p := range b.dropped {
			if p == 22 && slices.Contains(fw.Firewalld.Services, "ssh") {
				cmds = append(cmds, base+" --remove-service=ssh")
			}
			if slices.Contains(fw.Firewalld.Ports, strconv.Itoa(p)+"/tcp") {
				cmds = append(cmds, fmt.Sprintf("%s --remove-port=%d/tcp", base, p))
			}
		}
		if len(cmds) > 0 && !b.f.Image {
			cmds = append(cmds, "firewall-cmd --reload")
		}
		why = fmt.Sprintf("firewalld's zone %s still lets %s in", z, ports(b.dropped))
	case hostenv.FirewallNftables:
		why = "nftables still accepts " + ports(b.dropped)
		for _, r := range fw.Nft.Rules {
			if !slices.Contains(b.dropped, r.Port) {
				continue
			}
			if r.Handle > 0 && !b.f.Image {
				cmds = append(cmds, fmt.Sprintf("nft delete rule %s handle %d", shellWords(strings.Fields(r.Chain)), r.Handle))
			} else if !b.f.Image && !fw.Nft.Live {
				why2 := fmt.Sprintf("; the live ruleset was not read: `nft -a list chain %s` shows the running rule's handle, then `nft delete rule %s handle N`", r.Chain, r.Chain)
				if !strings.Contains(why, why2) {
					why += why2
				}
			}
			if r.At.File != "" {
				cmds = append(cmds, fmt.Sprintf("sed -i '%dd' %s", b.shifted(r.At.File, r.At.Line), shellQuote(b.in(r.At.File))))
			}
		}
	case hostenv.FirewallIPTables:
		for _, f := range fw.IPTables.Files {
			for _, r := range f.Rules {
				if !slices.Contains(b.dropped, r.Port) {
					continue
				}
				if !b.f.Image {
					cmds = append(cmds, fmt.Sprintf("%s -D INPUT %s", f.Command, shellWords(hostenv.SplitWords(strings.ReplaceAll(r.Spec, "{PORT}", strconv.Itoa(r.Port))))))
				}
				cmds = append(cmds, fmt.Sprintf("sed -i '%dd' %s", b.shifted(r.At.File, r.At.Line), shellQuote(b.in(r.At.File))))
			}
		}
		why = "iptables still accepts " + ports(b.dropped)
	}
	if len(cmds) > 0 {
		what, more, _ := strings.Cut(why, "; ")
		if more != "" {
			more = "; " + more
		}
		b.add("firewall-close", what+": close it, sshd no longer listens there"+more, b.when(whenLast), cmds...)
	}
	b.add("cloud-firewall-close", fmt.Sprintf("remove %s from any cloud security group or provider firewall in front of the host", ports(b.dropped)), whenLast)
}

// minus returns the ports of a not in b, in a's order.
func minus(a, b []int) []int {
	out := []int{}
	for _, p := range a {
		if !slices.Contains(b, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// sedText escapes text for a sed a\, i\ or c\ command inside single quotes.
func sedText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "'", `'\''`)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWords quotes each word for a POSIX shell and joins them.
func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// printfTo returns a printf command writing content to file: content is
// escaped for printf's format (backslash, percent, newline) and the shell.
func printfTo(content, file string) string {
	f := strings.NewReplacer(`\`, `\\`, "%", "%%", "\n", `\n`).Replace(content)
	return "printf '" + strings.ReplaceAll(f, "'", `'\''`) + "' > " + shellQuote(file)
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string { return shellQuote(s) }
