package sshcfg

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
)

// TestIncludeMayRead checks IncludeMayRead's answer and, as an oracle, that
// Load, once the file is there, reads it exactly when IncludeMayRead said so.
func TestIncludeMayRead(t *testing.T) {
	tests := []struct {
		name    string
		dirs    []string          // directories to make
		links   map[string]string // symlinks: path -> target
		pattern string
		dir     string // symlink-free directory of the file asked about
		base    string
		want    bool
		// noOracle: the directory does not exist, so the answer is for
		// the tree as it is (the caller matches the text of the pattern
		// too); making the file makes the directory.
		noOracle bool
	}{
		{name: "plain glob", dirs: []string{"/etc/ssh/sshd_config.d"},
			pattern: "/etc/ssh/sshd_config.d/*", dir: "/etc/ssh/sshd_config.d", base: "a.conf.bak", want: true},
		{name: "suffix not matched", dirs: []string{"/etc/ssh/sshd_config.d"},
			pattern: "/etc/ssh/sshd_config.d/*.conf", dir: "/etc/ssh/sshd_config.d", base: "a.conf.bak"},
		{name: "hidden name not matched by *", dirs: []string{"/etc/ssh/sshd_config.d"},
			pattern: "/etc/ssh/sshd_config.d/*", dir: "/etc/ssh/sshd_config.d", base: ".a.conf"},
		{name: "hidden name matched by .*", dirs: []string{"/etc/ssh/sshd_config.d"},
			pattern: "/etc/ssh/sshd_config.d/.*", dir: "/etc/ssh/sshd_config.d", base: ".a.conf", want: true},
		{name: "directory reached through a symlink", dirs: []string{"/etc/ssh/real.d"},
			links:   map[string]string{"/etc/ssh/sshd_config.d": "real.d"},
			pattern: "/etc/ssh/sshd_config.d/*", dir: "/etc/ssh/real.d", base: "a.conf.bak", want: true},
		{name: "absolute symlink stays in the root", dirs: []string{"/opt/drop"},
			links:   map[string]string{"/etc/ssh/sshd_config.d": "/opt/drop"},
			pattern: "/etc/ssh/sshd_config.d/*", dir: "/opt/drop", base: "x", want: true},
		{name: "relative pattern below /etc/ssh through a link", dirs: []string{"/etc/ssh/real.d"},
			links:   map[string]string{"/etc/ssh/sshd_config.d": "real.d"},
			pattern: "sshd_config.d/*", dir: "/etc/ssh/real.d", base: "x", want: true},
		{name: "wildcard directory segment", dirs: []string{"/etc/ssh/a.d", "/etc/ssh/b.d"},
			pattern: "/etc/ssh/*.d/*", dir: "/etc/ssh/b.d", base: "x", want: true},
		{name: "other directory", dirs: []string{"/etc/ssh/sshd_config.d", "/var/backups/sshport/etc/ssh/sshd_config.d"},
			pattern: "/etc/ssh/sshd_config.d/*", dir: "/var/backups/sshport/etc/ssh/sshd_config.d", base: "x"},
		{name: "missing directory", pattern: "/etc/ssh/nowhere/*", dir: "/etc/ssh/nowhere", base: "x", noOracle: true},
		{name: "dot-dot in the pattern", dirs: []string{"/etc/ssh/sshd_config.d", "/etc/ssh/real.d"},
			pattern: "/etc/ssh/sshd_config.d/../real.d/*", dir: "/etc/ssh/real.d", base: "x", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{mainCfg: "Include " + tt.pattern + "\n"}
			for _, d := range tt.dirs {
				files[d+"/"] = ""
			}
			top := rootTree(t, files, tt.links)
			root := rootfstest.Open(t, top)
			if got := IncludeMayRead(root, tt.pattern, tt.dir, tt.base); got != tt.want {
				t.Fatalf("IncludeMayRead(%q, %q, %q) = %v, want %v", tt.pattern, tt.dir, tt.base, got, tt.want)
			}
			if tt.noOracle {
				return
			}
			// The oracle: make the file and see whether Load reads it.
			host := filepath.Join(top, filepath.FromSlash(tt.dir), tt.base)
			if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(host, []byte("Port 7\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(root, mainCfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			read := len(cfg.Files) > 1
			if read != tt.want {
				t.Fatalf("Load read %d files with the file there; IncludeMayRead said %v", len(cfg.Files), tt.want)
			}
		})
	}
}
