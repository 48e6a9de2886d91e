package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sshport/sshport/internal/rootfs"
)

// Bytes that exist only outside the image: none may ever reach an output.
var outsideMarkers = []string{"31337", "31338", "OUTSIDEWORD", "outsidesecret"}

// raceFixture is an image whose /etc/ssh and /etc/ssh/sshd_config.d a
// hostile writer keeps exchanging (renameat2 RENAME_EXCHANGE) with symlinks
// to an outside directory laid out the same way.
type raceFixture struct {
	img, outside string
	before       map[string]string // the outside tree: path -> content ("->" target for links)
}

func newRaceFixture(t *testing.T) *raceFixture {
	base := t.TempDir()
	f := &raceFixture{img: filepath.Join(base, "img"), outside: filepath.Join(base, "outside")}
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(f.outside, "ssh/sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\nPort 31337\nOUTSIDEWORD yes\n")
	write(filepath.Join(f.outside, "ssh/sshd_config.d/10.conf"), "Port 31338\noutsidesecret x\n")
	write(filepath.Join(f.outside, "ssh/sshd_config.d/20.conf"), "Port 31338\n")
	write(filepath.Join(f.img, "etc/ssh/sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\nPort 2200\n")
	write(filepath.Join(f.img, "etc/ssh/sshd_config.d/10.conf"), "# drop-in\n")
	// The swapped-in links: one absolute to the host's outside directory,
	// one climbing out with "..".
	link(filepath.Join(f.outside, "ssh"), filepath.Join(f.img, "etc/ssh-evil"))
	link("../../../../../../../"+filepath.Join(f.outside, "ssh/sshd_config.d"), filepath.Join(f.img, "etc/ssh/dropin-evil"))
	f.before = snapshot(t, f.outside)
	return f
}

// snapshot lists every entry below dir with its content or link target.
func snapshot(t *testing.T, dir string) map[string]string {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[rel] = "-> " + l
		case d.IsDir():
			m[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// swap runs the hostile writer until stop is closed, then puts every name
// back. It works on descriptors of the real directories, so it never
// touches the outside tree itself.
func (f *raceFixture) swap(t *testing.T, stop <-chan struct{}, swaps *atomic.Int64) func() {
	etc, err := unix.Open(filepath.Join(f.img, "etc"), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ssh, err := unix.Open(filepath.Join(f.img, "etc/ssh"), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	exchanged := [2]bool{}
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := unix.Renameat2(etc, "ssh", etc, "ssh-evil", unix.RENAME_EXCHANGE); err == nil {
				exchanged[0] = !exchanged[0]
			}
			if err := unix.Renameat2(ssh, "sshd_config.d", ssh, "dropin-evil", unix.RENAME_EXCHANGE); err == nil {
				exchanged[1] = !exchanged[1]
			}
			swaps.Add(1)
		}
	}()
	return func() {
		wg.Wait()
		if exchanged[0] {
			unix.Renameat2(etc, "ssh", etc, "ssh-evil", unix.RENAME_EXCHANGE)
		}
		if exchanged[1] {
			unix.Renameat2(ssh, "sshd_config.d", ssh, "dropin-evil", unix.RENAME_EXCHANGE)
		}
		unix.Close(etc)
		unix.Close(ssh)
		if fi, err := os.Lstat(filepath.Join(f.img, "etc/ssh/sshd_config.d")); err != nil || !fi.IsDir() {
			t.Fatalf("the swapper did not restore the image: %v %v", fi, err)
		}
	}
}

// checkOutside fails when anything outside the image changed.
func (f *raceFixture) checkOutside(t *testing.T) {
	t.Helper()
	if after := snapshot(t, f.outside); !mapsEqual(after, f.before) {
		t.Errorf("the outside directory changed:\nbefore %q\nafter  %q", f.before, after)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func leaksOutside(out string) string {
	for _, m := range outsideMarkers {
		if strings.Contains(out, m) {
			return m
		}
	}
	return ""
}

// bothResolvers runs fn with openat2 and with the portable walk.
func bothResolvers(t *testing.T, fn func(t *testing.T)) {
	for _, m := range []struct {
		name string
		on   bool
	}{{"openat2", true}, {"walk", false}} {
		t.Run(m.name, func(t *testing.T) {
			prev := rootfs.UseOpenat2(m.on)
			defer rootfs.UseOpenat2(prev)
			r, err := rootfs.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := r.Openat2()
			r.Close()
			if got != m.on {
				if m.on {
					t.Skip("openat2 is not available here")
				}
				t.Fatal("UseOpenat2(false) did not select the walk")
			}
			fn(t)
		})
	}
}

// TestRaceCheck runs `check --json --root` while the image's directories
// are swapped with links to an outside tree: every run reads the image or
// refuses (exit 2), and no byte from outside reaches stdout or stderr.
func TestRaceCheck(t *testing.T) {
	const runs = 1500
	bothResolvers(t, func(t *testing.T) {
		f := newRaceFixture(t)
		stop := make(chan struct{})
		var swaps atomic.Int64
		restore := f.swap(t, stop, &swaps)
		codes := map[int]int{}
		ports := map[string]int{}
		for i := 0; i < runs; i++ {
			code, out, errs := cliRun(t, "check", "--json", "--root", f.img)
			codes[code]++
			if m := leaksOutside(out + errs); m != "" {
				t.Errorf("run %d: %q from outside the image in the output:\n%s%s", i, m, out, errs)
			}
			switch code {
			case exitOK, exitFindings:
				var rep struct {
					Ports []struct {
						Port int    `json:"port"`
						File string `json:"file"`
					} `json:"ports"`
				}
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("run %d: %v\n%s", i, err, out)
				}
				var ps []string
				for _, p := range rep.Ports {
					ps = append(ps, fmt.Sprint(p.Port))
				}
				ports[strings.Join(ps, ",")]++
			case exitError:
				if out != "" && !strings.HasPrefix(out, "{") {
					t.Errorf("run %d: exit 2 with output %q", i, out)
				}
			default:
				t.Errorf("run %d: exit %d\n%s%s", i, code, out, errs)
			}
		}
		close(stop)
		restore()
		f.checkOutside(t)
		// What the image can say: its own port, or sshd's default while
		// its /etc/ssh is a link leading nowhere inside it.
		for p := range ports {
			if p != "2200" && p != "22" {
				t.Errorf("ports %q are not the image's", p)
			}
		}
		t.Logf("%d runs against %d swaps: exit codes %v, ports %v", runs, swaps.Load(), codes, ports)
	})
}

// TestRaceApply runs `suggest --apply --root` while the image's directories
// are swapped: every run either writes the image (and only it) or refuses
// with exit 2 and writes nothing; nothing outside is created or changed.
func TestRaceApply(t *testing.T) {
	const runs = 1000
	bothResolvers(t, func(t *testing.T) {
		f := newRaceFixture(t)
		stop := make(chan struct{})
		var swaps atomic.Int64
		restore := f.swap(t, stop, &swaps)
		codes := map[int]int{}
		applied, lastPort := 0, 2200
		for i := 0; i < runs; i++ {
			port := 20022 + i%2
			code, out, errs := cliRun(t, "suggest", "--apply", "--json", "--root", f.img,
				"--port", fmt.Sprint(port), "--force", "--backup-suffix", fmt.Sprintf(".race-%03d", i))
			codes[code]++
			if m := leaksOutside(out + errs); m != "" {
				t.Errorf("run %d: %q from outside the image in the output:\n%s%s", i, m, out, errs)
			}
			switch code {
			case exitOK:
				var rep suggestReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("run %d: %v\n%s", i, err, out)
				}
				if rep.Applied {
					applied++
					lastPort = port
					// The directory is named as it was when written: the
					// swapper may have renamed it to ssh-evil meanwhile.
					for _, b := range rep.Backups {
						if !strings.HasPrefix(b, "/etc/ssh/") && !strings.HasPrefix(b, "/etc/ssh-evil/") {
							t.Errorf("run %d: backup %s", i, b)
						}
					}
				}
			case exitError:
			default:
				t.Errorf("run %d: exit %d\n%s%s", i, code, out, errs)
			}
		}
		close(stop)
		restore()
		f.checkOutside(t)

		// The image holds exactly what the successful runs wrote: one
		// backup per applied run, the last applied port, no temporary file.
		dir := filepath.Join(f.img, "etc/ssh")
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		backups := 0
		for _, e := range ents {
			switch {
			case strings.Contains(e.Name(), ".race-"):
				backups++
			case strings.Contains(e.Name(), "sshport-tmp"):
				t.Errorf("temporary file left: %s", e.Name())
			}
		}
		if backups != applied {
			t.Errorf("%d backups for %d applied runs", backups, applied)
		}
		b, err := os.ReadFile(filepath.Join(dir, "sshd_config"))
		if err != nil {
			t.Fatal(err)
		}
		if want := regexp.MustCompile(fmt.Sprintf(`(?m)^Port %d$`, lastPort)); !want.Match(b) || bytes.Count(b, []byte("Port ")) != 1 {
			t.Errorf("image sshd_config after the runs:\n%s\nwant the last applied port %d", b, lastPort)
		}
		if names := slices.Collect(func(yield func(string) bool) {
			ents, _ := os.ReadDir(filepath.Join(dir, "sshd_config.d"))
			for _, e := range ents {
				if !yield(e.Name()) {
					return
				}
			}
		}); !slices.Equal(names, []string{"10.conf"}) {
			t.Errorf("sshd_config.d holds %q", names)
		}
		t.Logf("%d runs against %d swaps: exit codes %v, %d applied", runs, swaps.Load(), codes, applied)
	})
}
