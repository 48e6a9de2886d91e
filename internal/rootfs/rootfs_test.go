//go:build unix

package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// tree builds a directory from a map: "path": "content" makes a file,
// "path": "-> target" a symlink, "path/": "" a directory.
func tree(t testing.TB, dir string, m map[string]string) {
	t.Helper()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		p := filepath.Join(dir, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		v := m[k]
		switch {
		case strings.HasSuffix(k, "/"):
			err := os.MkdirAll(p, 0o755)
			if err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "-> "):
			if err := os.Symlink(strings.TrimPrefix(v, "-> "), p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fixture is an image next to an outside directory holding a secret.
type fixture struct {
	img, outside string
}

func newFixture(t testing.TB) fixture {
	base := t.TempDir()
	f := fixture{img: filepath.Join(base, "img"), outside: filepath.Join(base, "outside")}
	tree(t, f.outside, map[string]string{"secret": "SECRET", "sshd_config": "Port 31337\n"})
	tree(t, f.img, map[string]string{
		"etc/ssh/sshd_config":   "main",
		"etc/ssh/y.conf":        "y-etc",
		"etc/ssh/file":          "a regular file",
		"etc/ssh/abs":           "-> /etc/ssh/sshd_config",
		"etc/ssh/rel":           "-> sshd_config",
		"etc/ssh/chain":         "-> abs",
		"etc/ssh/escape_rel":    "-> ../../../../../../../outside/secret",
		"etc/ssh/escape_abs":    "-> /../../../outside/secret",
		"etc/ssh/hostabs":       "-> " + filepath.Join(f.outside, "secret"),
		"etc/ssh/hostdir":       "-> " + f.outside,
		"etc/ssh/hostreldir":    "-> ../../../outside",
		"etc/ssh/d":             "-> /opt/conf",
		"etc/ssh/dr":            "-> ../../opt/conf",
		"etc/ssh/loop1":         "-> loop2",
		"etc/ssh/loop2":         "-> loop1",
		"etc/ssh/self":          "-> self",
		"etc/ssh/dangling":      "-> nothere",
		"etc/ssh/updir":         "-> ..",
		"etc/ssh/rootlink":      "-> /",
		"etc/ssh/empty/":        "",
		"etc/ssh/magic":         "-> /proc/self/root/etc/hostname",
		"opt/conf/x.conf":       "x",
		"opt/y.conf":            "y-opt",
		"outside/secret":        "in-image",
		"etc/ssh/sshd_config.d": "-> d",
	})
	return f
}

// modes runs fn with a Root of dir opened with openat2 and with the
// portable walk.
func modes(t *testing.T, dir string, fn func(t *testing.T, r *Root)) {
	for _, m := range []struct {
		name    string
		openat2 bool
	}{{"openat2", true}, {"walk", false}} {
		t.Run(m.name, func(t *testing.T) {
			prev := UseOpenat2(m.openat2)
			r, err := Open(dir)
			UseOpenat2(prev)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Openat2() != m.openat2 {
				if m.openat2 {
					t.Skip("openat2 is not available here")
				}
				t.Fatal("UseOpenat2(false) did not select the walk")
			}
			fn(t, r)
		})
	}
}

func TestReadFile(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		want string        // content read
		err  syscall.Errno // or this error
	}{
		{name: "/etc/ssh/sshd_config", want: "main"},
		{name: "etc/ssh/sshd_config", want: "main"},
		{name: "//etc/./ssh//sshd_config", want: "main"},
		{name: "/../../../etc/ssh/sshd_config", want: "main"},
		{name: "/etc/ssh/abs", want: "main"},
		{name: "/etc/ssh/rel", want: "main"},
		{name: "/etc/ssh/chain", want: "main"},
		// Links out of the tree stay in it, as in a chroot.
		{name: "/etc/ssh/escape_rel", want: "in-image"},
		{name: "/etc/ssh/escape_abs", want: "in-image"},
		{name: "/etc/ssh/hostabs", err: syscall.ENOENT},
		{name: "/etc/ssh/hostdir/secret", err: syscall.ENOENT},
		{name: "/etc/ssh/hostreldir/secret", want: "in-image"},
		// ".." after a symlinked directory is taken from the link's target.
		{name: "/etc/ssh/d/x.conf", want: "x"},
		{name: "/etc/ssh/d/../y.conf", want: "y-opt"},
		{name: "/etc/ssh/dr/../y.conf", want: "y-opt"},
		{name: "/etc/ssh/sshd_config.d/../y.conf", want: "y-opt"},
		{name: "/etc/ssh/updir/ssh/y.conf", want: "y-etc"},
		{name: "/etc/ssh/rootlink/etc/ssh/y.conf", want: "y-etc"},
		{name: "/etc/ssh/empty/../y.conf", want: "y-etc"},
		// A regular file is no directory, even before "..".
		{name: "/etc/ssh/file/../y.conf", err: syscall.ENOTDIR},
		{name: "/etc/ssh/file/", err: syscall.ENOTDIR},
		{name: "/etc/ssh/loop1", err: syscall.ELOOP},
		{name: "/etc/ssh/self", err: syscall.ELOOP},
		{name: "/etc/ssh/loop1/x", err: syscall.ELOOP},
		{name: "/etc/ssh/dangling", err: syscall.ENOENT},
		{name: "/etc/ssh/magic", err: syscall.ENOENT}, // the image has no /proc
		{name: "/etc/ssh/empty", err: syscall.EISDIR},
		{name: "/etc/ssh/nothere", err: syscall.ENOENT},
	}
	modes(t, f.img, func(t *testing.T, r *Root) {
		for _, tc := range tests {
			b, err := r.ReadFile(tc.name)
			switch {
			case tc.err != 0:
				if !errors.Is(err, tc.err) {
					t.Errorf("ReadFile(%q) = %q, %v; want error %v", tc.name, b, err, tc.err)
				}
			case err != nil || string(b) != tc.want:
				t.Errorf("ReadFile(%q) = %q, %v; want %q", tc.name, b, err, tc.want)
			}
			// Stat agrees with ReadFile about what exists.
			fi, serr := r.Stat(tc.name)
			if tc.err == 0 || tc.err == syscall.EISDIR {
				if serr != nil {
					t.Errorf("Stat(%q): %v", tc.name, serr)
				} else if tc.err == 0 && fi.Size() != int64(len(tc.want)) {
					t.Errorf("Stat(%q).Size() = %d, want %d", tc.name, fi.Size(), len(tc.want))
				}
			} else if !errors.Is(serr, tc.err) {
				t.Errorf("Stat(%q) error = %v, want %v", tc.name, serr, tc.err)
			}
		}
	})
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, want string
		err        syscall.Errno
	}{
		{name: "/etc/ssh/sshd_config", want: "/etc/ssh/sshd_config"},
		{name: "etc/ssh/abs", want: "/etc/ssh/sshd_config"},
		{name: "/etc/ssh/chain", want: "/etc/ssh/sshd_config"},
		{name: "/etc/ssh/d/x.conf", want: "/opt/conf/x.conf"},
		{name: "/etc/ssh/d/new.conf", want: "/opt/conf/new.conf"},
		{name: "/etc/ssh/d/../y.conf", want: "/opt/y.conf"},
		{name: "/etc/ssh/dangling", want: "/etc/ssh/nothere"},
		{name: "/etc/ssh/escape_rel", want: "/outside/secret"},
		{name: "/etc/ssh/hostabs", err: syscall.ENOENT}, // its directory is missing
		{name: "/etc/ssh/rootlink/opt/y.conf", want: "/opt/y.conf"},
		{name: "/etc/ssh/loop1", err: syscall.ELOOP},
		{name: "/etc/ssh/file/x", err: syscall.ENOTDIR},
		{name: "/etc/ssh", want: "/etc/ssh"}, // a directory is named; Apply refuses it
		{name: "/etc/ssh/d/", err: syscall.EISDIR},
		{name: "/", err: syscall.EISDIR},
		{name: "/etc/ssh/..", err: syscall.EISDIR},
		// Every component before the last must exist.
		{name: "/etc/ssh/nodir/new.conf", err: syscall.ENOENT},
		{name: "/etc/ssh/dangling/x", err: syscall.ENOENT},
	}
	modes(t, f.img, func(t *testing.T, r *Root) {
		for _, tc := range tests {
			got, err := r.Resolve(tc.name)
			switch {
			case tc.err != 0:
				if !errors.Is(err, tc.err) {
					t.Errorf("Resolve(%q) = %q, %v; want error %v", tc.name, got, err, tc.err)
				}
			case err != nil || got != tc.want:
				t.Errorf("Resolve(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
			}
		}
	})
}

func TestLstatReadLinkReadDir(t *testing.T) {
	f := newFixture(t)
	modes(t, f.img, func(t *testing.T, r *Root) {
		fi, err := r.Lstat("/etc/ssh/d")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Name() != "d" {
			t.Errorf("Lstat(/etc/ssh/d) = %v, %v; want a symlink named d", fi, err)
		}
		if fi, err := r.Lstat("/etc/ssh/sshd_config.d/x.conf"); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("Lstat through two links = %v, %v", fi, err)
		}
		if got, err := r.ReadLink("/etc/ssh/hostdir"); err != nil || got != f.outside {
			t.Errorf("ReadLink = %q, %v", got, err)
		}
		if _, err := r.ReadLink("/etc/ssh/file"); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("ReadLink(regular file) error = %v, want EINVAL", err)
		}
		ents, err := r.ReadDir("/etc/ssh/sshd_config.d")
		if err != nil || len(ents) != 1 || ents[0].Name() != "x.conf" || !ents[0].Type().IsRegular() {
			t.Errorf("ReadDir(sshd_config.d) = %v, %v", ents, err)
		}
		ents, err = r.ReadDir("/etc/ssh/hostdir") // in the image: /tmp/.../outside, missing
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadDir(hostdir) = %v, %v; want not exist", ents, err)
		}
		ents, err = r.ReadDir("/")
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if err != nil || !slices.Equal(names, []string{"etc", "opt", "outside"}) {
			t.Errorf("ReadDir(/) = %q, %v", names, err)
		}
		if err := fs.WalkDir(r, ".", func(string, fs.DirEntry, error) error { return nil }); err != nil {
			t.Errorf("WalkDir: %v", err)
		}
	})
}

