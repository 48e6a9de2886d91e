package sshcfg

import (
	"io/fs"
	"os"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
)

// BenchmarkLoadLive is Load as `sshport check` runs it on this machine:
// the release read from the package database, every value judged.
func BenchmarkLoadLive(b *testing.B) {
	live := rootfstest.Live(b)
	dir := b.TempDir()
	conf := "Port 20022\nPasswordAuthentication no\nCiphers aes128-ctr,aes256-gcm@openssh.com\nKexAlgorithms curve25519-sha256\nHostKeyAlgorithms ssh-ed25519*\nSubsystem sftp internal-sftp\n"
	if err := os.MkdirAll(dir+"/etc/ssh", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dir+"/etc/ssh/sshd_config", []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, openssh string }{{"detect", ""}, {"given", "9.2"}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				if _, err := Load(live, dir+"/etc/ssh/sshd_config", &Options{OpenSSH: bc.openssh}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadStatus(b *testing.B) {
	live := rootfstest.Live(b)
	for range b.N {
		if _, err := fs.ReadFile(live, "var/lib/dpkg/status"); err != nil {
			b.Fatal(err)
		}
	}
}
