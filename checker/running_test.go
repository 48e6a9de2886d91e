package checker

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestSSHDProcessConfig(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/sbin/sshd", "-D"}, "/etc/ssh/sshd_config"},
		{[]string{"sshd", "-D", "-f", "/etc/ssh/alt"}, "/etc/ssh/alt"},
		{[]string{"sshd", "-f/etc/ssh//x/../alt"}, "/etc/ssh/alt"},
		{[]string{"sshd", "-f", "etc/ssh/rel"}, "/etc/ssh/rel"},
	} {
		if got := (SSHDProcess{Argv: c.argv}).Config(); got != c.want {
			t.Errorf("Config(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}

func liveFacts() Facts {
	return Facts{
		Listeners: []Listener{
			{Addr: netip.MustParseAddr("0.0.0.0"), Port: 22, PID: 100, Process: "sshd"},
			{Addr: netip.MustParseAddr("::"), Port: 22, V6Only: true, PID: 100, Process: "sshd"},
			{Addr: netip.MustParseAddr("127.0.0.1"), Port: 20022, PID: 200, Process: "sshd"},
			{Addr: netip.MustParseAddr("0.0.0.0"), Port: 8080, PID: 300, Process: "nginx"},
			{Addr: netip.MustParseAddr("::"), Port: 2222, PID: 1, Process: "systemd"},
		},
		SSHD: []SSHDProcess{
			{PID: 100, Argv: []string{"/usr/sbin/sshd", "-D"}},
			{PID: 200, Argv: []string{"/usr/sbin/sshd", "-D", "-f", "/etc/ssh/other"}},
		},
	}
}

func TestLiveHolder(t *testing.T) {
	f := liveFacts()
	lv := Live{Config: "/etc/ssh/sshd_config", Facts: &f}
	want := []Holder{HolderOurs, HolderOurs, HolderForeign, HolderOther, HolderForeign}
	for i, l := range f.Listeners {
		if got := lv.Holder(l); got != want[i] {
			t.Errorf("Holder(%v by %s) = %v, want %v", l.Endpoint(), l.Owner(), got, want[i])
		}
	}
	lv.Socket = true
	if got := lv.Holder(f.Listeners[4]); got != HolderOurs {
		t.Errorf("with socket activation, pid 1's listener is %v, want ours", got)
	}
	// An sshd whose command line is unknown may be this one.
	if got := lv.Holder(Listener{Addr: netip.IPv4Unspecified(), Port: 5, PID: 999, Process: "sshd"}); got != HolderOurs {
		t.Errorf("unknown sshd: %v, want ours", got)
	}
	if d := lv.Describe(f.Listeners[2]); d != "pid 200 (/usr/sbin/sshd -D -f /etc/ssh/other)" {
		t.Errorf("Describe = %q", d)
	}
}

func TestCheckForeignListener(t *testing.T) {
	f := liveFacts()
	f.Ephemeral = LinuxDefaultEphemeral
	lv := Live{Config: "/etc/ssh/sshd_config", Facts: &f}
	c := Candidate{Port: 20022, SSHDOwn: true, Endpoints: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:20022")}, Holder: lv.Holder, Describe: lv.Describe}
	fs := Check(c, f)
	if len(fs) != 1 || fs[0].Code != CodeForeignListener || fs[0].Severity != SevError || !strings.Contains(fs[0].Message, "-f /etc/ssh/other") {
		t.Fatalf("Check = %+v, want one foreign-listener error naming the other config", fs)
	}
	// Our own sshd on 22: expected.
	c = Candidate{Port: 22, SSHDOwn: true, Holder: lv.Holder}
	for _, x := range Check(c, f) {
		if x.Code == CodeInUse || x.Code == CodeForeignListener {
			t.Errorf("own sshd reported: %+v", x)
		}
	}
	// nginx: in-use, as before.
	c = Candidate{Port: 8080, SSHDOwn: true, Holder: lv.Holder}
	if fs := Check(c, f); len(fs) == 0 || fs[0].Code != CodeInUse {
		t.Errorf("nginx on 8080: %+v", fs)
	}
}

func TestRunningFindings(t *testing.T) {
	f := liveFacts()
	codes := func(fs []Finding) []string {
		var out []string
		for _, x := range fs {
			out = append(out, x.Code)
		}
		return out
	}
	eps := func(s ...string) []netip.AddrPort {
		var out []netip.AddrPort
		for _, x := range s {
			out = append(out, netip.MustParseAddrPort(x))
		}
		return out
	}
	cases := []struct {
		name   string
		lv     Live
		e      Expect
		want   []string
		substr string
		port   int // the finding's port, when not 0
	}{
		{"applied", Live{Config: "/etc/ssh/sshd_config"}, Expect{Endpoints: eps("[::]:22", "0.0.0.0:22")}, nil, "", 0},
		{"edited to 20022, reload pending", Live{Config: "/etc/ssh/sshd_config"}, Expect{Endpoints: eps("[::]:20023", "0.0.0.0:20023"), Apply: "systemctl reload ssh.service"},
			[]string{CodeNotApplied}, "listens on 0.0.0.0:22, [::]:22: the change is not applied yet (systemctl reload ssh.service)", 0},
		{"no manager: kill -HUP", Live{Config: "/etc/ssh/other"}, Expect{Endpoints: eps("127.0.0.1:20024")},
			[]string{CodeNotApplied}, "(kill -HUP 200)", 0},
		{"nothing runs it", Live{Config: "/etc/ssh/none"}, Expect{Endpoints: eps("0.0.0.0:20030")}, []string{CodeNotRunning}, "nothing listens on 0.0.0.0:20030", 0},
		{"another process holds it: in-use says so", Live{Config: "/etc/ssh/none"}, Expect{Endpoints: eps("0.0.0.0:8080")}, nil, "", 0},
		// Phase 1 written, not reloaded: the finding is about 20022,
		// the port sshd does not listen on yet, not about 22.
		{"keep-old written, reload pending", Live{Config: "/etc/ssh/sshd_config"},
			Expect{Endpoints: eps("[::]:22", "0.0.0.0:22", "[::]:20022", "0.0.0.0:20022"), Apply: "systemctl reload ssh.service"},
			[]string{CodeNotApplied}, "the configuration says [::]:20022, 0.0.0.0:20022, but", 20022},
		{"socket unit listens on the old port", Live{Config: "/etc/ssh/sshd_config", Socket: true}, Expect{Endpoints: eps("[::]:2200"), Apply: "systemctl daemon-reload && systemctl restart ssh.socket"},
			[]string{CodeNotApplied}, "restart ssh.socket", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.lv.Facts = &f
			got := RunningFindings(c.lv, c.e)
			if !slices.Equal(codes(got), c.want) {
				t.Fatalf("codes %q, want %q: %+v", codes(got), c.want, got)
			}
			if c.substr != "" && !strings.Contains(got[0].Message, c.substr) {
				t.Errorf("message %q lacks %q", got[0].Message, c.substr)
			}
			if c.port != 0 && got[0].Port != c.port {
				t.Errorf("finding on port %d, want %d: %+v", got[0].Port, c.port, got[0])
			}
		})
	}
}

// TestRunningFindingsStale: phase 2 written, reload pending: every
// configured endpoint is held, but this configuration's sshd still listens
// on a port the configuration dropped.
func TestRunningFindingsStale(t *testing.T) {
	f := liveFacts()
	f.Listeners = append(f.Listeners,
		Listener{Addr: netip.MustParseAddr("0.0.0.0"), Port: 20022, PID: 100, Process: "sshd"},
		Listener{Addr: netip.MustParseAddr("0.0.0.0"), Port: 631, PID: 1, Process: "systemd"})
	cases := []struct {
		name string
		lv   Live
		e    Expect
		want string // "" for no finding
		port int
	}{
		{"old port still held", Live{Config: "/etc/ssh/sshd_config"},
			Expect{Endpoints: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:20022")}, Apply: "systemctl reload ssh.service"},
			"sshd pid 100 still listens on 0.0.0.0:22, [::]:22, which the configuration no longer has: the change is not applied yet (systemctl reload ssh.service)", 22},
		{"no manager: kill -HUP", Live{Config: "/etc/ssh/sshd_config"},
			Expect{Endpoints: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:20022")}}, "(kill -HUP 100)", 22},
		{"applied: nothing stale", Live{Config: "/etc/ssh/sshd_config"},
			Expect{Endpoints: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:22"), netip.MustParseAddrPort("0.0.0.0:20022")}}, "", 0},
		// Socket activation: pid 1's other sockets (631) are never stale.
		{"socket unit: pid 1 is not judged", Live{Config: "/etc/ssh/other", Socket: true},
			Expect{Endpoints: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:20022")}}, "", 0},
		{"an sshd of another configuration is not judged", Live{Config: "/etc/ssh/other"},
			Expect{Endpoints: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:20022")}}, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.lv.Facts = &f
			got := RunningFindings(c.lv, c.e)
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("findings %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Code != CodeNotApplied || got[0].Severity != SevWarning || got[0].Port != c.port || !strings.Contains(got[0].Message, c.want) {
				t.Fatalf("findings %+v, want one not-applied warning on port %d containing %q", got, c.port, c.want)
			}
		})
	}
}

func TestFamilyFindings(t *testing.T) {
	ap := netip.MustParseAddrPort
	cases := []struct {
		eps  []netip.AddrPort
		fams []string
		want string
	}{
		{[]netip.AddrPort{ap("0.0.0.0:22")}, []string{"inet", "inet6"}, CodeIPv6Unreachable},
		{[]netip.AddrPort{ap("0.0.0.0:22")}, []string{"inet"}, ""},
		{[]netip.AddrPort{ap("[::]:22")}, []string{"inet", "inet6"}, CodeIPv4Unreachable},
		{[]netip.AddrPort{ap("[::]:22"), ap("0.0.0.0:22")}, []string{"inet", "inet6"}, ""},
		{[]netip.AddrPort{ap("127.0.0.1:22")}, []string{"inet", "inet6"}, ""},
		{[]netip.AddrPort{ap("0.0.0.0:22")}, nil, ""}, // an image: unknown
	}
	for _, c := range cases {
		f := Facts{HostFamilies: c.fams}
		got := ""
		if fs := FamilyFindings(c.eps, &f); len(fs) > 0 {
			got = fs[0].Code
			if fs[0].Severity != SevInfo {
				t.Errorf("severity %s", fs[0].Severity)
			}
		}
		if got != c.want {
			t.Errorf("FamilyFindings(%v, %q) = %q, want %q", c.eps, c.fams, got, c.want)
		}
	}
}

func TestSSHDArgPort(t *testing.T) {
	for _, c := range []struct {
		a    SSHDArg
		want int
		ok   bool
	}{
		{SSHDArg{Flag: "p", Value: "2200"}, 2200, true},
		{SSHDArg{Flag: "p", Value: "x"}, 0, false},
		{SSHDArg{Flag: "p", Value: "70000"}, 0, false},
		{SSHDArg{Flag: "o", Value: "Port=2022"}, 2022, true},
		{SSHDArg{Flag: "o", Value: "port 2023"}, 2023, true},
		{SSHDArg{Flag: "o", Value: "PasswordAuthentication=no"}, 0, false},
		{SSHDArg{Flag: "o", Value: "ListenAddress=0.0.0.0:22"}, 0, false},
		{SSHDArg{Flag: "f", Value: "22"}, 0, false},
	} {
		if got, ok := c.a.Port(); got != c.want || ok != c.ok {
			t.Errorf("%v.Port() = %d, %v; want %d, %v", c.a, got, ok, c.want, c.ok)
		}
	}
}
