package client

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKey makes a throw-away ed25519 key with ssh-keygen and returns its
// public line ("ssh-ed25519 AAAA...").
func hostKey(t testing.TB, dir, name string) string {
	t.Helper()
	f := filepath.Join(dir, name)
	if out, err := exec.Command(requireTool(t, "ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", f).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(f + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(pub))
}

// keygenFind returns the lines `ssh-keygen -F name -f file` prints for
// name (hashed ones included), without its "# Host ... found" comments.
func keygenFind(t testing.TB, file, name string) []string {
	t.Helper()
	out, _ := exec.Command(requireTool(t, "ssh-keygen"), "-F", name, "-f", file).Output()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestPlanKnownHosts(t *testing.T) {
	dir := t.TempDir()
	key := hostKey(t, dir, "host")
	other := hostKey(t, dir, "other")
	ca := hostKey(t, dir, "ca")
	hash := func(name, line string) string {
		return knownhosts.HashHostname(knownhosts.Normalize(name)) + " " + line
	}
	for _, tt := range []struct {
		name      string
		data      string
		alias     string
		hostname  string
		oldPort   int
		wantNames []string // names ssh-keygen -F must find the key under afterwards
		wantAdds  int
		hashed    bool
		marker    string
	}{
		{name: "plain", data: "web1 " + key + "\n", alias: "web1", wantNames: []string{"[web1]:20022"}, wantAdds: 1},
		{name: "hashed", data: hash("web1", key) + "\n", alias: "web1", wantNames: []string{"[web1]:20022"}, wantAdds: 1, hashed: true},
		{name: "under its HostName", data: "10.0.0.5 " + key + "\n", alias: "web1", hostname: "10.0.0.5",
			wantNames: []string{"[web1]:20022", "[10.0.0.5]:20022"}, wantAdds: 2},
		{name: "hashed HostName", data: hash("10.0.0.5", key) + "\n", alias: "web1", hostname: "10.0.0.5",
			wantNames: []string{"[web1]:20022", "[10.0.0.5]:20022"}, wantAdds: 2, hashed: true},
		{name: "list of names", data: "web1,10.0.0.5 " + key + "\nother " + other + "\n", alias: "web1", hostname: "10.0.0.5",
			wantNames: []string{"[web1]:20022", "[10.0.0.5]:20022"}, wantAdds: 2},
		{name: "wildcard", data: "*.example.com " + key + "\n", alias: "web1.example.com",
			wantNames: []string{"[web1.example.com]:20022"}, wantAdds: 1},
		{name: "negated", data: "*.example.com,!web1.example.com " + key + "\n", alias: "web1.example.com"},
		{name: "untrusted host", data: "other " + other + "\n", alias: "web1"},
		{name: "revoked", data: "web1 " + key + "\n@revoked * " + key + "\n", alias: "web1"},
		{name: "old port not 22", data: "[web1]:2222 " + key + "\nweb1 " + other + "\n", alias: "web1", oldPort: 2222,
			wantNames: []string{"[web1]:20022"}, wantAdds: 1},
		{name: "cert authority", data: "@cert-authority *.example.com " + ca + "\n", alias: "web1.example.com",
			wantNames: []string{"[web1.example.com]:20022"}, wantAdds: 1, marker: "cert-authority"},
		{name: "CRLF, no final newline", data: "# keys\r\nweb1 " + key, alias: "web1", wantNames: []string{"[web1]:20022"}, wantAdds: 1},
		{name: "already there", data: "web1 " + key + "\n[web1]:20022 " + key + "\n", alias: "web1", wantNames: []string{"[web1]:20022"}},
		{name: "bad lines skipped", data: "garbage\nweb1 " + key + "\n", alias: "web1", wantNames: []string{"[web1]:20022"}, wantAdds: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			old := tt.oldPort
			if old == 0 {
				old = 22
			}
			p, err := PlanKnownHosts(kh, []byte(tt.data), HostNames(tt.alias, tt.hostname, old), HostNames(tt.alias, tt.hostname, 20022))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Adds) != tt.wantAdds {
				t.Fatalf("%d lines added, want %d: %+v %v", len(p.Adds), tt.wantAdds, p.Adds, p.Notes)
			}
			if tt.wantAdds > 0 && tt.marker == "" {
				// Before: x/crypto's reader, which looks up
				// [host]:port only, does not trust the key there.
				cb, err := knownhosts.New(kh)
				if err != nil {
					t.Fatal(err)
				}
				n := p.Adds[0].Name
				addr := strings.Replace(strings.TrimPrefix(n, "["), "]:", ":", 1)
				if err := cb(addr, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 20022}, mustAuthorized(t, key)); err == nil {
					t.Errorf("knownhosts already trusts the key for %s before the change", n)
				}
			}
			if tt.wantAdds == 0 {
				if p.Change != nil {
					t.Errorf("a change with nothing added")
				}
			} else {
				if string(p.Change.Old) != tt.data || !strings.HasPrefix(string(p.Change.New), strings.TrimSuffix(tt.data, "\n")) {
					t.Fatalf("old bytes not kept:\n%q\n%q", tt.data, p.Change.New)
				}
				if err := os.WriteFile(kh, p.Change.New, 0o600); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(tt.data, "\r\n") && strings.Count(string(p.Change.New), "\n") != strings.Count(string(p.Change.New), "\r\n") {
					t.Errorf("line endings mixed: %q", p.Change.New)
				}
			}
			for _, a := range p.Adds {
				if a.Hashed != tt.hashed || strings.HasPrefix(strings.TrimPrefix(a.Line, "@"+a.Marker+" "), "|1|") != tt.hashed || a.Marker != tt.marker {
					t.Errorf("added %+v, want hashed %v marker %q", a, tt.hashed, tt.marker)
				}
			}
			want, err := ssh.ParsePublicKey(mustAuthorized(t, map[string]string{"": key, "cert-authority": ca}[tt.marker]).Marshal())
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.wantNames {
				found := keygenFind(t, kh, n)
				ok := false
				for _, l := range found {
					f := strings.Fields(l)
					if len(f) >= 2 && strings.Join(f[len(f)-2:], " ") == strings.Join(strings.Fields(string(ssh.MarshalAuthorizedKey(want))), " ") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("ssh-keygen -F %s finds %q, not the key", n, found)
				}
				if tt.marker == "" {
					// x/crypto's own reader agrees.
					cb, err := knownhosts.New(kh)
					if err != nil {
						t.Fatal(err)
					}
					addr := strings.TrimPrefix(n, "[")
					addr = strings.Replace(addr, "]:", ":", 1)
					if err := cb(addr, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 20022}, want); err != nil {
						t.Errorf("knownhosts callback for %s: %v", addr, err)
					}
				}
			}
			if tt.wantAdds == 0 && len(tt.wantNames) == 0 {
				for _, n := range HostNames(tt.alias, tt.hostname, 20022) {
					found := keygenFind(t, kh, n)
					found = slices.DeleteFunc(found, func(l string) bool { return strings.HasPrefix(l, "@revoked ") })
					if len(found) != 0 {
						t.Errorf("trust invented: ssh-keygen -F %s finds %q", n, found)
					}
				}
			}
			// A second run adds nothing.
			data, _ := os.ReadFile(kh)
			p2, err := PlanKnownHosts(kh, data, HostNames(tt.alias, tt.hostname, old), HostNames(tt.alias, tt.hostname, 20022))
			if err != nil || p2.Change != nil || len(p2.Adds) != 0 {
				t.Errorf("second run: %+v %v", p2, err)
			}
		})
	}
}

func mustAuthorized(t testing.TB, line string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
