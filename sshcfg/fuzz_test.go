package sshcfg

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// fuzzOptions keep Load away from the network and the machine's tables.
var fuzzOptions = &Options{Resolver: fakeNames{
	services: map[string]int{"ssh": 22},
	hosts:    map[string][]netip.Addr{"localhost": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}},
}}

// FuzzParse checks, for any file contents: Parse gives back the same bytes
// (or ErrBinary exactly when there is a NUL), every span lies inside its
// line, Load never panics, and when the file loads and has Port lines,
// Edit to a single port yields a file that loads with exactly that port and
// every other line unchanged. The seed corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("Port 2222\n"))
	f.Add([]byte("Port 2222\nMaxStartups 10:30:60\nRekeyLimit 1G 1h\nCiphers +aes128-ctr,arcfour\nHostKeyAlgorithms ssh-ed25519*,!ssh-rsa\n"))
	f.Add([]byte("Port 2222\nMatch User x\n\tAllowUsers u@10.0.0.0/8\n\tIPQoS af21 0x10\n\tChannelTimeout session=1h\nAuthenticationMethods any\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(mainCfg, data)
		if hasNUL := bytes.IndexByte(data, 0) >= 0; hasNUL != (err != nil) {
			t.Fatalf("Parse error %v for data with NUL=%v", err, hasNUL)
		}
		if err != nil {
			if !strings.HasSuffix(err.Error(), ": "+ErrBinary.Error()) {
				t.Fatalf("Parse error %q is not ErrBinary's", err)
			}
			return
		}
		if got := file.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("round trip: got %q, want %q", got, data)
		}
		for i, l := range file.Lines() {
			if l.Num != i+1 {
				t.Fatalf("line %d numbered %d", i+1, l.Num)
			}
			if i < len(file.Lines())-1 && !bytes.HasSuffix(l.Raw, []byte("\n")) {
				t.Fatalf("line %d does not end in a newline: %q", l.Num, l.Raw)
			}
			if bytes.Contains(bytes.TrimSuffix(l.Raw, []byte("\n")), []byte("\n")) {
				t.Fatalf("line %d holds a newline inside: %q", l.Num, l.Raw)
			}
			if l.Keyword != "" && (l.kwStart < 0 || l.kwStart >= l.kwEnd || l.kwEnd > len(l.Raw)) {
				t.Fatalf("line %d: keyword span [%d,%d) outside Raw %q", l.Num, l.kwStart, l.kwEnd, l.Raw)
			}
			prev := l.kwEnd
			for _, a := range l.Args {
				if a.Start < prev || a.Start > a.End || a.End > len(l.Raw) {
					t.Fatalf("line %d: arg %q span [%d,%d) out of order or outside Raw %q", l.Num, a.Text, a.Start, a.End, l.Raw)
				}
				prev = a.End
			}
		}

		fsys := fstest.MapFS{fsPath(mainCfg): &fstest.MapFile{Data: data, Mode: 0o644}}
		cfg, err := Load(fsys, mainCfg, fuzzOptions)
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("Load error %v is not a non-empty ErrorList", err)
			}
			return
		}
		if len(cfg.Ports) == 0 || cfg.Ports[0].Default {
			return
		}
		changes, err := cfg.Edit(Edit{Ports: []int{20022}})
		if err != nil {
			t.Fatalf("Edit: %v", err)
		}
		if len(changes) != 1 || changes[0].Path != mainCfg || !bytes.Equal(changes[0].Old, data) {
			t.Fatalf("Edit changes %+v", changes)
		}
		cfg2, err := Load(Overlay(fsys, changes), mainCfg, fuzzOptions)
		if err != nil {
			t.Fatalf("the edited file does not load: %v\n%q", err, changes[0].New)
		}
		var ports []int
		for _, p := range cfg2.Ports {
			ports = append(ports, p.Port)
		}
		if !reflect.DeepEqual(ports, []int{20022}) {
			t.Fatalf("ports after the edit %v\n%q", ports, changes[0].New)
		}
		if p := checkUntouched(mainCfg, data, changes[0].New, false); p != nil {
			t.Fatal(strings.Join(p, "\n"))
		}
	})
}
