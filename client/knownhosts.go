package client

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostNames are the names ssh looks a host key up under in known_hosts
// for one alias and port: knownhosts.Normalize of "alias:port" and, when
// HostName differs, of "hostname:port" ("web1", "[web1]:20022").
func HostNames(alias, hostname string, port int) []string {
	out := []string{knownhosts.Normalize(net.JoinHostPort(strings.ToLower(alias), strconv.Itoa(port)))}
	if hostname != "" {
		n := knownhosts.Normalize(net.JoinHostPort(strings.ToLower(hostname), strconv.Itoa(port)))
		if n != out[0] {
			out = append(out, n)
		}
	}
	return out
}

// KeyAdd is one known_hosts line to add.
type KeyAdd struct {
	File        string
	Name        string // the name it is trusted for, "[web1]:20022"
	Hashed      bool
	Marker      string // "cert-authority" or ""
	KeyType     string
	Fingerprint string
	// From is the line that trusts the key for the old name.
	From string
	// Line is the line added (without its line ending).
	Line string
}

// KnownHostsPlan is what PlanKnownHosts adds to one file.
type KnownHostsPlan struct {
	Change *Change  // nil when nothing is added
	Adds   []KeyAdd // the lines added, in order
	Notes  []string
}

type entry struct {
	ref    Ref
	marker string
	hosts  []string
	key    ssh.PublicKey
	hashed bool
}

// matches reports whether the entry is for name (a Normalize'd host):
// a hashed entry by its HMAC-SHA1, a plain one by its pattern list.
func (e *entry) matches(name string) bool {
	if e.hashed {
		return hashMatches(e.hosts[0], strings.ToLower(name))
	}
	return matchHostList(name, e.hosts)
}

// hashMatches checks a "|1|salt|hash" host against name, as hostfile.c
// does (knownhosts keeps its own check unexported).
func hashMatches(h, name string) bool {
	parts := strings.Split(h, "|")
	if len(parts) != 4 || parts[0] != "" || parts[1] != "1" {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return hmac.Equal(m.Sum(nil), want)
}

// PlanKnownHosts computes the lines to append to the known_hosts file
// path (contents data) so that every key it trusts for one of oldNames is
// trusted for each of newNames too: the same key, hashed when the entry
// that trusts it is hashed, "@cert-authority" kept. Revoked keys
// ("@revoked") are never added, and a key already trusted for a new name
// is not added again, so a second run adds nothing. Nothing is added for a
// name no entry trusts: trust is never invented. Lines ssh would skip
// (unreadable keys) are skipped too.
func PlanKnownHosts(path string, data []byte, oldNames, newNames []string) (*KnownHostsPlan, error) {
	p := &KnownHostsPlan{}
	var entries []*entry
	revoked := map[string]bool{}
	eol := "\n"
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && bytes.HasSuffix(lines[0], []byte("\r\n")) {
		eol = "\r\n"
	}
	for i, raw := range lines {
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(t)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s line %d: skipped, as ssh skips it: %v", path, i+1, err))
			continue
		}
		e := &entry{ref: Ref{path, i + 1}, marker: marker, hosts: hosts, key: key,
			hashed: len(hosts) == 1 && strings.HasPrefix(hosts[0], "|")}
		if marker == "revoked" {
			revoked[string(key.Marshal())] = true
			continue
		}
		entries = append(entries, e)
	}
	type trusted struct {
		e   *entry
		old string
	}
	var found []trusted
	seen := map[string]bool{}
	for _, e := range entries {
		for _, old := range oldNames {
			k := e.marker + " " + string(e.key.Marshal())
			if e.matches(old) && !seen[k] {
				seen[k] = true
				found = append(found, trusted{e, old})
			}
		}
	}
	if len(found) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: no key is trusted for %s: nothing to add (trust is never invented)", path, strings.Join(oldNames, ", ")))
		return p, nil
	}
	var add bytes.Buffer
	for _, f := range found {
		if revoked[string(f.e.key.Marshal())] {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: the %s key is marked @revoked: not added", f.e.ref, f.e.key.Type()))
			continue
		}
		for _, name := range newNames {
			present := false
			for _, e := range entries {
				if e.marker == f.e.marker && bytes.Equal(e.key.Marshal(), f.e.key.Marshal()) && e.matches(name) {
					present = true
					break
				}
			}
			if present {
				continue
			}
			host := name
			if f.e.hashed {
				host = knownhosts.HashHostname(name)
			}
			line := knownhosts.Line([]string{host}, f.e.key)
			if f.e.marker != "" {
				line = "@" + f.e.marker + " " + line
			}
			p.Adds = append(p.Adds, KeyAdd{File: path, Name: name, Hashed: f.e.hashed, Marker: f.e.marker,
				KeyType: f.e.key.Type(), Fingerprint: ssh.FingerprintSHA256(f.e.key), From: f.e.ref.String(), Line: line})
			add.WriteString(line + eol)
		}
	}
	if add.Len() == 0 {
		return p, nil
	}
	out := bytes.Clone(data)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, eol...)
	}
	out = append(out, add.Bytes()...)
	p.Change = &Change{Path: path, Old: data, New: out}
	return p, nil
}

