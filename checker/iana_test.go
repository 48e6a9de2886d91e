package checker

import (
	"slices"
	"testing"
)

func TestIANASpotChecks(t *testing.T) {
	// The spot checks of shared/data/iana/SOURCE.md.
	tests := []struct {
		port     int
		assigned bool
		names    []string
		desc     string
		class    Class
	}{
		{22, true, []string{"ssh"}, "The Secure Shell (SSH) Protocol", WellKnown},
		{25, true, []string{"smtp"}, "Simple Mail Transfer", WellKnown},
		{80, true, []string{"http", "www", "www-http"}, "World Wide Web HTTP", WellKnown},
		{443, true, []string{"https"}, "http protocol over TLS/SSL", WellKnown},
		{222, true, []string{"rsh-spx"}, "Berkeley rshd with SPX auth", WellKnown},
		{2222, true, []string{"EtherNet-IP-1", "EtherNet/IP-1"}, "EtherNet/IP I/O", Registered},
		{2022, true, []string{"down"}, "", Registered},
		{3306, true, []string{"mysql"}, "MySQL", Registered},
		{5432, true, []string{"postgresql"}, "PostgreSQL Database", Registered},
		{8022, true, []string{"oa-system"}, "oa-system", Registered},
		{8080, true, []string{"http-alt"}, "HTTP Alternate (see port 80)", Registered},
		{22222, true, []string{"easyengine"}, "EasyEngine is CLI tool to manage WordPress Sites on Nginx server", Registered},
		{7775, true, []string{"inetfs"}, "", Registered},         // named row inside an Unassigned range
		{7997, true, []string{"pushns"}, "", Registered},         // same
		{4250, true, []string{"vrml-multi-use"}, "", Registered}, // blank protocol range 4200-4299
		{10022, false, nil, "", Registered},
		{20022, false, nil, "", Registered},
		{0, false, nil, "", WellKnown},     // Reserved
		{1023, false, nil, "", WellKnown},  // Reserved
		{716, false, nil, "", WellKnown},   // UDP only
		{4794, false, nil, "", Registered}, // Reserved for TCP, UDP assigned
		{49152, false, nil, "", Dynamic},
		{65535, false, nil, "", Dynamic},
		{65536, false, nil, "", Invalid},
		{-1, false, nil, "", Invalid},
	}
	for _, tt := range tests {
		a, ok := IANA(tt.port)
		if ok != tt.assigned || IANAAssigned(tt.port) != tt.assigned {
			t.Errorf("IANA(%d) assigned = %v, want %v", tt.port, ok, tt.assigned)
			continue
		}
		if got := ClassOf(tt.port); got != tt.class {
			t.Errorf("ClassOf(%d) = %v, want %v", tt.port, got, tt.class)
		}
		if !ok {
			continue
		}
		if !slices.Equal(a.Names, tt.names) || a.Port != tt.port {
			t.Errorf("IANA(%d) names = %q, want %q", tt.port, a.Names, tt.names)
		}
		if tt.desc != "" && a.Description != tt.desc {
			t.Errorf("IANA(%d) description = %q, want %q", tt.port, a.Description, tt.desc)
		}
	}
}

func TestIANATotals(t *testing.T) {
	// SOURCE.md: 6,148 TCP-assigned distinct ports in the 2026-08-17 XML,
	// 682 in 0-1023, 5,466 in 1024-49151, none dynamic.
	counts := map[Class]int{}
	n := 0
	for p := 0; p <= 65535; p++ {
		if _, ok := IANA(p); ok {
			counts[ClassOf(p)]++
			n++
		}
	}
	if n != 6148 || len(ianaPort) != 6148 {
		t.Errorf("TCP-assigned ports = %d (table %d), want 6148", n, len(ianaPort))
	}
	if counts[WellKnown] != 682 || counts[Registered] != 5466 || counts[Dynamic] != 0 {
		t.Errorf("by class %v, want 682 well-known, 5466 registered, 0 dynamic", counts)
	}
	if IANAUpdated != "2026-08-17" {
		t.Errorf("IANAUpdated = %q", IANAUpdated)
	}
}

func BenchmarkIANAAssigned(b *testing.B) {
	for i := 0; i < b.N; i++ {
		IANAAssigned(i & 0xffff)
	}
}
