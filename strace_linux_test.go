package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
)

// fileCalls are the system calls that name a file; strace's %file and
// %desc classes cover them.
var fileCall = regexp.MustCompile(`^\d+\s+(open|openat|openat2|creat|stat|lstat|newfstatat|statx|access|faccessat2?|rename|renameat2?|unlink|unlinkat|link|linkat|readlink|readlinkat|mkdir|mkdirat|chown|lchown|fchownat|chmod|fchmodat2?|symlink|symlinkat|utimensat|truncate)\((.*)$`)

var quoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// TestStraceRoot traces `check` and `suggest --apply` under --root and
// requires every file system call inside the image to be made relative to
// a directory descriptor: the only absolute path into the image is the
// opening of the image directory itself.
func TestStraceRoot(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		if sshdtest.InCI() {
			t.Fatal("strace not found (CI is set: .ci/run installs it)")
		}
		t.Skip("strace not found")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sshport")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"openat2", "walk"} {
		t.Run(mode, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "img")
			for p, s := range map[string]string{
				"opt/conf/main":                         "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n",
				"etc/ssh/sshd_config.d/10.conf":         "PermitRootLogin no\n",
				"proc/sys/net/ipv4/ip_local_port_range": "32768 60999\n",
			} {
				p = filepath.Join(img, p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.Symlink("/opt/conf/main", filepath.Join(img, "etc/ssh/sshd_config"))
			os.Symlink("../../../opt/conf", filepath.Join(img, "etc/ssh/sshd_config.d/sub"))
			env := append(os.Environ(), "NO_COLOR=1")
			if mode == "walk" {
				env = append(env, "SSHPORT_TEST_NO_OPENAT2=1")
			}
			for _, args := range [][]string{
				{"--root", img, "check", "--json"},
				{"--root", img, "suggest", "--apply", "--port", "20022", "--backup-suffix", ".bak"},
			} {
				trace := filepath.Join(t.TempDir(), "trace")
				cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", trace, "-e", "trace=%file,%desc,flock,fsync", bin}, args...)...)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == exitFindings) {
					t.Fatalf("%s: %v\n%s", args, err, out)
				}
				rel, abs := scanTrace(t, trace, img)
				if len(abs) != 1 || !strings.Contains(abs[0], `"`+img+`", O_RDONLY|O_CLOEXEC`) {
					t.Errorf("%s: absolute paths into the image (want only the opening of the root):\n%s", args, strings.Join(abs, "\n"))
				}
				want := []string{"openat", "newfstatat", "readlinkat"}
				if mode == "openat2" {
					want = append(want, "openat2")
				}
				if args[2] == "suggest" {
					want = append(want, "linkat", "renameat", "unlinkat")
				}
				for _, c := range want {
					if rel[c] == 0 {
						t.Errorf("%s: no %s relative to a directory descriptor; saw %v", args, c, rel)
					}
				}
				t.Logf("%s %s: %v relative to a directory fd; %d absolute (the root)", mode, args[2], rel, len(abs))
			}
			if b, err := os.ReadFile(filepath.Join(img, "opt/conf/main")); err != nil || !strings.Contains(string(b), "Port 20022\n") {
				t.Errorf("the symlinked config was not written: %q %v", b, err)
			}
		})
	}
}

// scanTrace counts, per system call, the calls naming a path relative to a
// directory descriptor, and returns every call naming an absolute path
// inside img.
func scanTrace(t *testing.T, trace, img string) (rel map[string]int, abs []string) {
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rel = map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := fileCall.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		call, args := m[1], m[2]
		paths := quoted.FindAllStringSubmatch(args, -1)
		n := 1 // a readlink's second string is its result
		if strings.HasPrefix(call, "rename") || strings.HasPrefix(call, "link") || strings.HasPrefix(call, "symlink") {
			n = 2
		}
		into := false
		for i := 0; i < len(paths) && i < n; i++ {
			if p := paths[i][1]; p == img || strings.HasPrefix(p, img+"/") {
				into = true
			}
		}
		dirfd := strings.SplitN(args, ",", 2)[0]
		switch {
		case into:
			abs = append(abs, sc.Text())
		case dirfd != "AT_FDCWD" && regexp.MustCompile(`^\d+$`).MatchString(dirfd) && len(paths) > 0 && paths[0][1] != "":
			rel[call]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rel, abs
}
