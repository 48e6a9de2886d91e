package sshdtest

import (
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/*/expected*.txt from the real sshd")

const (
	ownCorpus    = "../../testdata/corpus"
	sharedCorpus = "../../../shared/corpus"
)

// TestCorpus runs the real sshd on every case of the project's corpus and of
// the shared corpus (when present) and requires the checked-in expectation.
// With -update it rewrites the project's own expectations instead.
func TestCorpus(t *testing.T) {
	Require(t)
	for _, corpus := range LoadCorpora(t, ownCorpus, sharedCorpus) {
		for _, c := range corpus.Cases {
			t.Run(corpus.Label()+"/"+c.Name, func(t *testing.T) {
				if c.Broken != "" {
					t.Skip(c.Broken)
				}
				got := Run(t, c.Root, MainConfig)
				if *update && !corpus.Shared {
					if got.Expected() != c.Want {
						t.Logf("updating %s", c.Path())
					}
					if err := c.Update(got); err != nil {
						t.Fatal(err)
					}
					return
				}
				if c.Want == "" {
					t.Fatalf("%s has neither expected.txt nor expected-error.txt (run with -update)", c.Dir)
				}
				if got.Expected() != c.Want {
					t.Errorf("sshd -T disagrees with %s\n--- sshd:\n%s--- file:\n%s", c.Path(), got.Expected(), c.Want)
				}
			})
		}
	}
}

// TestOwnCorpusLayout checks that every case of the project's corpus says
// what it is about and has exactly one expectation file.
func TestOwnCorpusLayout(t *testing.T) {
	cases, err := Cases(ownCorpus)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Errorf("only %d corpus cases", len(cases))
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(c.Dir, "README"))
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			t.Errorf("%s: missing or empty README", c.Name)
		}
		_, e1 := os.Stat(filepath.Join(c.Dir, "expected.txt"))
		_, e2 := os.Stat(filepath.Join(c.Dir, "expected-error.txt"))
		if (e1 == nil) == (e2 == nil) {
			t.Errorf("%s: want exactly one of expected.txt, expected-error.txt", c.Name)
		}
		if !c.Refused && (len(c.Expect.Ports) == 0 || c.Expect.AddressFamily == "" || len(c.Expect.Listen) == 0) {
			t.Errorf("%s: expected.txt lacks port, addressfamily or listenaddress lines", c.Name)
		}
	}
}

func TestParseExpectations(t *testing.T) {
	var r Result
	out := "port 22\nport 2222\naddressfamily inet\nlistenaddress 0.0.0.0:22 rdomain lo\nlistenaddress [::1]:2222\npermitrootlogin yes\n"
	if err := r.ParseKeyLines(out); err != nil {
		t.Fatal(err)
	}
	want := Result{Ports: []int{22, 2222}, AddressFamily: "inet", Listen: []string{"0.0.0.0:22", "[::1]:2222"}, ListenRDomain: []string{"lo", ""}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("ParseKeyLines = %+v, want %+v", r, want)
	}
	r.Stdout = out
	if got := r.Expected(); got != "port 22\nport 2222\naddressfamily inet\nlistenaddress 0.0.0.0:22 rdomain lo\nlistenaddress [::1]:2222\n" {
		t.Errorf("Expected() = %q", got)
	}

	stderr := "/etc/ssh/sshd_config: line 43: Bad configuration option: KerberosUseKuserok\n" +
		"/etc/ssh/sshd_config.d/a b.conf: line 5: Bad configuration option: X\n" +
		"/etc/ssh/sshd_config: terminating, 2 bad configuration options\n"
	e, err := ParseError(stderr + "exit 255\n")
	if err != nil {
		t.Fatal(err)
	}
	if e.Exit != 255 || e.Err != stderr || !e.Refused() {
		t.Errorf("ParseError = %+v", e)
	}
	if want := []string{"/etc/ssh/sshd_config:43", "/etc/ssh/sshd_config.d/a b.conf:5"}; !reflect.DeepEqual(e.ErrLines, want) {
		t.Errorf("ErrLines = %q, want %q", e.ErrLines, want)
	}
	if pos, ok := BadOptionsOnly(stderr); !ok || len(pos) != 2 {
		t.Errorf("BadOptionsOnly = %q, %v", pos, ok)
	}
	fatal := "/etc/ssh/sshd_config line 2: Badly formatted port number.\n"
	if got := ErrLines(fatal); !reflect.DeepEqual(got, []string{"/etc/ssh/sshd_config:2"}) {
		t.Errorf("ErrLines(%q) = %q", fatal, got)
	}
	if _, ok := BadOptionsOnly(stderr + fatal); ok {
		t.Error("BadOptionsOnly accepted a fatal error")
	}
	if _, err := ParseError("no exit line\n"); err == nil {
		t.Error("ParseError accepted a file without exit line")
	}
}

func TestResolve(t *testing.T) {
	a, err := Resolve("LocalHost")
	if err != nil || len(a) != 1 || a[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Resolve(localhost) = %v, %v", a, err)
	}
	a, err = Resolve("ip6-localhost")
	if err != nil || len(a) != 1 || a[0] != netip.IPv6Loopback() {
		t.Errorf("Resolve(ip6-localhost) = %v, %v", a, err)
	}
	if _, err := Resolve("example.com"); err == nil {
		t.Error("Resolve(example.com) succeeded")
	}
}

func TestCommentOut(t *testing.T) {
	tr := Tree{
		Files: map[string][]byte{
			MainConfig:               []byte("Port 1\r\nFoo 2\nBar 3"),
			"/etc/ssh/shared/x.conf": []byte("Baz\n"),
		},
		Symlinks: map[string]string{"/etc/ssh/sshd_config.d/x.conf": "../shared/x.conf"},
	}
	got := tr.CommentOut([]string{MainConfig + ":2", MainConfig + ":3", "/etc/ssh/sshd_config.d/x.conf:1"})
	if s := string(got.Files[MainConfig]); s != "Port 1\r\n#Foo 2\n#Bar 3" {
		t.Errorf("main = %q", s)
	}
	if s := string(got.Files["/etc/ssh/shared/x.conf"]); s != "#Baz\n" {
		t.Errorf("shared = %q", s)
	}
	if s := string(tr.Files[MainConfig]); s != "Port 1\r\nFoo 2\nBar 3" {
		t.Errorf("original changed: %q", s)
	}
}

// TestGenerate checks that the generator is deterministic and covers the
// features it promises over a few hundred trees.
func TestGenerate(t *testing.T) {
	a := Generate(rand.New(rand.NewPCG(7, 7)))
	b := Generate(rand.New(rand.NewPCG(7, 7)))
	if a.String() != b.String() {
		t.Fatal("same seed gave different trees")
	}
	features := map[string]string{
		"crlf": "\r\n", "bom": "\xef\xbb\xbf", "equals": "=", "tab": "\t", "quote": `"`,
		"single quote": "'", "include": "Include", "match all": "Match all", "match user": "Match User",
		"v6 brackets": "[::1]:", "host port": "localhost:", "rdomain": "rdomain", "comment after value": " # ",
		"service": "Port ssh", "leading zero": "Port 02222", "upper": "PORT", "lower": "port ",
		"unknown": "FooBarOption", "relative include": "Include sshd_config.d/*.conf",
	}
	seen := map[string]bool{}
	symlinks, noEOL, dropins := 0, 0, 0
	for i := range 500 {
		tr := Generate(rand.New(rand.NewPCG(1, uint64(i))))
		if _, ok := tr.Files[MainConfig]; !ok {
			t.Fatalf("tree %d has no main config", i)
		}
		s := tr.String()
		for k, v := range features {
			if strings.Contains(strings.Join(filesOf(tr), ""), v) {
				seen[k] = true
			}
		}
		if len(tr.Symlinks) > 0 {
			symlinks++
		}
		if strings.Contains(s, "sshd_config.d/") {
			dropins++
		}
		if m := tr.Files[MainConfig]; len(m) > 0 && m[len(m)-1] != '\n' {
			noEOL++
		}
	}
	for k := range features {
		if !seen[k] {
			t.Errorf("500 trees never had %s (%q)", k, features[k])
		}
	}
	if symlinks == 0 || noEOL == 0 || dropins < 100 {
		t.Errorf("symlinks %d, no final newline %d, drop-ins %d", symlinks, noEOL, dropins)
	}
}

func filesOf(t Tree) []string {
	var out []string
	for _, b := range t.Files {
		out = append(out, string(b))
	}
	return out
}

// TestGenerateAgainstSSHD runs sshd on generated trees: the mix must contain
// both configurations sshd accepts (with several ports) and ones it refuses,
// and the harness must be fast enough for thousands of runs.
func TestGenerateAgainstSSHD(t *testing.T) {
	Require(t)
	const n = 100
	accepted, refused, multi := 0, 0, 0
	start := time.Now()
	for i := range n {
		tr := Generate(rand.New(rand.NewPCG(2, uint64(i))))
		dir := t.TempDir()
		if err := tr.Write(dir); err != nil {
			t.Fatal(err)
		}
		r := Run(t, dir, MainConfig)
		if r.Refused() {
			refused++
			if r.Err == "" {
				t.Errorf("tree %d: refused with exit %d and no message", i, r.Exit)
			}
			continue
		}
		accepted++
		if len(r.Ports) == 0 || len(r.Listen) == 0 || r.AddressFamily == "" {
			t.Errorf("tree %d: sshd accepted but printed no port/listen/family:\n%s", i, r.Stdout)
		}
		if len(r.Ports) > 1 {
			multi++
		}
	}
	d := time.Since(start)
	t.Logf("%d runs in %v (%.0f runs/s): %d accepted (%d with several ports), %d refused",
		n, d.Round(time.Millisecond), float64(n)/d.Seconds(), accepted, multi, refused)
	if accepted < n/5 || refused < n/10 || multi == 0 {
		t.Errorf("unbalanced generator: %d accepted, %d with several ports, %d refused", accepted, multi, refused)
	}
}
