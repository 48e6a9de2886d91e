package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sample = `<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
  <updated>2026-01-02</updated>
  <record><protocol>tcp</protocol><description>Reserved</description><number>0</number></record>
  <record><name>ssh</name><protocol>tcp</protocol><description>The Secure
  Shell (SSH) Protocol</description><number>22</number></record>
  <record><name>ssh</name><protocol>udp</protocol><description>The Secure Shell (SSH) Protocol</description><number>22</number></record>
  <record><name>EtherNet-IP-1</name><protocol>tcp</protocol><description>EtherNet/IP I/O<br/><br/>
IANA assigned this well-formed service name as a replacement.</description><number>2222</number></record>
  <record><name>EtherNet/IP-1</name><protocol>tcp</protocol><description>EtherNet/IP I/O</description><number>2222</number></record>
  <record><protocol>tcp</protocol><description>Unassigned</description><number>7770-7780</number></record>
  <record><name>inetfs</name><protocol>tcp</protocol><description></description><number>7775</number></record>
  <record><name>flex-lm</name><description>FLEX LM (1-10)</description><number>27000-27002</number></record>
  <record><name>udponly</name><protocol>udp</protocol><description>x</description><number>716</number></record>
  <record><name>noport</name><protocol>tcp</protocol><description>name only</description></record>
  <record><name>amp</name><protocol>tcp</protocol><description>a &amp; b</description><number>9</number></record>
</registry>`

func TestParseSample(t *testing.T) {
	ports, updated, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if updated != "2026-01-02" {
		t.Errorf("updated = %q", updated)
	}
	tests := []struct {
		port  int
		names []string
		desc  string
	}{
		{9, []string{"amp"}, "a & b"},
		{22, []string{"ssh"}, "The Secure Shell (SSH) Protocol"},
		{2222, []string{"EtherNet-IP-1", "EtherNet/IP-1"}, "EtherNet/IP I/O"},
		{7775, []string{"inetfs"}, ""},
		{27000, []string{"flex-lm"}, "FLEX LM (1-10)"},
		{27002, []string{"flex-lm"}, "FLEX LM (1-10)"},
	}
	for _, tt := range tests {
		e := ports[tt.port]
		if e == nil {
			t.Errorf("port %d missing", tt.port)
			continue
		}
		if !slices.Equal(e.names, tt.names) || e.desc != tt.desc {
			t.Errorf("port %d = %q %q, want %q %q", tt.port, e.names, e.desc, tt.names, tt.desc)
		}
	}
	if len(ports) != 7 { // 9, 22, 2222, 7775, 27000-27002; not 0, 716, 7770
		keys := []int{}
		for p := range ports {
			keys = append(keys, p)
		}
		slices.Sort(keys)
		t.Errorf("ports = %v, want 7 of them", keys)
	}
	src, err := render(ports, updated)
	if err != nil {
		t.Fatal(err)
	}
	// The three flex-lm ports share one text line.
	if n := bytes.Count(src, []byte("flex-lm\t")); n != 1 {
		t.Errorf("flex-lm written %d times, want once", n)
	}
}

func TestRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"<registry></registry>",
		`<registry><updated>x</updated><record><name>a</name><protocol>tcp</protocol><number>70000</number></record></registry>`,
		`<registry><updated>x</updated><record><name>a</name><protocol>tcp</protocol><number>9-8</number></record></registry>`,
	} {
		if _, _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("parse(%q) succeeded", in)
		}
	}
}

// TestCommittedTableIsFresh regenerates the table from the shared registry
// and requires the committed bytes.
func TestCommittedTableIsFresh(t *testing.T) {
	in := filepath.Join("..", "..", "..", "..", "shared", "data", "iana", "service-names-port-numbers.xml")
	if _, err := os.Stat(in); err != nil {
		t.Skipf("registry not available: %v", err)
	}
	out := filepath.Join(t.TempDir(), "iana_table.go")
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "iana_table.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("checker/iana_table.go is stale: run go generate ./checker")
	}
}
