package sshcfg

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// bigConfig returns an sshd_config of about size bytes in the style of
// scripts/bigconfig.sh: a Port line, then per managed user a comment, a
// "Match User" block of four directives and a blank line.
func bigConfig(size int) []byte {
	b := make([]byte, 0, size+256)
	b = append(b, "# generated\nPort 22\nPasswordAuthentication no\n"...)
	for n := 1; len(b) < size; n++ {
		b = fmt.Appendf(b, "# user %d: managed entry, see ticket OPS-%d for the reason it exists\n", n, n)
		b = fmt.Appendf(b, "Match User u%d Address 10.%d.0.0/16\n", n, n%250)
		b = append(b, "\tAllowTcpForwarding no\n\tX11Forwarding no\n\tPermitTTY yes\n"...)
		b = fmt.Appendf(b, "\tBanner /etc/ssh/banner-%d\n\n", n)
	}
	return b
}

// BenchmarkLoadBig is Load on a 16 MiB configuration: its allocations
// (B/op) show what a large file costs beyond its own bytes.
func BenchmarkLoadBig(b *testing.B) {
	data := bigConfig(16 << 20)
	fsys := fstest.MapFS{"etc/ssh/sshd_config": {Data: data}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		cfg, err := Load(fsys, mainCfg, &Options{OpenSSH: "9.2"})
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Ports) != 1 || cfg.Ports[0].Port != 22 {
			b.Fatalf("ports %v", cfg.Ports)
		}
	}
}