func TestMagicLinksRefused(t *testing.T) {
	if _, err := os.Stat("/proc/self/root"); err != nil {
		t.Skip("no /proc")
	}
	modes(t, "/", func(t *testing.T, r *Root) {
		for _, name := range []string{"/proc/self/root/etc/passwd", "/proc/self/cwd", "/proc/self/fd/0"} {
			if b, err := r.ReadFile(name); !errors.Is(err, syscall.ELOOP) {
				t.Errorf("ReadFile(%q) = %d bytes, %v; want ELOOP", name, len(b), err)
			}
		}
		if b, err := r.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err != nil || len(b) == 0 {
			t.Errorf("ReadFile(ip_local_port_range) = %q, %v", b, err)
		}
	})
}

func TestDirWrites(t *testing.T) {
	f := newFixture(t)
	modes(t, f.img, func(t *testing.T, r *Root) {
		// A write through /etc/ssh/d lands in /opt/conf of the image.
		d, base, err := r.Target("/etc/ssh/sshd_config.d/x.conf")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Name() != "/opt/conf" || base != "x.conf" {
			t.Fatalf("Target = %q %q", d.Name(), base)
		}
		if err := d.Lock(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer d.Unlock()
		tmp, tname, err := d.CreateTemp(".x.conf.")
		if err != nil {
			t.Fatal(err)
		}
		tmp.WriteString("new")
		tmp.Close()
		if err := d.Link(tname, "x.conf.bak"); err != nil {
			t.Fatal(err)
		}
		if err := d.Link(tname, "x.conf.bak"); !errors.Is(err, fs.ErrExist) {
			t.Errorf("second Link: %v, want exists", err)
		}
		if err := d.Rename(tname, base); err != nil {
			t.Fatal(err)
		}
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := d.Remove("x.conf.bak"); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(f.img, "opt/conf/x.conf")); string(b) != "new" {
			t.Errorf("opt/conf/x.conf = %q", b)
		}
		if b, err := d.ReadFile(base); string(b) != "new" || err != nil {
			t.Errorf("Dir.ReadFile = %q, %v", b, err)
		}
		if _, err := d.OpenFile("../x", os.O_RDONLY, 0); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("OpenFile(../x): %v, want EINVAL", err)
		}
		// An entry that is a symlink is never followed by a Dir.
		e, _, err := r.Target("/etc/ssh/y.conf")
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if _, err := e.OpenFile("hostdir", os.O_RDONLY, 0); err == nil {
			t.Error("Dir.OpenFile followed a symlink")
		}
		if _, err := e.ReadFile("abs"); err == nil {
			t.Error("Dir.ReadFile followed a symlink")
		}
		fi, err := e.Lstat("abs")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Dir.Lstat(abs) = %v, %v", fi, err)
		}
		if uid, _, ok := Owner(fi); !ok || uid != os.Getuid() {
			t.Errorf("Owner = %d, %v", uid, ok)
		}
	})
	ents, _ := os.ReadDir(f.outside)
	if len(ents) != 2 {
		t.Errorf("outside directory changed: %v", ents)
	}
}