// Target is what ssh uses, besides the port, to check an alias's host key.
type Target struct {
	// HostName is the HostName value with %h expanded ("" when unset).
	HostName string
	// HostKeyAlias, when set, is the name ssh looks keys up under,
	// whatever the port.
	HostKeyAlias string
	// KnownHosts are the UserKnownHostsFile files, "~" expanded
	// (default ~/.ssh/known_hosts and ~/.ssh/known_hosts2); empty for
	// "none".
	KnownHosts []string
	Notes      []string
}

// Target reads HostName, HostKeyAlias and UserKnownHostsFile for alias. A
// value that may come from a Match block, or uses a %-token other than %h
// and %%, is refused: sshport would be guessing.
func (c *Config) Target(alias string) (*Target, error) {
	t := &Target{}
	get := func(kw string) (*Setting, error) {
		s := c.Lookup(alias, kw)
		if s != nil && s.Act == Maybe {
			return nil, fmt.Errorf("%s: %s for %s may be set here, inside the Match block at %s, which sshport does not evaluate", s.Ref, s.Syntax.Keyword, alias, s.MatchBlock)
		}
		return s, nil
	}
	s, err := get("hostname")
	if err != nil {
		return nil, err
	}
	if s != nil {
		if t.HostName, err = expandTokens(s.Value(), map[byte]string{'h': alias}); err != nil {
			return nil, fmt.Errorf("%s: HostName: %v", s.Ref, err)
		}
	}
	if s, err = get("hostkeyalias"); err != nil {
		return nil, err
	}
	if s != nil {
		t.HostKeyAlias = s.Value()
	}
	if s, err = get("userknownhostsfile"); err != nil {
		return nil, err
	}
	files := []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}
	if s != nil {
		files = nil
		for _, a := range s.Syntax.Args {
			files = append(files, a.Text)
		}
		if len(files) == 1 && strings.EqualFold(files[0], "none") {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: UserKnownHostsFile none", s.Ref))
			return t, nil
		}
	}
	for _, f := range files {
		v, err := expandTokens(f, nil)
		if err != nil {
			return nil, fmt.Errorf("UserKnownHostsFile %s: %v (give --known-hosts FILE)", f, err)
		}
		if v == "~" || strings.HasPrefix(v, "~/") {
			v = c.opts.Home + strings.TrimPrefix(v, "~")
		}
		if !strings.HasPrefix(v, "/") {
			return nil, fmt.Errorf("UserKnownHostsFile %s: not an absolute path (give --known-hosts FILE)", f)
		}
		t.KnownHosts = append(t.KnownHosts, v)
	}
	return t, nil
}

// expandTokens expands %% and the given %-tokens; any other token is an
// error.
func expandTokens(s string, tokens map[byte]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends in %%", s)
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("%q: token %%%c is not expanded by sshport", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
