package hostenv

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzDetect: hostile files (a fail2ban jail file, an nftables ruleset, a
// unit drop-in, ufw rules, a firewalld zone) never make Detect panic, and
// every rule it reports for an old port points at a real line of its file.
func FuzzDetect(f *testing.F) {
	f.Add("[sshd]\nenabled = true\nport = ssh\n", "table inet f {\n chain i {\n  type filter hook input priority 0; policy drop;\n  tcp dport 22 accept\n }\n}\n",
		"[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p 22\n", "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n", "<zone><service name=\"ssh\"/></zone>")
	f.Add("[DEFAULT]\nenabled=%(enabled)s\n[x]\nport=%(port)s\n", "include \"/etc/nftables.conf\"\n", "ExecStart=${A}${B} -p", "### tuple ###", "<zone")
	f.Fuzz(func(t *testing.T, jail, nft, unit, ufw, zone string) {
		fsys := fstest.MapFS{
			"etc/fail2ban/jail.local":                                      {Data: []byte(jail)},
			"etc/systemd/system/multi-user.target.wants/fail2ban.service":  {},
			"etc/systemd/system/multi-user.target.wants/nftables.service":  {},
			"etc/systemd/system/multi-user.target.wants/firewalld.service": {},
			"etc/nftables.conf":                       {Data: []byte(nft)},
			"lib/systemd/system/ssh.service":          {Data: []byte("[Service]\nExecStart=/usr/sbin/sshd -D\n")},
			"etc/systemd/system/ssh.service.d/x.conf": {Data: []byte(unit)},
			"etc/ufw/user.rules":                      {Data: []byte(ufw)},
			"etc/firewalld/zones/public.xml":          {Data: []byte(zone)},
		}
		facts := Detect(context.Background(), fsys, Options{OldPorts: []int{22}, NewPort: 20022})
		lines := map[string][]string{}
		for name, file := range fsys {
			lines["/"+name] = strings.Split(string(file.Data), "\n")
		}
		check := func(at Location) {
			if at.File == "" {
				return
			}
			ls := lines[at.File]
			if at.Line < 1 || at.Line > len(ls) || ls[at.Line-1] != at.Text {
				t.Fatalf("location %s:%d %q is not a line of the file", at.File, at.Line, at.Text)
			}
		}
		for _, j := range facts.Fail2ban.Jails {
			check(j.PortAt)
		}
		check(facts.Systemd.ExecPortAt)
		if n := facts.Firewall.Nft; n != nil {
			for _, r := range n.Rules {
				check(r.At)
			}
		}
	})
}