func TestOpenErrors(t *testing.T) {
	f := newFixture(t)
	if _, err := Open(filepath.Join(f.img, "etc/ssh/sshd_config")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v", err)
	}
	if _, err := Open(filepath.Join(f.img, "nothere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	r, err := Open(f.img)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Image() || r.Dir() != f.img {
		t.Errorf("Image() = %v, Dir() = %q", r.Image(), r.Dir())
	}
	r.Close()
	if _, err := r.ReadFile("/etc/ssh/sshd_config"); err == nil {
		t.Error("read after Close")
	}
	l, err := Live()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Image() || l.Dir() != "/" {
		t.Errorf("Live: Image() = %v, Dir() = %q", l.Image(), l.Dir())
	}
}

func TestDirVerify(t *testing.T) {
	f := newFixture(t)
	modes(t, f.img, func(t *testing.T, r *Root) {
		d, _, err := r.Target("/opt/conf/x.conf")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Verify(); err != nil {
			t.Fatalf("Verify of an unmoved directory: %v", err)
		}
		conf := filepath.Join(f.img, "opt/conf")
		moved := filepath.Join(f.img, "opt/moved")
		if err := os.Rename(conf, moved); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(moved, conf)
		if err := d.Verify(); !errors.Is(err, ErrMoved) {
			t.Errorf("Verify after a rename = %v, want ErrMoved", err)
		}
		// Something else in its place is no better.
		os.Mkdir(conf, 0o755)
		if err := d.Verify(); !errors.Is(err, ErrMoved) {
			t.Errorf("Verify with another directory in its place = %v, want ErrMoved", err)
		}
		os.Remove(conf)
	})
}

func TestMkdirAllOpenDirLinkTo(t *testing.T) {
	f := newFixture(t)
	os.Symlink("/opt", filepath.Join(f.img, "var"))
	os.Symlink(f.outside, filepath.Join(f.img, "opt/out"))
	modes(t, f.img, func(t *testing.T, r *Root) {
		b, err := r.MkdirAll("/var/backups/sshport", 0o700)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Name() != "/opt/backups/sshport" {
			t.Errorf("MkdirAll made %s", b.Name())
		}
		if fi, err := os.Stat(filepath.Join(f.img, "opt/backups/sshport")); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("made %v, %v", fi, err)
		}
		// Through a link to a host directory: made inside the image.
		o, err := r.MkdirAll("/opt/out/new", 0o755)
		if err == nil {
			if o.Name() != filepath.Join(f.outside, "new") {
				t.Errorf("MkdirAll through a host link made %s", o.Name())
			}
			o.Close()
		}
		if _, err := os.Stat(filepath.Join(f.outside, "new")); err == nil {
			t.Error("MkdirAll created a directory outside the image")
		}
		if again, err := r.MkdirAll("var/backups/sshport", 0o700); err != nil {
			t.Errorf("MkdirAll of an existing directory: %v", err)
		} else {
			again.Close()
		}
		if _, err := r.MkdirAll("/etc/ssh/file/x", 0o700); !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("MkdirAll under a file: %v, want ENOTDIR", err)
		}
		d, err := r.OpenDir("/etc/ssh/sshd_config.d")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Name() != "/opt/conf" {
			t.Errorf("OpenDir name %s", d.Name())
		}
		ents, err := d.ReadDir()
		if err != nil || len(ents) == 0 || ents[0].Name() != "x.conf" {
			t.Errorf("Dir.ReadDir = %v, %v", ents, err)
		}
		if err := d.LinkTo("x.conf", b, "x.conf.bak"); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(f.img, "opt/backups/sshport/x.conf.bak")); string(got) != "x" {
			t.Errorf("linked copy holds %q", got)
		}
		b.Remove("x.conf.bak")
		if _, err := r.OpenDir("/etc/ssh/sshd_config"); !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("OpenDir(file) = %v, want ENOTDIR", err)
		}
		if d.File() == nil {
			t.Error("File() = nil")
		}
	})
	if ents, _ := os.ReadDir(f.outside); len(ents) != 2 {
		t.Errorf("outside directory changed: %v", ents)
	}
}

