package sshcfg_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
)

// TestCommandLineArgs compares sshcfg's reading of -p and -o with the real
// sshd -T given the same options: -p replaces every Port line, -o Port adds
// one, a ListenAddress with its own port keeps it, order matters.
func TestCommandLineArgs(t *testing.T) {
	cases := []struct {
		name   string
		config string
		args   []sshcfg.CmdArg
	}{
		{"p replaces Port lines", "Port 22\nPort 2200\n", []sshcfg.CmdArg{{Flag: 'p', Value: "2222"}}},
		{"two p", "Port 22\n", []sshcfg.CmdArg{{Flag: 'p', Value: "2222"}, {Flag: 'p', Value: "2223"}}},
		{"o Port adds before the files", "Port 22\n", []sshcfg.CmdArg{{Flag: 'o', Value: "Port=2222"}}},
		{"o Port with space", "Port 22\n", []sshcfg.CmdArg{{Flag: 'o', Value: "Port 2222"}}},
		{"o then p", "Port 22\n", []sshcfg.CmdArg{{Flag: 'o', Value: "Port=2222"}, {Flag: 'p', Value: "2223"}}},
		{"p then o", "Port 22\n", []sshcfg.CmdArg{{Flag: 'p', Value: "2223"}, {Flag: 'o', Value: "Port=2222"}}},
		{"p with ListenAddress port", "ListenAddress 127.0.0.1:2000\nListenAddress 127.0.0.2\n", []sshcfg.CmdArg{{Flag: 'p', Value: "2223"}}},
		{"o ListenAddress", "Port 2200\n", []sshcfg.CmdArg{{Flag: 'o', Value: "ListenAddress=127.0.0.1"}}},
		{"o AddressFamily", "Port 2200\n", []sshcfg.CmdArg{{Flag: 'o', Value: "AddressFamily=inet"}}},
		{"p service name", "", []sshcfg.CmdArg{{Flag: 'p', Value: "ssh"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc/ssh/sshd_config"), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := sshcfg.Load(rootfstest.Open(t, root), sshdtest.MainConfig, &sshcfg.Options{Resolver: sshdtest.Names{Root: root}, OpenSSH: sshdtest.OracleOpenSSH, Args: c.args})
			for _, p := range cfg.Ports {
				if p.Default && len(c.args) > 0 && c.args[0].Flag == 'p' {
					t.Errorf("default port reported beside -p")
				}
			}
			sshdtest.Require(t)
			var extra []string
			for _, a := range c.args {
				extra = append(extra, "-"+string(a.Flag), a.Value)
			}
			want := sshdtest.Run(t, root, sshdtest.MainConfig, extra...)
			if d := disagreement(cfg, err, want); d != "" {
				t.Errorf("%s\nsshd -T %v said:\n%s", d, extra, want.Stdout)
			}
		})
	}
}
