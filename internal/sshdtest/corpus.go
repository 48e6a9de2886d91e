package sshdtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// MainConfig is where sshd reads its configuration by default, and where
// every corpus tree keeps its main file.
const MainConfig = "/etc/ssh/sshd_config"

// Case is one corpus folder: NAME/root/ is the tree, NAME/expected.txt what
// `sshd -T` printed for it (port, addressfamily and listenaddress lines) or
// NAME/expected-error.txt sshd's refusal (stderr, then "exit N").
type Case struct {
	Name string // folder name
	Dir  string // the folder
	Root string // Dir/root
	// Want is the content of expected.txt or expected-error.txt.
	Want string
	// Refused is true when the case holds expected-error.txt.
	Refused bool
	// Expect is Want parsed: Ports, AddressFamily, Listen for a
	// configuration sshd accepts; Err, ErrLines and Exit for a refusal.
	Expect Result
	// Broken is non-empty when the tree on disk is not the tree the
	// expectation was computed for: SOURCE declares a path a symlink
	// ("/etc/ssh/x = symlink -> target") but the copy holds a regular
	// file (a checkout or copy without symlink support). Tests skip such
	// cases, saying why.
	Broken string
}

// lostSymlinks checks the "PATH = symlink -> TARGET" lines of SOURCE.
func (c *Case) lostSymlinks() {
	b, err := os.ReadFile(filepath.Join(c.Dir, "SOURCE"))
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		p, rest, ok := strings.Cut(strings.TrimSpace(l), " = symlink -> ")
		if !ok || !strings.HasPrefix(p, "/") {
			continue
		}
		fi, err := os.Lstat(filepath.Join(c.Root, filepath.FromSlash(p)))
		if err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			target, _, _ := strings.Cut(rest, " ")
			c.Broken = fmt.Sprintf("SOURCE says %s is a symlink to %s, but this copy holds a regular file", p, target)
		}
	}
}

// Path returns the file that holds the expectation.
func (c Case) Path() string {
	if c.Refused {
		return filepath.Join(c.Dir, "expected-error.txt")
	}
	return filepath.Join(c.Dir, "expected.txt")
}

// Cases reads every case folder (one with a root/ subdirectory) in dir,
// sorted by name. A case without expectation files is returned with an
// empty Want, so that an update run can fill it in.
func Cases(dir string) ([]Case, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c := Case{Name: e.Name(), Dir: filepath.Join(dir, e.Name())}
		c.Root = filepath.Join(c.Dir, "root")
		if fi, err := os.Stat(c.Root); err != nil || !fi.IsDir() {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(c.Dir, "expected-error.txt")); err == nil {
			c.Want, c.Refused = string(b), true
			c.Expect, err = ParseError(c.Want)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Path(), err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		} else if b, err := os.ReadFile(filepath.Join(c.Dir, "expected.txt")); err == nil {
			c.Want = string(b)
			if err := c.Expect.ParseKeyLines(c.Want); err != nil {
				return nil, fmt.Errorf("%s: %w", c.Path(), err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		c.lostSymlinks()
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ParseError parses expected-error.txt content (sshd's stderr, then a line
// "exit N") into a Result with Err, Stderr, ErrLines and Exit set.
func ParseError(s string) (Result, error) {
	body := strings.TrimSuffix(s, "\n")
	i := strings.LastIndex(body, "\n")
	last := body[i+1:]
	n, err := strconv.Atoi(strings.TrimPrefix(last, "exit "))
	if !strings.HasPrefix(last, "exit ") || err != nil || n == 0 {
		return Result{}, fmt.Errorf("last line %q is not \"exit N\" with N != 0", last)
	}
	stderr := ""
	if i >= 0 {
		stderr = body[:i+1]
	}
	return Result{Err: stderr, Stderr: stderr, ErrLines: ErrLines(stderr), Exit: n}, nil
}

// Update writes r as the case's expectation, removing the other file.
func (c *Case) Update(r Result) error {
	c.Want, c.Refused, c.Expect = r.Expected(), r.Refused(), r
	other := filepath.Join(c.Dir, "expected-error.txt")
	if c.Refused {
		other = filepath.Join(c.Dir, "expected.txt")
	}
	if err := os.Remove(other); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.WriteFile(c.Path(), []byte(c.Want), 0o644)
}

// Corpus is the cases of one corpus folder: the project's own, or the
// shared one.
type Corpus struct {
	Dir    string
	Shared bool
	Cases  []Case
}

// Label names the corpus in subtest names: "own" or "shared".
func (c Corpus) Label() string {
	if c.Shared {
		return "shared"
	}
	return "own"
}

// LoadCorpora reads the project's corpus and the shared one. The shared
// corpus is left out, with a log line, when its folder is absent (a fresh
// clone has none); any other failure, or a corpus without cases, fails t.
func LoadCorpora(t testing.TB, own, shared string) []Corpus {
	t.Helper()
	var out []Corpus
	for _, c := range []Corpus{{Dir: own}, {Dir: shared, Shared: true}} {
		cases, err := Cases(c.Dir)
		if c.Shared && errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s absent: shared corpus not checked", c.Dir)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) == 0 {
			t.Fatalf("no cases in %s", c.Dir)
		}
		c.Cases = cases
		out = append(out, c)
	}
	return out
}
