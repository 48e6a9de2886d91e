//go:build linux

package rootfs_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/internal/sshdtest"
)

// The files a case may read, each with its own port.
var oracleFiles = map[string]string{
	"opt/conf/main":   "Port 1001\n",
	"opt/y.conf":      "Port 1002\n",
	"etc/ssh/y.conf":  "Port 1003\n",
	"etc/ssh/file":    "Port 1004\n",
	"opt/conf/y.conf": "Port 1005\n",
}

// TestResolverAgainstSSHD compares what the resolver reads with what the
// real sshd reads when the same tree is its "/": sshd runs chrooted into the
// tree in a private mount namespace (unshare -m, with the host's /usr, /dev
// and the libraries bound in), so absolute links and ".." resolve in the
// tree exactly as they would if it were bind-mounted over /. Each case is a
// main file that is a link, or an Include of one path; the port sshd -T
// reports says which file it read.
func TestResolverAgainstSSHD(t *testing.T) {
	sshd := sshdtest.Require(t)
	for _, tool := range []string{"unshare", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			if sshdtest.InCI() {
				t.Fatalf("%s not found (CI is set: .ci/run installs util-linux)", tool)
			}
			t.Skip(tool + " not found")
		}
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "sshd_config"), []byte("Port 31337\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		links   map[string]string // path -> target
		include string            // "": the main file is the case; else main is "Include PATH"
		want    string            // the port sshd reads, "22" when nothing, "refused"
	}{
		{name: "main is an absolute link", links: map[string]string{"etc/ssh/sshd_config": "/opt/conf/main"}, want: "1001"},
		{name: "main is a relative link", links: map[string]string{"etc/ssh/sshd_config": "../../opt/conf/main"}, want: "1001"},
		{name: "relative link climbing above the root", links: map[string]string{"etc/ssh/sshd_config": "../../../../../../../opt/conf/main"}, want: "1001"},
		{name: "absolute link with ..", links: map[string]string{"etc/ssh/sshd_config": "/../../opt/conf/main"}, want: "1001"},
		{name: "link chain", links: map[string]string{"etc/ssh/sshd_config": "l1", "etc/ssh/l1": "/etc/ssh/l2", "etc/ssh/l2": "../../opt/conf/main"}, want: "1001"},
		{name: "main through a directory link", links: map[string]string{"etc/ssh/sshd_config": "d/main", "etc/ssh/d": "/opt/conf"}, want: "1001"},
		{name: "main links to a host path outside", links: map[string]string{"etc/ssh/sshd_config": filepath.Join(outside, "sshd_config")}, want: "refused"},
		{name: "main links to itself", links: map[string]string{"etc/ssh/sshd_config": "sshd_config"}, want: "refused"},
		{name: "main is a dangling link", links: map[string]string{"etc/ssh/sshd_config": "/nothere"}, want: "refused"},

		{name: ".. after an absolute directory link", include: "/etc/ssh/d/../y.conf", links: map[string]string{"etc/ssh/d": "/opt/conf"}, want: "1002"},
		{name: ".. after a relative directory link", include: "/etc/ssh/d/../y.conf", links: map[string]string{"etc/ssh/d": "../../opt/conf"}, want: "1002"},
		{name: "two .. after a nested link", include: "/etc/ssh/d/../../etc/ssh/y.conf", links: map[string]string{"etc/ssh/d": "/opt/conf"}, want: "1003"},
		{name: ".. after a regular file", include: "/etc/ssh/file/../y.conf", want: "22"},
		{name: "link to the root", include: "/etc/ssh/r/opt/y.conf", links: map[string]string{"etc/ssh/r": "/"}, want: "1002"},
		{name: "link to ..", include: "/etc/ssh/up/ssh/y.conf", links: map[string]string{"etc/ssh/up": ".."}, want: "1003"},
		{name: ".. above the root", include: "/../../../opt/y.conf", want: "1002"},
		{name: "relative include climbing out", include: "../../../../../opt/conf/y.conf", want: "1005"},
		{name: "include a link to a host directory", include: "/etc/ssh/h/sshd_config", links: map[string]string{"etc/ssh/h": outside}, want: "22"},
		{name: "include a climbing link to a host directory", include: "/etc/ssh/h/sshd_config", links: map[string]string{"etc/ssh/h": "../../../../.." + outside}, want: "22"},
		{name: "include a dangling link", include: "/etc/ssh/dl", links: map[string]string{"etc/ssh/dl": "/nothere"}, want: "refused"},
		{name: "include a link loop", include: "/etc/ssh/l1", links: map[string]string{"etc/ssh/l1": "l2", "etc/ssh/l2": "/etc/ssh/l1"}, want: "refused"},
		{name: "include through a directory link loop", include: "/etc/ssh/ld/y.conf", links: map[string]string{"etc/ssh/ld": "ld"}, want: "22"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := t.TempDir()
			files := map[string]string{}
			for k, v := range oracleFiles {
				files[k] = v
			}
			if tc.include != "" {
				files["etc/ssh/sshd_config"] = "Include " + tc.include + "\n"
			}
			for p, s := range files {
				if _, ok := tc.links[p]; ok {
					continue
				}
				p = filepath.Join(tree, p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for p, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(tree, p)); err != nil {
					t.Fatal(err)
				}
			}
			// Both resolvers first, on the bare tree.
			for _, on := range []bool{true, false} {
				prev := rootfs.UseOpenat2(on)
				r, err := rootfs.Open(tree)
				rootfs.UseOpenat2(prev)
				if err != nil {
					t.Fatal(err)
				}
				got := resolverReads(r, tc.include)
				r.Close()
				if got != tc.want {
					t.Errorf("resolver (openat2 %v) reads %s, want %s", on, got, tc.want)
				}
			}
			if got, stderr := chrootSSHD(t, sshd, tree); got != tc.want {
				t.Errorf("sshd -T chrooted in the tree reads %s, want %s\n%s", got, tc.want, stderr)
			}
		})
	}
}

