package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		s, p string
		want bool
	}{
		{"web1", "web1", true},
		{"web1", "WEB1", false},
		{"web1", "web?", true},
		{"web", "web?", false},
		{"web12", "web?", false},
		{"web1", "*", true},
		{"", "*", true},
		{"web1.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false},
		{"abcabd", "a*bd", true},
		{"abcabc", "a*bd", false},
		{"a", "**?", true},
		{"", "?", false},
	} {
		if got := matchPattern(tt.s, tt.p); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
	}
	for _, tt := range []struct {
		pats []string
		want bool
	}{
		{[]string{"web1"}, true},
		{[]string{"!web1"}, false},
		{[]string{"* !web1"}, false},
		{[]string{"*", "!web1"}, false},
		{[]string{"*", "!web2"}, true},
		{[]string{"!web2"}, false},
		{[]string{"web1,web2"}, false},
	} {
		if got := hostLineMatches(tt.pats, "web1"); got != tt.want {
			t.Errorf("hostLineMatches(%q, web1) = %v, want %v", tt.pats, got, tt.want)
		}
	}
}

type planCase struct {
	name   string
	files  map[string]string // relative to HOME; the main file is .ssh/config
	alias  string
	port   int
	others []string // hosts whose ssh -G output must not change
	action string
	err    string // substring of PlanPort's error
	edited string // file changed, relative to HOME (default .ssh/config)
	want   string // new text of the changed region, when given
}

