package suggest

import (
	"bytes"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/sshcfg"
)

// BenchmarkPlanBig is MakePlan and Diff on a 16 MiB configuration (a
// Port line, then "Match User" blocks as scripts/bigconfig.sh writes them):
// B/op shows what a plan costs beyond the file's old and new bytes.
func BenchmarkPlanBig(b *testing.B) {
	data := make([]byte, 0, 16<<20+256)
	data = append(data, "# generated\nPort 22\nPasswordAuthentication no\n"...)
	for n := 1; len(data) < 16<<20; n++ {
		data = fmt.Appendf(data, "# user %d: managed entry, see ticket OPS-%d for the reason it exists\n", n, n)
		data = fmt.Appendf(data, "Match User u%d Address 10.%d.0.0/16\n", n, n%250)
		data = append(data, "\tAllowTcpForwarding no\n\tX11Forwarding no\n\tPermitTTY yes\n"...)
		data = fmt.Appendf(data, "\tBanner /etc/ssh/banner-%d\n\n", n)
	}
	fsys := fstest.MapFS{"etc/ssh/sshd_config": {Data: data}}
	cfg, err := sshcfg.Load(fsys, "/etc/ssh/sshd_config", &sshcfg.Options{OpenSSH: "9.2"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := MakePlan(cfg, fsys, 20022, PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if d := Diff(p.Changes); !bytes.Contains(d, []byte("\n-Port 22\n+Port 20022\n")) {
			b.Fatalf("diff:\n%s", d)
		}
	}
}
