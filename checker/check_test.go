package checker

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

var (
	any4  = netip.MustParseAddr("0.0.0.0")
	any6  = netip.MustParseAddr("::")
	lo4   = netip.MustParseAddr("127.0.0.1")
	lo6   = netip.MustParseAddr("::1")
	host4 = netip.MustParseAddr("192.0.2.10")
)

// linuxFacts is a typical Linux host.
func linuxFacts(ls ...Listener) Facts {
	return Facts{
		OS:              "linux",
		Ephemeral:       Range{32768, 60999},
		EphemeralSource: "/proc/sys/net/ipv4/ip_local_port_range",
		Reserved:        []Range{{40001, 40001}, {45000, 45010}},
		Listeners:       ls,
		ListenMethod:    MethodNetlink,
	}
}

func codes(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Code+"/"+f.Severity)
	}
	return out
}

func ep(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestCheck(t *testing.T) {
	nginx := Listener{Addr: any4, Port: 8080, PID: 812, Process: "nginx", Inode: 1}
	tests := []struct {
		name  string
		c     Candidate
		f     Facts
		want  []string
		words []string // each must appear in some message
	}{
		{"free unassigned", Candidate{Port: 20022}, linuxFacts(), []string{}, nil},
		{"default port", Candidate{Port: 22, SSHDOwn: true}, linuxFacts(),
			[]string{"default-port/warning", "well-known/warning"}, []string{"default"}},
		{"well-known assigned", Candidate{Port: 222}, linuxFacts(),
			[]string{"well-known/warning", "iana-assigned/warning", "scanner-port/warning"}, []string{"rsh-spx", "0-1023"}},
		{"iana alias", Candidate{Port: 2222}, linuxFacts(),
			[]string{"iana-assigned/warning", "scanner-port/warning"}, []string{"EtherNet-IP-1 (also EtherNet/IP-1): EtherNet/IP I/O"}},
		{"scanner port IANA leaves unassigned", Candidate{Port: 10022}, linuxFacts(),
			[]string{"scanner-port/warning"}, []string{"scanners and honeypots probe"}},
		{"scanner port 2200, configured", Candidate{Port: 2200, SSHDOwn: true}, linuxFacts(),
			[]string{"scanner-port/warning"}, []string{"2200 is an alternate SSH port"}},
		{"ephemeral os", Candidate{Port: 33001}, linuxFacts(),
			[]string{"ephemeral-os/warning"}, []string{"32768-60999", "ip_local_port_range"}},
		{"reserved is not ephemeral", Candidate{Port: 45005}, linuxFacts(), []string{}, nil},
		{"dynamic and ephemeral", Candidate{Port: 50000}, linuxFacts(),
			[]string{"ephemeral-os/warning", "dynamic-iana/warning"}, []string{"49152-65535"}},
		{"dynamic above the linux range", Candidate{Port: 62000}, linuxFacts(),
			[]string{"dynamic-iana/warning"}, nil},
		{"iana fallback range", Candidate{Port: 50000}, Facts{Ephemeral: IANADynamic, EphemeralSource: "IANA dynamic range; the OS range could not be read"},
			[]string{"ephemeral-os/warning", "dynamic-iana/warning"}, []string{"could not be read"}},
		{"duplicate", Candidate{Port: 20022, Others: []int{20022, 2200}}, linuxFacts(),
			[]string{"duplicate/warning"}, []string{"2 times"}},
		{"in use by nginx", Candidate{Port: 8080}, linuxFacts(nginx),
			[]string{"in-use/error", "iana-assigned/warning"}, []string{"pid 812 (nginx)", "0.0.0.0:8080"}},
		{"in use on sshd's port by another process", Candidate{Port: 8080, SSHDOwn: true}, linuxFacts(nginx),
			[]string{"in-use/error", "iana-assigned/warning"}, []string{"nginx"}},
		{"sshd on its own port", Candidate{Port: 20022, SSHDOwn: true},
			linuxFacts(Listener{Addr: any4, Port: 20022, PID: 700, Process: "sshd"}, Listener{Addr: any6, V6Only: true, Port: 20022, PID: 700, Process: "sshd"}),
			[]string{}, nil},
		{"systemd socket activation", Candidate{Port: 20022, SSHDOwn: true},
			linuxFacts(Listener{Addr: any6, Port: 20022, PID: 1, Process: "systemd"}), []string{}, nil},
		{"sshd on a port that is not sshd's", Candidate{Port: 20022},
			linuxFacts(Listener{Addr: any4, Port: 20022, PID: 700, Process: "sshd"}),
			[]string{"in-use/error"}, []string{"pid 700 (sshd)"}},
		{"systemd not pid 1", Candidate{Port: 20022, SSHDOwn: true},
			linuxFacts(Listener{Addr: any4, Port: 20022, PID: 900, Process: "systemd"}),
			[]string{"in-use/error"}, nil},
		{"unknown owner", Candidate{Port: 20022},
			linuxFacts(Listener{Addr: lo4, Port: 20022, Process: "unknown"}),
			[]string{"in-use/error"}, []string{"127.0.0.1:20022 is listened on by unknown", "0.0.0.0:20022"}},
		{"unknown owner on sshd's port", Candidate{Port: 20022, SSHDOwn: true},
			linuxFacts(Listener{Addr: lo4, Port: 20022, Process: "unknown"}),
			[]string{"in-use/warning"}, []string{"perhaps sshd"}},
		{"other address, same port", Candidate{Port: 20022, Endpoints: []netip.AddrPort{ep("192.0.2.10:20022")}},
			linuxFacts(Listener{Addr: lo4, Port: 20022, PID: 5, Process: "x"}), []string{}, nil},
		{"v6only listener, v4 sshd", Candidate{Port: 20022, Endpoints: []netip.AddrPort{ep("0.0.0.0:20022")}},
			linuxFacts(Listener{Addr: any6, V6Only: true, Port: 20022, PID: 5, Process: "x"}), []string{}, nil},
		{"dual-stack listener, v4 sshd", Candidate{Port: 20022, Endpoints: []netip.AddrPort{ep("127.0.0.1:20022")}},
			linuxFacts(Listener{Addr: any6, Port: 20022, PID: 5, Process: "x"}),
			[]string{"in-use/error"}, []string{"[::]:20022 (dual-stack)"}},
		{"v4 loopback listener, v6 sshd", Candidate{Port: 20022, Endpoints: []netip.AddrPort{ep("[::]:20022")}},
			linuxFacts(Listener{Addr: lo4, Port: 20022, PID: 5, Process: "x"}), []string{}, nil},
		{"bound but not listening", Candidate{Port: 20022},
			Facts{Ephemeral: Range{32768, 60999}, Probes: []ProbeResult{{Endpoint: ep("0.0.0.0:20022"), InUse: true}, {Endpoint: ep("[::]:20022"), V6Only: true}}},
			[]string{"in-use/error"}, []string{"not listening"}},
		{"probe explained by a listener", Candidate{Port: 20022},
			Facts{Ephemeral: Range{32768, 60999}, Listeners: []Listener{{Addr: any4, Port: 20022, PID: 3, Process: "x"}}, Probes: []ProbeResult{{Endpoint: ep("0.0.0.0:20022"), InUse: true}}},
			[]string{"in-use/error"}, []string{"pid 3 (x)"}},
		{"probe of sshd's own listener", Candidate{Port: 20022, SSHDOwn: true},
			Facts{Ephemeral: Range{32768, 60999}, Listeners: []Listener{{Addr: any4, Port: 20022, PID: 3, Process: "sshd"}}, Probes: []ProbeResult{{Endpoint: ep("0.0.0.0:20022"), InUse: true}}},
			[]string{}, nil},
		{"probe failed otherwise", Candidate{Port: 20022},
			Facts{Probes: []ProbeResult{{Endpoint: ep("192.0.2.10:20022"), Err: "cannot assign requested address"}}},
			[]string{}, nil},
		{"everything at once", Candidate{Port: 22, Others: []int{22}},
			Facts{Ephemeral: Range{1, 65535}, EphemeralSource: "test", Listeners: []Listener{{Addr: any4, Port: 22, PID: 9, Process: "nc"}}},
			[]string{"in-use/error", "duplicate/warning", "default-port/warning", "well-known/warning", "ephemeral-os/warning"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.c, tt.f)
			if !slices.Equal(codes(got), tt.want) {
				t.Fatalf("Check = %q, want %q\n%v", codes(got), tt.want, got)
			}
			var all strings.Builder
			for _, f := range got {
				if f.Port != tt.c.Port || f.Message == "" {
					t.Errorf("bad finding %+v", f)
				}
				all.WriteString(f.Message + "\n")
			}
			for _, w := range tt.words {
				if !strings.Contains(all.String(), w) {
					t.Errorf("messages lack %q:\n%s", w, all.String())
				}
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	tests := []struct {
		held       netip.Addr
		heldV6Only bool
		want       netip.Addr
		wantV6Only bool
		blocks     bool
	}{
		{any4, false, any4, false, true},
		{any4, false, lo4, false, true},
		{lo4, false, any4, false, true},
		{lo4, false, lo4, false, true},
		{lo4, false, host4, false, false},
		{any6, false, any4, false, true}, // dual-stack [::] holds 0.0.0.0
		{any6, false, lo4, false, true},  // and every IPv4 address
		{any6, true, any4, false, false}, // v6only [::] does not
		{any6, true, lo4, false, false},  //
		{any4, false, any6, false, true}, // 0.0.0.0 blocks a dual-stack [::]
		{any4, false, any6, true, false}, // not a v6only one
		{lo4, false, any6, true, false},  // 127.0.0.1 does not block v6only [::]
		{lo4, false, any6, false, true},  // but blocks dual-stack [::]
		{lo6, false, any4, false, false}, // 0.0.0.0 beside dual-stack ::1 (Linux 6.18)
		{lo6, true, any4, false, false},  //
		{lo6, false, lo4, false, false},  //
		{lo4, false, lo6, false, false},  //
		{any6, true, any6, true, true},   // same family wildcard
		{any6, false, lo6, true, true},   //
		{lo6, true, any6, true, true},    //
		{lo6, true, lo6, false, true},    //
		{lo6, true, netip.MustParseAddr("2001:db8::1"), true, false},
		{netip.MustParseAddr("::ffff:127.0.0.1"), false, lo4, false, true}, // mapped counts as IPv4
	}
	for _, tt := range tests {
		if got := Blocks(tt.held, tt.heldV6Only, tt.want, tt.wantV6Only); got != tt.blocks {
			t.Errorf("Blocks(%v v6only=%v, %v v6only=%v) = %v, want %v", tt.held, tt.heldV6Only, tt.want, tt.wantV6Only, got, tt.blocks)
		}
	}
}

func TestScreen(t *testing.T) {
	f := linuxFacts(Listener{Addr: lo4, Port: 20022}, Listener{Addr: lo6, Port: 1500})
	f.Probes = []ProbeResult{{Endpoint: ep("0.0.0.0:30004"), InUse: true}, {Endpoint: ep("0.0.0.0:30005"), Err: "x"}}
	s := NewScreen(f)
	tests := []struct {
		port int
		want string
	}{
		{20022, "in-use"},
		{20023, ""},
		{1500, "iana-assigned,in-use"},
		{30004, "in-use"},
		{30005, ""},
		{22, "default-port,well-known"},
		{222, "well-known,iana-assigned,scanner-port"},
		{2222, "iana-assigned,scanner-port"},
		{10022, "scanner-port"},
		{33001, "ephemeral-os"},
		{40001, ""}, // reserved
		{50000, "ephemeral-os,dynamic-iana"},
		{65535, "dynamic-iana"},
		{0, "invalid-port"},
		{65536, "invalid-port"},
	}
	for _, tt := range tests {
		if got := s.Reasons(tt.port).String(); got != tt.want {
			t.Errorf("Reasons(%d) = %q, want %q", tt.port, got, tt.want)
		}
	}
	// Screen and Check agree on the ports Check judges without listeners.
	for _, p := range []int{22, 222, 2222, 20023, 33001, 40001, 50000, 65535} {
		var got []string
		for _, f := range Check(Candidate{Port: p}, linuxFacts()) {
			got = append(got, f.Code)
		}
		if want := s.Reasons(p).Codes(); !slices.Equal(got, want) {
			t.Errorf("port %d: Check %q, Screen %q", p, got, want)
		}
		for _, c := range s.Reasons(p).Codes() {
			if s.Message(p, c) == "" {
				t.Errorf("no message for %d %s", p, c)
			}
		}
	}
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in   string
		want []Range
		err  bool
	}{
		{"", nil, false},
		{"\n", nil, false},
		{"8080,9000-9010\n", []Range{{8080, 8080}, {9000, 9010}}, false},
		{"1, 2", []Range{{1, 1}, {2, 2}}, false},
		{"9-8", nil, true},
		{"70000", nil, true},
		{"x", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseRanges(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseRanges(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestStatic(t *testing.T) {
	want := linuxFacts(Listener{Addr: lo4, Port: 1})
	var p Prober = Static{want}
	got, err := p.Probe(context.Background(), Request{})
	if err != nil || len(got.Listeners) != 1 || got.Ephemeral != want.Ephemeral {
		t.Errorf("Static.Probe = %+v, %v", got, err)
	}
}

func BenchmarkScreen(b *testing.B) {
	s := NewScreen(linuxFacts(Listener{Addr: lo4, Port: 20022}))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Reasons(1024 + i%48128)
	}
}