var planCases = []planCase{
	{name: "no port anywhere", files: map[string]string{".ssh/config": "Host other\n    HostName 10.0.0.9\n"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddBlock,
		want: "\nHost web1\n    Port 20022\n"},
	{name: "own block without port", files: map[string]string{".ssh/config": "Host web1\n\tHostName 10.0.0.5\n\tUser deploy\n\n# defaults\nHost *\n\tServerAliveInterval 30\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionAddPort, want: "\tPort 20022\n"},
	{name: "own block with port", files: map[string]string{".ssh/config": "Host web1\n  HostName 10.0.0.5\n  Port=2222 # old\nHost *\n  Port 2200\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionEdit, want: "  Port=20022 # old\n"},
	{name: "Host * first with port", files: map[string]string{".ssh/config": "# all hosts\nHost *\n  Port 2222\n\nHost web1\n  HostName 10.0.0.5\n"},
		alias: "web1", port: 20022, others: []string{"web2", "other"}, action: ActionAddBlock,
		want: "Host web1\n  Port 20022\n\n"},
	{name: "port in Host * after own block", files: map[string]string{".ssh/config": "Host web1\n  User deploy\nHost *\n  Port 2222\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionAddPort, want: "  Port 20022\n"},
	{name: "several aliases on one Host line", files: map[string]string{".ssh/config": "Host web1 web2\n  Port 2222\n  User deploy\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionAddBlock},
	{name: "negated pattern", files: map[string]string{".ssh/config": "Host * !web1\n  Port 2222\nHost web*\n  Port 3333\n"},
		alias: "web1", port: 20022, others: []string{"web2", "webx", "other"}, action: ActionAddBlock},
	{name: "question mark pattern", files: map[string]string{".ssh/config": "Host web?\n  Port 2222\n"},
		alias: "web1", port: 20022, others: []string{"web2", "web", "web12"}, action: ActionAddBlock},
	{name: "tabs and quotes in Host line", files: map[string]string{".ssh/config": "Host\t\"web1\"\tweb1.example.com\n\tPort 2222\n"},
		alias: "web1", port: 20022, others: []string{"web1.example.com"}, action: ActionAddBlock},
	{name: "own block in an included file", files: map[string]string{
		".ssh/config":                 "Include conf.d/*.conf\nHost *\n  Port 2200\n",
		".ssh/conf.d/10-web.conf":     "Host web1\n  HostName 10.0.0.5\n  Port 2222\n",
		".ssh/conf.d/20-other.conf":   "Host other\n  Port 2300\n",
		".ssh/conf.d/not-included.cf": "Host web1\n  Port 9\n"},
		alias: "web1", port: 20022, others: []string{"other", "web2"}, action: ActionEdit, edited: ".ssh/conf.d/10-web.conf"},
	{name: "top-level port in an included file", files: map[string]string{
		".ssh/config": "Include ~/.ssh/common\nHost other\n  HostName 10.0.0.9\n",
		".ssh/common": "Port 2222\nUser deploy\n"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddBlock},
	{name: "include inside a Host block", files: map[string]string{
		".ssh/config":   "Host web*\n  Include web.conf\nHost *\n  User nobody\n",
		".ssh/web.conf": "Port 2222\n"},
		alias: "web1", port: 20022, others: []string{"web2", "other"}, action: ActionAddBlock},
	{name: "include in a block that does not apply", files: map[string]string{
		".ssh/config":   "Host other\n  Include web.conf\nHost *\n  Port 2200\n",
		".ssh/web.conf": "Host web1\n  Port 9\n"},
		alias: "web1", port: 20022, others: []string{"other", "web2"}, action: ActionAddBlock},
	{name: "block state restored after an Include", files: map[string]string{
		".ssh/config":   "Host web1\n  Include inc.conf\n  Port 2222\nHost *\n  Port 2200\n",
		".ssh/inc.conf": "Host other\n  User x\n"},
		alias: "web1", port: 20022, others: []string{"other", "web2"}, action: ActionEdit},
	{name: "top-level port", files: map[string]string{".ssh/config": "# my config\nPort 2222\nUser deploy\n\nHost other\n  HostName 10.0.0.9\n"},
		alias: "web1", port: 20022, others: []string{"other", "zzz"}, action: ActionAddBlock},
	{name: "CRLF edit", files: map[string]string{".ssh/config": "Host web1\r\n    Port 22\r\nHost *\r\n    User x\r\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionEdit, want: "    Port 20022\r\n"},
	{name: "CRLF new block", files: map[string]string{".ssh/config": "Host *\r\n    Port 2222\r\n"},
		alias: "web1", port: 20022, others: []string{"web2"}, action: ActionAddBlock, want: "Host web1\r\n    Port 20022\r\n\r\n"},
	{name: "no final newline, new block", files: map[string]string{".ssh/config": "Host other\n  Port 2222"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddBlock, want: "  Port 2222\n\nHost web1\n  Port 20022"},
	{name: "no final newline, own block", files: map[string]string{".ssh/config": "Host web1\n  User deploy"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddPort, want: "  User deploy\n  Port 20022"},
	{name: "Match without Port before the deciding line", files: map[string]string{".ssh/config": "Match user nobody-here\n  ForwardAgent no\nHost web1\n  Port 2222\n"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionEdit},
	{name: "port in Match all", files: map[string]string{".ssh/config": "Host other\n  User x\nMatch all\n  Port 2222\n"},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddBlock},
	{name: "port in a Match block", files: map[string]string{".ssh/config": "Match host web1\n  Port 2222\n"},
		alias: "web1", port: 20022, err: "inside the Match block at"},
	{name: "port in an Include inside a Match block", files: map[string]string{".ssh/config": "Match user root\n  Include m.conf\nHost web1\n  Port 2\n", ".ssh/m.conf": "Port 2222\n"},
		alias: "web1", port: 20022, err: "inside the Match block at"},
	{name: "already set", files: map[string]string{".ssh/config": "Host web1\n  Port 20022\n"},
		alias: "web1", port: 20022, action: ActionNone},
	{name: "default port asked", files: map[string]string{".ssh/config": "Host other\n  Port 2\n"},
		alias: "web1", port: 22, action: ActionNone},
	{name: "empty file", files: map[string]string{".ssh/config": ""},
		alias: "web1", port: 20022, others: []string{"other"}, action: ActionAddBlock, want: "Host web1\n    Port 20022\n"},
	{name: "bad port", files: map[string]string{".ssh/config": "Host web1\n  Port 0\n"},
		alias: "web1", port: 20022, err: "Bad port '0'"},
}

func TestPlanPort(t *testing.T) {
	for _, tt := range planCases {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			writeTree(t, home, tt.files)
			main := filepath.Join(home, ".ssh", "config")
			cfg, err := Load(main, Options{FS: os.DirFS("/"), Home: home})
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.PlanPort(tt.alias, tt.port, PlanOptions{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("PlanPort error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Action != tt.action {
				t.Errorf("action %q, want %q", p.Action, tt.action)
			}
			if tt.action == ActionNone {
				if len(p.Changes) != 0 {
					t.Errorf("changes for action none: %v", p.Changes)
				}
				if got := portOf(sshG(t, home, main, tt.alias)); got != "20022" && got != "22" {
					t.Errorf("ssh -G port %s", got)
				}
				return
			}
			before := map[string]string{}
			for _, h := range append([]string{tt.alias}, tt.others...) {
				before[h] = sshG(t, home, main, h)
			}
			if len(p.Changes) != 1 {
				t.Fatalf("%d changes, want 1", len(p.Changes))
			}
			ch := p.Changes[0]
			edited := filepath.Join(home, filepath.FromSlash(tt.edited))
			if tt.edited == "" {
				edited = main
			}
			if ch.Path != edited {
				t.Errorf("changes %s, want %s", ch.Path, edited)
			}
			if string(ch.Old) != tt.files[strings.TrimPrefix(strings.TrimPrefix(ch.Path, home), "/")] {
				t.Errorf("Old is not the file's bytes")
			}
			_, n := oneRegion(t, ch.Old, ch.New)
			if tt.want != "" && n != tt.want {
				t.Errorf("new text %q, want %q\nwhole file:\n%s", n, tt.want, ch.New)
			}
			if err := os.WriteFile(ch.Path, ch.New, 0o600); err != nil {
				t.Fatal(err)
			}
			after := sshG(t, home, main, tt.alias)
			if got := portOf(after); got != "20022" {
				t.Errorf("after the edit ssh -G %s says port %s, want 20022; file:\n%s", tt.alias, got, ch.New)
			}
			if strings.Replace(before[tt.alias], "port "+portOf(before[tt.alias])+"\n", "port 20022\n", 1) != after {
				t.Errorf("ssh -G %s changed beyond its port", tt.alias)
			}
			for _, h := range tt.others {
				if got := sshG(t, home, main, h); got != before[h] {
					t.Errorf("ssh -G %s changed (port %s -> %s); file:\n%s", h, portOf(before[h]), portOf(got), ch.New)
				}
			}
			// Planning again changes nothing.
			cfg2, err := Load(main, Options{FS: os.DirFS("/"), Home: home})
			if err != nil {
				t.Fatal(err)
			}
			p2, err := cfg2.PlanPort(tt.alias, tt.port, PlanOptions{})
			if err != nil || p2.Action != ActionNone {
				t.Errorf("second plan: %v, %v; want action none", p2, err)
			}
		})
	}
}
