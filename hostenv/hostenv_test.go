package hostenv

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

type noRunner struct{}

func (noRunner) Output(context.Context, string, ...string) ([]byte, error) {
	return nil, errors.New("not available")
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

func detect(files map[string]string, old ...int) Facts {
	return Detect(context.Background(), mapFS(files), Options{OldPorts: old, NewPort: 20022, Runner: noRunner{}})
}

const f2bEnabled = "etc/systemd/system/multi-user.target.wants/fail2ban.service"

// TestFail2banReadingOrder: jail.conf, jail.d/*.conf, jail.local,
// jail.d/*.local, each later file replacing keys one by one.
func TestFail2banReadingOrder(t *testing.T) {
	base := map[string]string{
		f2bEnabled:               "",
		"etc/fail2ban/jail.conf": "[DEFAULT]\nenabled = false\nport = 0:65535\n\n[sshd]\nport = ssh\n\n[other]\nport = http\n",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string // "jail=port@file:line"
	}{
		{"disabled by default", base, nil},
		{"enabled in jail.d conf", with(map[string]string{"etc/fail2ban/jail.d/defaults-debian.conf": "[sshd]\nenabled = true\n"}),
			[]string{"sshd=ssh@/etc/fail2ban/jail.conf:6"}},
		{"jail.local beats jail.d/*.conf", with(map[string]string{
			"etc/fail2ban/jail.d/a.conf": "[sshd]\nenabled = true\nport = 2222\n",
			"etc/fail2ban/jail.local":    "[sshd]\nport = ssh ; inline comment\n",
		}), []string{"sshd=ssh@/etc/fail2ban/jail.local:2"}},
		{"jail.d/*.local beats jail.local", with(map[string]string{
			"etc/fail2ban/jail.local":      "[sshd]\nenabled = yes\nport = 2222\n",
			"etc/fail2ban/jail.d/z.local":  "[sshd]\nport = 22,2222\n",
			"etc/fail2ban/jail.d/zz.conf":  "[sshd]\nport = 9\n",
			"etc/fail2ban/jail.d/.x.local": "[sshd]\nport = 7\n",
		}), []string{"sshd=22,2222@/etc/fail2ban/jail.d/z.local:2"}},
		{"enabled in DEFAULT, interpolation, continuation", with(map[string]string{
			"etc/fail2ban/jail.local": "[DEFAULT]\nenabled = true\nssh_port = ssh\n[sshd]\nport = %(ssh_port)s,\n    2222\n",
		}), []string{"sshd=ssh,\n2222@/etc/fail2ban/jail.local:5"}},
		{"a jail on other ports is left alone", with(map[string]string{"etc/fail2ban/jail.local": "[other]\nenabled = true\n"}), nil},
		{"# is not an inline comment", with(map[string]string{"etc/fail2ban/jail.local": "[sshd]\nenabled = true\nport = ssh # x\n"}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := detect(tc.files, 22)
			var got []string
			for _, j := range f.Fail2ban.Jails {
				got = append(got, j.Name+"="+j.Port+"@"+j.PortAt.File+":"+itoa(j.PortAt.Line))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("jails = %q, want %q", got, tc.want)
			}
		})
	}
	if f := detect(map[string]string{"etc/fail2ban/jail.local": "[sshd]\nenabled = true\nport = ssh\n"}, 22); f.Fail2ban.Enabled || len(f.Fail2ban.Jails) > 0 {
		t.Errorf("fail2ban not enabled, yet: %+v", f.Fail2ban)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestExecStart(t *testing.T) {
	unit := "[Unit]\nDescription=x\n\n[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nKillMode=process\n"
	tests := []struct {
		name   string
		files  map[string]string
		ports  []int
		config string
		at     string
	}{
		{"none", map[string]string{}, []int{}, "", ""},
		{"from EnvironmentFile", map[string]string{"etc/default/ssh": "# x\nSSHD_OPTS=\"-p 2222 -f /etc/ssh/alt_config\"\n"}, []int{2222}, "/etc/ssh/alt_config", "/etc/default/ssh:2"},
		{"drop-in resets ExecStart", map[string]string{"etc/systemd/system/ssh.service.d/10-port.conf": "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p22 -o Port=2200\n"},
			[]int{22, 2200}, "", "/etc/systemd/system/ssh.service.d/10-port.conf:3"},
		{"later drop-in name wins, /etc over /usr/lib", map[string]string{
			"usr/lib/systemd/system/ssh.service.d/10-a.conf": "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p 1\n",
			"etc/systemd/system/ssh.service.d/10-a.conf":     "[Service]\nEnvironment=X=1\n",
			"run/systemd/system/ssh.service.d/20-b.conf":     "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p 3\n",
		}, []int{3}, "", "/run/systemd/system/ssh.service.d/20-b.conf:3"},
		{"Environment= quoted", map[string]string{"etc/systemd/system/ssh.service.d/e.conf": "[Service]\nEnvironment=\"SSHD_OPTS=-p 4444\"\n"}, []int{4444}, "", "/etc/systemd/system/ssh.service.d/e.conf:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"lib/systemd/system/ssh.service": unit}
			for k, v := range tc.files {
				files[k] = v
			}
			s := detect(files).Systemd
			if s.Service != "ssh.service" || !s.KillModeProcess {
				t.Fatalf("%+v", s)
			}
			at := ""
			if s.ExecPortAt.File != "" {
				at = s.ExecPortAt.File + ":" + itoa(s.ExecPortAt.Line)
			}
			if !slices.Equal(s.ExecPorts, tc.ports) || s.ExecConfig != tc.config {
				t.Errorf("ports %v config %q, want %v %q", s.ExecPorts, s.ExecConfig, tc.ports, tc.config)
			}
			if at != tc.at {
				t.Errorf("-p from %s:%d, want %s", s.ExecPortAt.File, s.ExecPortAt.Line, tc.at)
			}
		})
	}
}

func TestSystemdUnits(t *testing.T) {
	// An empty unit file is a masked unit to systemd: the stubs say
	// something.
	const unitStub = "[Unit]\nDescription=stub\n"
	tests := []struct {
		name          string
		files         map[string]string
		service, sock string
		enabled, gen  bool
	}{
		{"debian 12: socket disabled", map[string]string{"lib/systemd/system/ssh.service": unitStub, "lib/systemd/system/ssh.socket": unitStub}, "ssh.service", "ssh.socket", false, false},
		{"ubuntu 24.04", map[string]string{"usr/lib/systemd/system/ssh.service": unitStub, "usr/lib/systemd/system/ssh.socket": unitStub,
			"etc/systemd/system/sockets.target.wants/ssh.socket": "", "usr/lib/systemd/system-generators/sshd-socket-generator": ""}, "ssh.service", "ssh.socket", true, true},
		{"rhel: sshd.socket enabled", map[string]string{"usr/lib/systemd/system/sshd.service": unitStub, "usr/lib/systemd/system/sshd.socket": unitStub,
			"etc/systemd/system/sockets.target.wants/sshd.socket": ""}, "sshd.service", "sshd.socket", true, false},
		{"no sshd unit", map[string]string{"usr/lib/systemd/system/cron.service": ""}, "", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := detect(tc.files).Systemd
			if s.Service != tc.service || s.Socket != tc.sock || s.SocketEnabled != tc.enabled || s.Generator != tc.gen {
				t.Errorf("%+v", s)
			}
		})
	}
}

func TestSemanagePortType(t *testing.T) {
	out := "SELinux Port Type              Proto    Port Number\n\nhttp_port_t                    tcp      80, 81, 443, 8008\nssh_port_t                     tcp      22, 20022\nunreserved_port_t              tcp      61000-65535, 1024-32767\nzope_port_t                    udp      8021\n"
	for port, want := range map[int]string{20022: "ssh_port_t", 8008: "http_port_t", 2000: "", 8021: ""} {
		if got := semanagePortType(out, port); got != want {
			t.Errorf("%d: %q, want %q", port, got, want)
		}
	}
}

func TestSELinuxMode(t *testing.T) {
	cfg := map[string]string{"etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n"}
	if m := detect(cfg).SELinux.Mode; m != "enforcing" {
		t.Errorf("image: %q", m)
	}
	live := Detect(context.Background(), mapFS(map[string]string{"etc/selinux/config": "SELINUX=enforcing\n", "sys/fs/selinux/enforce": "0\n"}),
		Options{Live: true, NewPort: 20022, Runner: noRunner{}})
	if live.SELinux.Mode != "permissive" || live.SELinux.PortTypeKnown || len(live.Notes) == 0 {
		t.Errorf("live permissive: %+v %q", live.SELinux, live.Notes)
	}
	off := Detect(context.Background(), mapFS(map[string]string{"etc/selinux/config": "SELINUX=enforcing\n"}), Options{Live: true, Runner: noRunner{}})
	if off.SELinux.Mode != "disabled" {
		t.Errorf("live without /sys/fs/selinux: %+v", off.SELinux)
	}
}

func TestNftFile(t *testing.T) {
	files := map[string]string{
		"etc/systemd/system/multi-user.target.wants/nftables.service": "",
		"etc/sysconfig/nftables.conf":                                 "# RHEL\ninclude \"/etc/nftables/main.nft\"\n",
		"etc/nftables/main.nft":                                       "table ip filter {\n  chain INPUT {\n    type filter hook input priority 0; policy drop;\n    ct state established accept\n    ip saddr 10.0.0.0/8 tcp dport { ssh, 443 } ct state new accept # admins\n  }\n}\n",
	}
	n := detect(files, 22).Firewall.Nft
	if n == nil || !n.Filters || n.File != "/etc/sysconfig/nftables.conf" || n.Chain != "ip filter INPUT" || len(n.Rules) != 1 {
		t.Fatalf("%+v", n)
	}
	r := n.Rules[0]
	if r.At.File != "/etc/nftables/main.nft" || r.At.Line != 5 || r.FileLine(20022) != "    ip saddr 10.0.0.0/8 tcp dport 20022 ct state new accept # admins" {
		t.Errorf("%+v / %q", r, r.FileLine(20022))
	}
	if got := r.Insert(20022); got != "nft insert rule ip filter INPUT ip saddr 10.0.0.0/8 tcp dport 20022 ct state new accept" {
		t.Errorf("insert without a live handle: %s", got)
	}
}

func TestNftLive(t *testing.T) {
	const ruleset = `{"nftables":[{"chain":{"family":"inet","table":"fw","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
{"rule":{"family":"inet","table":"fw","chain":"in","handle":9,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,80]}}},{"counter":{"packets":1,"bytes":60}},{"accept":null}]}},
{"rule":{"family":"inet","table":"fw","chain":"in","handle":10,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"th","field":"dport"}},"right":22}},{"limit":{"rate":5,"per":"minute"}},{"accept":null}]}}]}`
	r := fakeRunner{"nft -j list ruleset": ruleset}
	f := Detect(context.Background(), mapFS(map[string]string{"etc/systemd/system/sysinit.target.wants/nftables.service": ""}), Options{Live: true, OldPorts: []int{22}, Runner: r})
	n := f.Firewall.Nft
	if n == nil || !n.Live || !n.Filters || len(n.Rules) != 2 {
		t.Fatalf("%+v %q", n, f.Notes)
	}
	if got := n.Rules[0].Insert(20022); got != "nft insert rule inet fw in handle 9 tcp dport 20022 counter accept" {
		t.Errorf("rendered: %s", got)
	}
	// limit is not rendered: the rule is inserted as JSON, port replaced.
	got := n.Rules[1].Insert(20022)
	if !strings.HasPrefix(got, "echo '{\"nftables\":[{\"insert\":{\"rule\":") || !strings.Contains(got, `"right":20022`) || !strings.Contains(got, `"handle":10`) || !strings.HasSuffix(got, "' | nft -j -f -") {
		t.Errorf("JSON form: %s", got)
	}
}

type fakeRunner map[string]string

func (f fakeRunner) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	if s, ok := f[strings.Join(append([]string{name}, args...), " ")]; ok {
		return []byte(s), nil
	}
	return nil, errors.New("not found")
}

