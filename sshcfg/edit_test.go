package sshcfg

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/sshport/sshport/internal/sshdtest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/edit/*.txtar")

// Golden edit tests. Each testdata/edit/NAME.txtar holds, after a comment
// saying what it shows:
//
//	-- edit --             one request per line: "ports 20022 20023",
//	                       "listen 2222=20022", "localport 22=20022",
//	                       "addports 20022", "listen-copy 22=20022",
//	                       "localport-copy 22=20022", "listen-dropcopies yes",
//	                       "localport-dropcopies 22=20022"
//	-- etc/ssh/... --      the input files (the main file is /etc/ssh/sshd_config)
//	-- want/etc/ssh/... -- the new contents of every file the edit changes
//	-- want/error --       or the error Edit returns
//
// A file whose last line has no newline is written with a final line
// `\ No newline at end of file`, as diff does. go test -run TestEditGolden
// -update rewrites the want/ sections from what Edit returns. A comment line
// "bug: TEXT" marks a known, reported bug: the case's failures are logged,
// not reported, until the bug is fixed (and then the case fails until the
// line is removed); -update leaves such a case's hand-written want/ alone.

const noEOL = "\\ No newline at end of file\n"

func decodeData(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\n"+noEOL)) {
		return b[:len(b)-len(noEOL)-1]
	}
	return b
}

func encodeData(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return append(append([]byte{}, b...), "\n"+noEOL...)
	}
	return b
}

func parseEdit(t *testing.T, data []byte) Edit {
	t.Helper()
	var e Edit
	pair := func(s string) (int, int) {
		a, b, ok := strings.Cut(s, "=")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad OLD=NEW %q in edit section", s)
		}
		return x, y
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("bad edit line %q", line)
		}
		switch f[0] {
		case "ports":
			e.Ports = []int{}
			for _, s := range f[1:] {
				n, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("bad port %q in edit section", s)
				}
				e.Ports = append(e.Ports, n)
			}
		case "listen":
			if e.ListenAddressPorts == nil {
				e.ListenAddressPorts = map[int]int{}
			}
			for _, s := range f[1:] {
				o, n := pair(s)
				e.ListenAddressPorts[o] = n
			}
		case "localport":
			if e.LocalPorts == nil {
				e.LocalPorts = map[int]int{}
			}
			for _, s := range f[1:] {
				o, n := pair(s)
				e.LocalPorts[o] = n
			}
		case "addports":
			for _, s := range f[1:] {
				n, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("bad port %q in edit section", s)
				}
				e.AddPorts = append(e.AddPorts, n)
			}
		case "listen-copy":
			if e.ListenAddressCopies == nil {
				e.ListenAddressCopies = map[int]int{}
			}
			for _, s := range f[1:] {
				o, n := pair(s)
				e.ListenAddressCopies[o] = n
			}
		case "localport-copy":
			if e.LocalPortCopies == nil {
				e.LocalPortCopies = map[int]int{}
			}
			for _, s := range f[1:] {
				o, n := pair(s)
				e.LocalPortCopies[o] = n
			}
		case "listen-dropcopies":
			e.DropListenAddressCopies = f[1] == "yes"
		case "localport-dropcopies":
			if e.DropLocalPortCopies == nil {
				e.DropLocalPortCopies = map[int]int{}
			}
			for _, s := range f[1:] {
				o, n := pair(s)
				e.DropLocalPortCopies[o] = n
			}
		default:
			t.Fatalf("unknown edit %q", f[0])
		}
	}
	return e
}

type editCase struct {
	ar      *txtar.Archive
	edit    Edit
	inputs  map[string][]byte // by path as sshd names it
	order   []string          // input paths in archive order
	wants   map[string][]byte
	wantErr string
	hasWant bool
	// bug is the text after "bug: " in the comment: a reported
	// difference between what Edit does and what the case asks. The case's
	// checks are logged instead of failing while it lasts.
	bug string
}

func readEditCase(t *testing.T, file string) editCase {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := editCase{ar: ar, inputs: map[string][]byte{}, wants: map[string][]byte{}}
	sawEdit := false
	for _, f := range ar.Files {
		switch {
		case f.Name == "edit":
			c.edit, sawEdit = parseEdit(t, f.Data), true
		case f.Name == "want/error":
			c.wantErr, c.hasWant = strings.TrimSpace(string(f.Data)), true
		case strings.HasPrefix(f.Name, "want/"):
			c.wants["/"+strings.TrimPrefix(f.Name, "want/")] = decodeData(f.Data)
			c.hasWant = true
		default:
			p := "/" + f.Name
			c.inputs[p] = decodeData(f.Data)
			c.order = append(c.order, p)
		}
	}
	for _, l := range strings.Split(string(ar.Comment), "\n") {
		if b, ok := strings.CutPrefix(l, "bug: "); ok {
			c.bug = b
		}
	}
	if !sawEdit || len(bytes.TrimSpace(ar.Comment)) == 0 {
		t.Fatalf("%s needs a comment and an edit section", file)
	}
	return c
}

func (c editCase) fsys() fstest.MapFS {
	m := fstest.MapFS{}
	for p, b := range c.inputs {
		m[fsPath(p)] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return m
}

func TestEditGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/edit/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			c := readEditCase(t, file)
			fsys := c.fsys()
			cfg, err := Load(fsys, mainCfg, sshdNames)
			if err != nil {
				t.Fatalf("the input does not load: %v", err)
			}
			changes, editErr := cfg.Edit(c.edit)
			if *update && c.bug == "" {
				writeEditCase(t, file, c, changes, editErr)
				return
			}
			if !c.hasWant {
				t.Fatalf("no want/ section: run go test -run TestEditGolden -update and review the result")
			}
			if editErr != nil || c.wantErr != "" {
				got := ""
				if editErr != nil {
					got = editErr.Error()
				}
				if got != c.wantErr {
					t.Fatalf("Edit error %q, want %q", got, c.wantErr)
				}
				if changes != nil {
					t.Errorf("a failed Edit returned changes: %v", changes)
				}
				return
			}
			var problems []string
			got := map[string][]byte{}
			for _, ch := range changes {
				if _, dup := got[ch.Path]; dup {
					t.Errorf("two changes for %s", ch.Path)
				}
				got[ch.Path] = ch.New
				if !bytes.Equal(ch.Old, c.inputs[ch.Path]) {
					t.Errorf("%s: Change.Old is not the file's contents", ch.Path)
				}
				if bytes.Equal(ch.Old, ch.New) {
					t.Errorf("%s: a change that changes nothing", ch.Path)
				}
			}
			for _, p := range c.order {
				want, ok := c.wants[p]
				if !ok {
					want = c.inputs[p]
				}
				have, ok := got[p]
				if !ok {
					have = c.inputs[p]
				}
				if !bytes.Equal(have, want) {
					problems = append(problems, fmt.Sprintf("%s:\n got %q\nwant %q", p, have, want))
				}
				blocks := len(c.edit.LocalPortCopies) > 0 || len(c.edit.DropLocalPortCopies) > 0
				problems = append(problems, checkUntouched(p, c.inputs[p], have, blocks)...)
			}
			for p := range c.wants {
				if _, ok := c.inputs[p]; !ok {
					t.Errorf("want/%s names no input file", p)
				}
			}
			cfg2, more := checkReadBack(cfg, fsys, changes, c.edit)
			problems = append(problems, more...)
			switch {
			case len(problems) > 0 && c.bug != "":
				t.Logf("known bug (reported): %s:\n%s", c.bug, strings.Join(problems, "\n"))
			case len(problems) > 0:
				t.Error(strings.Join(problems, "\n"))
			case c.bug != "":
				t.Errorf("the known bug %q is gone: remove its line from the archive's comment", c.bug)
			}
			if cfg2 == nil {
				return
			}
			t.Run("sshd", func(t *testing.T) {
				sshdtest.Require(t)
				dir := t.TempDir()
				for p, b := range c.inputs {
					if nb, ok := got[p]; ok {
						b = nb
					}
					host := filepath.Join(dir, filepath.FromSlash(p))
					if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(host, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				r := sshdtest.Run(t, dir, mainCfg)
				if r.Refused() {
					t.Fatalf("sshd refuses the edited configuration:\n%s", r.Err)
				}
				var ports []int
				for _, p := range cfg2.Ports {
					ports = append(ports, p.Port)
				}
				if !reflect.DeepEqual(r.Ports, ports) {
					t.Errorf("sshd ports %v, sshcfg %v", r.Ports, ports)
				}
				var listen []string
				for _, e := range cfg2.Listen {
					listen = append(listen, strings.TrimSuffix(e.String(), " rdomain "+e.RDomain))
				}
				if !reflect.DeepEqual(r.Listen, listen) {
					t.Errorf("sshd listen %v, sshcfg %v", r.Listen, listen)
				}
			})
		})
	}
}

// checkUntouched requires every line of old that is not a Port,
// ListenAddress or Match line to appear unchanged and in order in new, and
// new to have no other lines but those. Only a last line without newline
// may gain one (when lines are added after it). With blocks, the lines of
// Match blocks with a LocalPort criterion (copied or deleted whole) are
// left out on both sides.
func checkUntouched(name string, old, new []byte, blocks bool) []string {
	type kept struct{ text, eol string }
	keep := func(data []byte) ([]kept, error) {
		f, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		var out []kept
		inBlock := false
		for _, l := range f.Lines() {
			if strings.EqualFold(l.Keyword, "match") {
				inBlock = blocks && slices.ContainsFunc(l.MatchCriteria(), func(c Criterion) bool { return strings.EqualFold(c.Name, "localport") })
			}
			if inBlock {
				continue
			}
			switch strings.ToLower(l.Keyword) {
			case "port", "listenaddress", "match":
				continue
			}
			out = append(out, kept{strings.TrimSuffix(string(l.Raw), l.EOL()), l.EOL()})
		}
		return out, nil
	}
	o, err1 := keep(old)
	n, err2 := keep(new)
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("%s: %v %v", name, err1, err2)}
	}
	bad := len(o) != len(n)
	for i := 0; !bad && i < len(o); i++ {
		bad = o[i].text != n[i].text || (o[i].eol != n[i].eol && o[i].eol != "")
	}
	if bad {
		return []string{fmt.Sprintf("%s: lines other than Port/ListenAddress/Match changed:\n old %q\n new %q", name, o, n)}
	}
	return nil
}

// checkReadBack loads the edited configuration and requires it to say
// exactly what the edit asked for.
func checkReadBack(cfg *Config, fsys fs.FS, changes []Change, e Edit) (*Config, []string) {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	cfg2, err := cfg.Reload(Overlay(fsys, changes))
	if err != nil {
		return nil, []string{fmt.Sprintf("the edited configuration does not load: %v", err)}
	}
	if len(cfg2.Warnings) != len(cfg.Warnings) {
		errorf("warnings changed: %v", cfg2.Warnings)
	}
	wantPorts := e.Ports
	if e.Ports == nil && len(e.AddPorts) > 0 {
		for _, p := range cfg.Ports {
			wantPorts = append(wantPorts, p.Port)
		}
		wantPorts = append(wantPorts, e.AddPorts...)
	}
	// A file included twice gives its lines twice: compare distinct ports.
	readTwice := false
	for i, p := range cfg.Ports {
		for _, q := range cfg.Ports[:i] {
			readTwice = readTwice || (p.File == q.File && p.Line == q.Line && !p.Default)
		}
	}
	if wantPorts != nil {
		var got []int
		for _, p := range cfg2.Ports {
			got = append(got, p.Port)
		}
		if readTwice {
			got, wantPorts = distinct(got), distinct(wantPorts)
		}
		if !reflect.DeepEqual(got, wantPorts) {
			errorf("ports after the edit %v, want %v", got, wantPorts)
		}
	}
	type hp struct {
		host, rdomain string
		port          int
	}
	var wantLA, gotLA []hp
	for _, la := range cfg.ListenAddresses {
		port := la.Port
		if n, ok := e.ListenAddressPorts[la.Port]; ok && la.Port != 0 {
			if e.DropListenAddressCopies && slices.ContainsFunc(cfg.ListenAddresses, func(o ListenAddress) bool {
				return o.Port == n && o.Host == la.Host && o.RDomain == la.RDomain
			}) {
				continue
			}
			port = n
		}
		wantLA = append(wantLA, hp{la.Host, la.RDomain, port})
		if n, ok := e.ListenAddressCopies[la.Port]; ok && la.Port != 0 {
			wantLA = append(wantLA, hp{la.Host, la.RDomain, n})
		}
	}
	for _, la := range cfg2.ListenAddresses {
		gotLA = append(gotLA, hp{la.Host, la.RDomain, la.Port})
	}
	if readTwice { // each reading of the file gets its sibling
		gotLA, wantLA = distinct(gotLA), distinct(wantLA)
	}
	if !reflect.DeepEqual(gotLA, wantLA) {
		errorf("ListenAddress directives %v, want %v", gotLA, wantLA)
	}
	if len(e.LocalPortCopies) == 0 && len(e.DropLocalPortCopies) == 0 {
		if want, got := localPorts(cfg, e.LocalPorts), localPorts(cfg2, nil); !reflect.DeepEqual(got, want) {
			errorf("Match LocalPort values %v, want %v", got, want)
		}
	}
	return cfg2, problems
}

// localPorts returns the LocalPort values of every Match line as sshd
// reads them (strdelim words), mapped through m.
func localPorts(c *Config, m map[int]int) []string {
	var out []string
	for d := range c.Directives() {
		if d.Key != "match" {
			continue
		}
		s := []byte(d.Line().Rest)
		var words []string
		for off := 0; off >= 0 && off < len(s); {
			w, _, _, next, ok := strdelim(s, off)
			if !ok {
				break
			}
			if w != "" {
				words = append(words, w)
			}
			off = next
		}
		for i := 0; i+1 < len(words); i++ {
			if strings.EqualFold(words[i], "localport") {
				v := words[i+1]
				if n, ok := strtonum(v, 1, 65535); ok {
					if nn, ok := m[int(n)]; ok {
						v = strconv.Itoa(nn)
					} else {
						v = strconv.Itoa(int(n))
					}
				}
				out = append(out, fmt.Sprintf("%s:%d %s", d.File, d.Num(), v))
			}
		}
	}
	return out
}

func writeEditCase(t *testing.T, file string, c editCase, changes []Change, editErr error) {
	t.Helper()
	ar := &txtar.Archive{Comment: c.ar.Comment}
	for _, f := range c.ar.Files {
		if !strings.HasPrefix(f.Name, "want/") {
			ar.Files = append(ar.Files, f)
		}
	}
	if editErr != nil {
		ar.Files = append(ar.Files, txtar.File{Name: "want/error", Data: []byte(editErr.Error() + "\n")})
	} else {
		sort.SliceStable(changes, func(i, j int) bool {
			return indexOf(c.order, changes[i].Path) < indexOf(c.order, changes[j].Path)
		})
		for _, ch := range changes {
			ar.Files = append(ar.Files, txtar.File{Name: "want" + ch.Path, Data: encodeData(ch.New)})
		}
	}
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return len(s)
}

// TestEditArguments checks the requests Edit refuses before looking at
// any file.
func TestEditArguments(t *testing.T) {
	cfg, err := Load(mapFS(only("Port 22\n")), mainCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ports []int
		err   string
	}{
		{[]int{}, "an edit must leave at least one port"},
		{[]int{0}, "port 0 out of range 1-65535"},
		{[]int{22, 65536}, "port 65536 out of range 1-65535"},
		{[]int{-5}, "port -5 out of range 1-65535"},
		{make([]int, 257), "257 ports is more than sshd accepts (256)"},
	}
	for _, tt := range tests {
		ch, err := cfg.Edit(Edit{Ports: tt.ports})
		if err == nil || err.Error() != tt.err || ch != nil {
			t.Errorf("Edit(%d ports) = %v, %v; want error %q", len(tt.ports), ch, err, tt.err)
		}
	}
	// A nil Ports leaves the ports alone; an edit that changes nothing
	// returns no change.
	for _, e := range []Edit{{}, {ListenAddressPorts: map[int]int{2222: 1}}, {LocalPorts: map[int]int{2222: 1}}, {Ports: []int{22}}} {
		if ch, err := cfg.Edit(e); err != nil || len(ch) != 0 {
			t.Errorf("Edit(%+v) = %v, %v; want no change", e, ch, err)
		}
	}
}

func distinct[T comparable](s []T) []T {
	var out []T
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
