package suggest

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/sshcfg"
)

func TestWriteOrder(t *testing.T) {
	const main = "/etc/ssh/sshd_config"
	const inc = "Include /etc/ssh/sshd_config.d/*.conf\n"
	tests := []struct {
		name       string
		files      map[string][2]string // path -> old, new
		read       []string             // the changes' order (reading order)
		prev, want []int
		order      []string // want; nil: an error
	}{
		{name: "drop-in gets the new port before main loses its",
			files: map[string][2]string{
				main:                            {inc + "Port 22\n", inc},
				"/etc/ssh/sshd_config.d/a.conf": {"Port 2222\n", "Port 20022\n"},
			},
			read: []string{main, "/etc/ssh/sshd_config.d/a.conf"}, prev: []int{2222, 22}, want: []int{20022},
			order: []string{"/etc/ssh/sshd_config.d/a.conf", main}},
		{name: "reading order kept when it is safe",
			files: map[string][2]string{
				main:                            {inc + "Port 22\n", inc + "Port 20022\n"},
				"/etc/ssh/sshd_config.d/a.conf": {"Port 2222\n", ""},
			},
			read: []string{main, "/etc/ssh/sshd_config.d/a.conf"}, prev: []int{2222, 22}, want: []int{20022},
			order: []string{main, "/etc/ssh/sshd_config.d/a.conf"}},
		{name: "keep-old: the additions first",
			files: map[string][2]string{
				main:                            {inc + "Port 22\n", inc},
				"/etc/ssh/sshd_config.d/a.conf": {"Port 2222\n", "Port 2222\nPort 22\nPort 20022\n"},
			},
			read: []string{main, "/etc/ssh/sshd_config.d/a.conf"}, prev: []int{2222, 22}, want: []int{2222, 22, 20022},
			order: []string{"/etc/ssh/sshd_config.d/a.conf", main}},
		{name: "a swap in two files has no safe order",
			files: map[string][2]string{
				main:                            {inc + "Port 1\n", inc + "Port 3\n"},
				"/etc/ssh/sshd_config.d/a.conf": {"Port 2\n", "Port 4\n"},
			},
			read: []string{main, "/etc/ssh/sshd_config.d/a.conf"}, prev: []int{2, 1}, want: []int{4, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			var changes []sshcfg.Change
			for _, p := range tc.read {
				f := tc.files[p]
				fsys[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: []byte(f[0])}
				changes = append(changes, sshcfg.Change{Path: p, Old: []byte(f[0]), New: []byte(f[1])})
			}
			cfg, err := sshcfg.Load(fsys, main, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := writeOrder(cfg, fsys, changes, tc.prev, tc.want)
			if tc.order == nil {
				if err == nil {
					t.Fatalf("order %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Path)
			}
			if !slices.Equal(names, tc.order) {
				t.Errorf("order %v, want %v", names, tc.order)
			}
		})
	}
}