func TestIPTables(t *testing.T) {
	files := map[string]string{
		"etc/systemd/system/multi-user.target.wants/iptables.service": "",
		"etc/sysconfig/iptables": "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n",
	}
	ipt := detect(files, 22).Firewall.IPTables
	if ipt == nil || len(ipt.Files) != 1 {
		t.Fatalf("%+v", ipt)
	}
	f := ipt.Files[0]
	if !f.Filters || len(f.Rules) != 1 || f.Rules[0].Number != 2 || f.Rules[0].At.Line != 6 || f.Rules[0].Spec != "-p tcp -m state --state NEW -m tcp --dport {PORT} -j ACCEPT" {
		t.Errorf("%+v", f)
	}
}

func TestUFWRules(t *testing.T) {
	files := map[string]string{
		"etc/ufw/ufw.conf":   "ENABLED=yes\n",
		"etc/ufw/user.rules": "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in\n### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow any 22 0.0.0.0/0 any 10.0.0.0/8 in\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 out\n",
	}
	u := detect(files, 22, 2222).Firewall.UFW
	want := []UFWRule{{22, "allow", "OpenSSH"}, {2222, "limit", "2222/tcp"}}
	if u == nil || !slices.Equal(u.OldRules, want) {
		t.Errorf("%+v, want %+v", u, want)
	}
}

