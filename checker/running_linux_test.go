package checker

import (
	"slices"
	"testing"
)

func TestDaemonArgv(t *testing.T) {
	cases := []struct {
		raw  string
		want []string
		ok   bool
	}{
		{"/usr/sbin/sshd\x00-D\x00", []string{"/usr/sbin/sshd", "-D"}, true},
		{"sshd: /usr/sbin/sshd -D -f /etc/ssh/alt [listener] 0 of 10-100 startups\x00\x00\x00", []string{"/usr/sbin/sshd", "-D", "-f", "/etc/ssh/alt"}, true},
		{"sshd: alice [priv]\x00", nil, false},
		{"sshd: alice@pts/0\x00", nil, false},
		{"/usr/sbin/sshd\x00-D\x00-R\x00", nil, false},
		{"/usr/sbin/sshd\x00-i\x00", nil, false},
		{"/usr/sbin/sshd\x00-T\x00-f\x00x\x00", nil, false},
		{"", nil, false},
	}
	for _, c := range cases {
		got, ok := daemonArgv([]byte(c.raw))
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("daemonArgv(%q) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}