var portLine = regexp.MustCompile(`(?m)^Port (\d+)$`)

// resolverReads says which port sshd would get when it reads the tree as r
// resolves it: the main file, or the main file's one Include (sshd hands a
// pattern without wildcards to glob(3), which returns it when lstat finds
// it; sshd then fails on a file it cannot open).
func resolverReads(r *rootfs.Root, include string) string {
	name := "/etc/ssh/sshd_config"
	if include != "" {
		name = include
		if !strings.HasPrefix(name, "/") {
			name = "/etc/ssh/" + name
		}
	}
	b, err := r.ReadFile(name)
	if err != nil {
		if include == "" {
			return "refused"
		}
		if _, lerr := r.Lstat(name); lerr == nil && !errors.Is(err, rootfs.ErrNotRegular) {
			return "refused"
		}
		return "22"
	}
	m := portLine.FindSubmatch(b)
	if m == nil {
		return "22"
	}
	return string(m[1])
}

// chrootSSHD runs sshd -T chrooted into tree in a private mount namespace
// and returns the port it reports ("refused" when it exits non-zero: 255
// for a bad line, 1 when the main file cannot be opened).
func chrootSSHD(t *testing.T, sshd, tree string) (string, string) {
	key, err := os.ReadFile(sshdtest.HostKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, ".sshdtest-key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `set -e
T=$1
for d in usr bin sbin lib lib64 lib32 libx32; do
  if [ -L /$d ]; then ln -s "$(readlink /$d)" "$T/$d"
  elif [ -d /$d ]; then mkdir -p "$T/$d"; mount --bind /$d "$T/$d"; fi
done
mkdir -p "$T/dev" "$T/run/sshd"
mount --bind /dev "$T/dev"
for f in passwd group; do [ -e "$T/etc/$f" ] || cp /etc/$f "$T/etc/$f"; done
shift
exec chroot "$T" "$@"
`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", tree, sshd, "-T", "-f", "/etc/ssh/sshd_config", "-h", "/.sshdtest-key")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		setup := regexp.MustCompile(`(?m)^(mount|chroot|unshare|ln|mkdir|cp):`)
		if errors.As(err, &ee) && !setup.MatchString(stderr.String()) {
			return "refused", stderr.String()
		}
		t.Fatalf("sshd in the tree: %v\n%s", err, stderr.String())
	}
	var ports []string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if p, ok := strings.CutPrefix(l, "port "); ok {
			ports = append(ports, p)
		}
	}
	return strings.Join(ports, ","), stderr.String()
}