func TestFirewalldZoneOfInterface(t *testing.T) {
	files := map[string]string{
		"etc/systemd/system/multi-user.target.wants/firewalld.service": "",
		"etc/firewalld/firewalld.conf":                                 "DefaultZone=public\n",
		"proc/net/route":                                               "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nens3\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n",
		"etc/firewalld/zones/work.xml":                                 "<zone><interface name=\"ens3\"/><service name=\"ssh\"/><port protocol=\"tcp\" port=\"2222\"/></zone>",
	}
	live := Detect(context.Background(), mapFS(files), Options{Live: true, Runner: noRunner{}}).Firewall.Firewalld
	if live.Zone != "work" || !slices.Equal(live.Services, []string{"ssh"}) || !slices.Equal(live.Ports, []string{"2222/tcp"}) {
		t.Errorf("live: %+v", live)
	}
	img := detect(files).Firewall.Firewalld
	if img.Zone != "public" {
		t.Errorf("image (no live route): %+v", img)
	}
}

// TestNftIncludeLoop: a ruleset that includes itself through a glob is
// read a bounded number of times.
func TestNftIncludeLoop(t *testing.T) {
	files := map[string]string{
		"etc/systemd/system/multi-user.target.wants/nftables.service": "",
		"etc/nftables.conf": "include \"/etc/nft.d/*.nft\"\n",
		"etc/nft.d/a.nft":   "include \"/etc/nft.d/*.nft\"\n",
		"etc/nft.d/b.nft":   "include \"/etc/nft.d/*.nft\"\n",
		"etc/nft.d/c.nft":   "include \"/etc/nft.d/*.nft\"\ninclude \"/etc/nftables.conf\"\n",
	}
	n := detect(files, 22).Firewall.Nft
	if n == nil || n.File != "/etc/nftables.conf" {
		t.Fatalf("%+v", n)
	}
}
