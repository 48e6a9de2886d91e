package suggest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
	"github.com/sshport/sshport/sshcfg"
	"github.com/sshport/sshport/suggest"
)

func TestMakePlan(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		port    int
		keepOld bool
		want    []int  // ports after the plan
		changed bool   // whether files change
		errHas  string // an error holding this
	}{
		{name: "single port", files: mainOnly("Port 22\n"), port: 20022, want: []int{20022}, changed: true},
		{name: "already there", files: mainOnly("Port 20022\n"), port: 20022, want: []int{20022}},
		{name: "default 22", files: mainOnly("#Port 22\n"), port: 20022, want: []int{20022}, changed: true},
		{name: "keep old", files: mainOnly("Port 22\n"), port: 20022, keepOld: true, want: []int{22, 20022}, changed: true},
		{name: "keep old already there", files: mainOnly("Port 22\nPort 20022\n"), port: 20022, keepOld: true, want: []int{22, 20022}},
		{name: "every ListenAddress has a port", files: mainOnly("Port 22\nListenAddress 127.0.0.1:2222\nListenAddress [::1]:2222\n"),
			port: 20022, want: []int{20022}, changed: true},
		{name: "mixed ListenAddress", files: mainOnly("Port 22\nListenAddress 127.0.0.1:2222\nListenAddress ::1\n"),
			port: 20022, want: []int{20022}, changed: true},
		{name: "keep old with ListenAddress port", files: mainOnly("ListenAddress 127.0.0.1:2222\n"), port: 20022, keepOld: true,
			want: []int{2222, 20022}, changed: true},
		{name: "keep old with Match LocalPort", files: mainOnly("Port 22\nMatch LocalPort 22\n\tPasswordAuthentication no\n"), port: 20022, keepOld: true,
			want: []int{22, 20022}, changed: true},
		{name: "finishing with ListenAddress siblings", files: mainOnly("ListenAddress 127.0.0.1:2222\nListenAddress 127.0.0.1:20022\n"), port: 20022,
			want: []int{20022}, changed: true},
		{name: "keep old with no Port line", files: mainOnly("PasswordAuthentication no\n"), port: 20022, keepOld: true,
			want: []int{22, 20022}, changed: true},
		{name: "too many ports with keep old", files: mainOnly(strings.Repeat("Port 22\n", 256)), port: 20022, keepOld: true,
			errHas: "257 ports is more than sshd accepts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, d := range tc.files {
				fsys[strings.TrimPrefix(n, "/")] = &fstest.MapFile{Data: []byte(d)}
			}
			cfg, err := sshcfg.Load(fsys, sshcfg.DefaultConfig, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := suggest.MakePlan(cfg, fsys, tc.port, suggest.PlanOptions{KeepOld: tc.keepOld})
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one holding %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Ports, tc.want) || p.Changed != tc.changed {
				t.Fatalf("plan ports %v changed %v, want %v %v", p.Ports, p.Changed, tc.want, tc.changed)
			}
			var changes []sshcfg.Change
			for _, c := range p.Changes {
				changes = append(changes, sshcfg.Change{Path: c.Path, Old: c.Old, New: c.New})
			}
			after, err := sshcfg.Load(sshcfg.Overlay(fsys, changes), sshcfg.DefaultConfig, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := suggest.ListenPorts(after); !slices.Equal(got, tc.want) {
				t.Errorf("read back: %v, want %v", got, tc.want)
			}
		})
	}
}

func mainOnly(s string) map[string]string { return map[string]string{"/etc/ssh/sshd_config": s} }

// TestMatchLocalPortMoves checks with the real sshd that a connection on the
// new port gets exactly the settings a connection on the old port got.
func TestMatchLocalPortMoves(t *testing.T) {
	sshdtest.Require(t)
	root := t.TempDir()
	cfgFile := filepath.Join(root, "etc/ssh/sshd_config")
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o755); err != nil {
		t.Fatal(err)
	}
	const conf = "Port 22\nPasswordAuthentication yes\nMatch LocalPort 22\n\tPasswordAuthentication no\n\tMaxAuthTries 2\nMatch User admin\n\tBanner none\n"
	if err := os.WriteFile(cfgFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	conn := func(lport string) []string {
		return []string{"-C", "lport=" + lport + ",user=alice,host=h.example,addr=192.0.2.1,laddr=192.0.2.2"}
	}
	before := sshdtest.RunWith(t, root, sshcfg.DefaultConfig, conn("22")...)
	cfg, err := sshcfg.Load(rootfstest.Open(t, root), sshcfg.DefaultConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := suggest.MakePlan(cfg, rootfstest.Open(t, root), 20022, suggest.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "Match LocalPort 22") {
		t.Errorf("notes %q do not say the Match block moves", p.Notes)
	}
	if _, err := suggest.Apply(context.Background(), p.Changes, suggest.ApplyOptions{Root: rootfstest.Open(t, root), BackupSuffix: ".bak"}); err != nil {
		t.Fatal(err)
	}
	after := sshdtest.RunWith(t, root, sshcfg.DefaultConfig, conn("20022")...)
	if before.Refused() || after.Refused() {
		t.Fatalf("sshd refused: %s %s", before.Err, after.Err)
	}
	settings := func(out string) []string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "port ") && !strings.HasPrefix(l, "listenaddress ") {
				keep = append(keep, l)
			}
		}
		return keep
	}
	if b, a := settings(before.Stdout), settings(after.Stdout); !slices.Equal(b, a) {
		t.Errorf("a connection on 20022 gets other settings than one on 22 had")
	}
	if !strings.Contains(after.Stdout, "passwordauthentication no") || !strings.Contains(after.Stdout, "maxauthtries 2") {
		t.Errorf("the Match LocalPort block does not apply on the new port:\n%s", after.Stdout)
	}
	// And the old port no longer gets them.
	old := sshdtest.RunWith(t, root, sshcfg.DefaultConfig, conn("22")...)
	if !strings.Contains(old.Stdout, "passwordauthentication yes") {
		t.Errorf("the block still applies on port 22")
	}
}