// FuzzResolvers checks that openat2 and the portable walk read the same
// thing for any name, and that neither reads outside the image.
func FuzzResolvers(f *testing.F) {
	for _, s := range []string{"/etc/ssh/sshd_config", "etc/ssh/d/../y.conf", "/etc/ssh/escape_rel",
		"/etc/ssh/hostdir/secret", "/etc/ssh/file/../y.conf", "/etc/ssh/loop1", "../../etc/ssh/updir/ssh/rel",
		"/etc/ssh/rootlink/etc/ssh/sshd_config.d/../y.conf", "//etc/./ssh/", "/etc/ssh/sshd_config.d/x.conf/."} {
		f.Add(s)
	}
	fx := newFixture(f)
	open := func(on bool) *Root {
		prev := UseOpenat2(on)
		defer UseOpenat2(prev)
		r, err := Open(fx.img)
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	a, w := open(true), open(false)
	defer a.Close()
	defer w.Close()
	if !a.Openat2() {
		f.Skip("openat2 is not available here")
	}
	errno := func(err error) syscall.Errno {
		var e syscall.Errno
		if errors.As(err, &e) {
			return e
		}
		if err != nil {
			return syscall.EIO
		}
		return 0
	}
	f.Fuzz(func(t *testing.T, name string) {
		if len(name) > 1024 || strings.IndexByte(name, 0) >= 0 {
			return
		}
		ba, ea := a.ReadFile(name)
		bw, ew := w.ReadFile(name)
		if string(ba) != string(bw) || errno(ea) != errno(ew) {
			t.Errorf("ReadFile(%q): openat2 %q, %v; walk %q, %v", name, ba, ea, bw, ew)
		}
		if strings.Contains(string(ba)+string(bw), "SECRET") {
			t.Errorf("ReadFile(%q) read outside the image", name)
		}
		ra, ea := a.Resolve(name)
		rw, ew := w.Resolve(name)
		if ra != rw || errno(ea) != errno(ew) {
			t.Errorf("Resolve(%q): openat2 %q, %v; walk %q, %v", name, ra, ea, rw, ew)
		}
	})
}

// TestDirHolds: Holds compares a file with bytes piece by piece, as
// bytes.Equal of ReadFile would, and refuses what ReadFile refuses.
func TestDirHolds(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789abcdef", 10000) // several reads
	tree(t, dir, map[string]string{
		"d/empty": "",
		"d/small": "Port 22\n",
		"d/big":   big,
		"d/link":  "-> small",
		"d/sub/":  "",
	})
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.OpenDir("/d")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name, want string
		same, err  bool
	}{
		{"empty", "", true, false},
		{"empty", "x", false, false},
		{"small", "Port 22\n", true, false},
		{"small", "Port 22", false, false},
		{"small", "Port 22\n\n", false, false},
		{"small", "Port 23\n", false, false},
		{"small", "", false, false},
		{"big", big, true, false},
		{"big", big[:len(big)-1], false, false},
		{"big", big + "x", false, false},
		{"big", big[:70000] + "X" + big[70001:], false, false},
		{"link", "Port 22\n", false, true}, // a symlink is not followed
		{"sub", "", false, true},
		{"missing", "", false, true},
	}
	for _, tt := range tests {
		same, err := d.Holds(tt.name, []byte(tt.want))
		if same != tt.same || (err != nil) != tt.err {
			t.Errorf("Holds(%s, %d bytes) = %v, %v; want %v, error %v", tt.name, len(tt.want), same, err, tt.same, tt.err)
		}
	}
}
