package suggest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
)

// The -update flag rewrites the golden files. It is defined here only if
// another test file of the package has not defined it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const mainCfg = `# This is the sshd server system-wide configuration file.
Include /etc/ssh/sshd_config.d/*.conf

#Port 22
Port 22
#AddressFamily any
#ListenAddress 0.0.0.0

PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM yes
Subsystem	sftp	/usr/lib/openssh/sftp-server
`

// diffCases are the layouts whose unified diff is kept under testdata/ and
// applied with GNU patch, git apply and Apply.
var diffCases = []struct {
	name    string
	changes []FileChange
}{
	{
		name: "single",
		changes: []FileChange{{
			Path: "/etc/ssh/sshd_config",
			Old:  []byte(mainCfg),
			New:  []byte(strings.Replace(mainCfg, "\nPort 22\n", "\nPort 20022\n", 1)),
		}},
	},
	{
		name: "dropin-and-main",
		changes: []FileChange{
			{
				Path: "/etc/ssh/sshd_config.d/50-cloud-init.conf",
				Old:  []byte("PasswordAuthentication no\nPort 2222\nPort\t2223\n"),
				New:  []byte("PasswordAuthentication no\nPort 20022\n#Port\t2223\n"),
			},
			{
				Path: "/etc/ssh/sshd_config",
				Old:  []byte(mainCfg),
				New:  []byte(strings.Replace(mainCfg, "\nPort 22\n", "\n#Port 22\n", 1)),
			},
		},
	},
	{
		name: "crlf",
		changes: []FileChange{{
			Path: "/etc/ssh/sshd_config",
			Old:  []byte("# windows editor\r\nPort 22\r\nUsePAM yes\r\n\r\nX11Forwarding no\r\n"),
			New:  []byte("# windows editor\r\nPort 20022\r\nUsePAM yes\r\n\r\nX11Forwarding no\r\n"),
		}},
	},
	{
		name: "no-final-newline",
		changes: []FileChange{{
			Path: "/etc/ssh/sshd_config",
			Old:  []byte("UsePAM yes\nX11Forwarding no\nPort 22"),
			New:  []byte("UsePAM yes\nX11Forwarding no\nPort 20022"),
		}},
	},
	{
		name: "no-final-newline-context",
		changes: []FileChange{{
			Path: "/etc/ssh/sshd_config",
			Old:  []byte("Port 22\nUsePAM yes\nX11Forwarding no"),
			New:  []byte("Port 20022\nUsePAM yes\nX11Forwarding no"),
		}},
	},
	{
		name: "path-with-space",
		changes: []FileChange{{
			Path: "/etc/ssh/sshd config.d/my port.conf",
			Old:  []byte("Port 22\n"),
			New:  []byte("Port 20022\n"),
		}},
	},
	{
		name: "path-with-tab-and-quote",
		changes: []FileChange{{
			Path: "/etc/ssh/odd\tname \"x\".conf",
			Old:  []byte("Port 22\n"),
			New:  []byte("Port 20022\n"),
		}},
	},
	{
		name: "unchanged-omitted",
		changes: []FileChange{
			{
				Path: "/etc/ssh/sshd_config.d/10-other.conf",
				Old:  []byte("Port 22\nPermitRootLogin no\n"),
				New:  []byte("Port 22\nPermitRootLogin no\n"),
			},
			{
				Path: "/etc/ssh/sshd_config",
				Old:  []byte(mainCfg),
				New:  []byte(strings.Replace(mainCfg, "\nPort 22\n", "\nPort 20022\n", 1)),
			},
		},
	},
}

func TestDiffGolden(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(tc.changes)
			golden := filepath.Join("testdata", "diff-"+tc.name+".golden")
			if updateGolden() {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestDiffGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Diff differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			for _, c := range tc.changes {
				if !c.Changed() && bytes.Contains(got, []byte(strings.TrimPrefix(c.Path, "/"))) {
					t.Errorf("unchanged %s appears in the diff", c.Path)
				}
			}
		})
	}
}

func TestDiffEmpty(t *testing.T) {
	tests := []struct {
		name    string
		changes []FileChange
	}{
		{"nil", nil},
		{"all unchanged", []FileChange{
			{Path: "/etc/ssh/sshd_config", Old: []byte("Port 22\n"), New: []byte("Port 22\n")},
			{Path: "/etc/ssh/x.conf", Old: []byte("a"), New: []byte("a")},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := Diff(tc.changes); len(d) != 0 {
				t.Errorf("Diff = %q, want empty", d)
			}
		})
	}
}

func TestHeaderName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a/etc/ssh/sshd_config", "a/etc/ssh/sshd_config"},
		{"a/etc/ssh/x y", "a/etc/ssh/x y\t"},
		{"a/x\ty", `"a/x\ty"`},
		{`a/x"y\z`, `"a/x\"y\\z"`},
		{"a/x\x01\n", `"a/x\001\n"`},
		{"a/é.conf", "a/é.conf"},
	}
	for _, tc := range tests {
		if got := headerName(tc.in); got != tc.want {
			t.Errorf("headerName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// writeTree lays the Old side of changes under root.
func writeTree(t *testing.T, root string, changes []FileChange) {
	t.Helper()
	for _, c := range changes {
		p := filepath.Join(root, filepath.FromSlash(c.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, c.Old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkTree requires every file under root to hold New.
func checkTree(t *testing.T, who, root string, changes []FileChange) {
	t.Helper()
	for _, c := range changes {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(c.Path)))
		if err != nil {
			t.Errorf("%s: %v", who, err)
			continue
		}
		if !bytes.Equal(got, c.New) {
			t.Errorf("%s: %s is\n%q\nwant\n%q", who, c.Path, got, c.New)
		}
	}
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// applyWithTools applies diff d with GNU patch -p1 to one copy of the Old
// side of changes and with git apply to another, and requires both to hold
// the New side afterwards.
func applyWithTools(t *testing.T, d []byte, changes []FileChange) {
	t.Helper()
	patch := needTool(t, "patch")
	git := needTool(t, "git")

	patched := t.TempDir()
	writeTree(t, patched, changes)
	cmd := exec.Command(patch, "-d", patched, "-p1", "--batch", "--forward", "--no-backup-if-mismatch")
	cmd.Stdin = bytes.NewReader(d)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("patch: %v\n%s", err, out)
	}
	checkTree(t, "patch", patched, changes)

	gitDir := t.TempDir()
	writeTree(t, gitDir, changes)
	for _, args := range [][]string{{"init", "-q"}, {"apply", "-"}} {
		cmd := exec.Command(git, args...)
		cmd.Dir = gitDir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+gitDir)
		cmd.Stdin = bytes.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	checkTree(t, "git apply", gitDir, changes)
}

// TestDiffAppliesLikeApply applies each golden diff with GNU patch -p1 and
// with git apply, and requires both results to be byte for byte what Apply
// writes for the same changes.
func TestDiffAppliesLikeApply(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := os.ReadFile(filepath.Join("testdata", "diff-"+tc.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}

			applyWithTools(t, d, tc.changes)

			applied := t.TempDir()
			writeTree(t, applied, tc.changes)
			if _, err := Apply(context.Background(), tc.changes, ApplyOptions{Root: rootfstest.Open(t, applied)}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			checkTree(t, "Apply", applied, tc.changes)
		})
	}
}
