package sshdtest

import "testing"

// HostKey returns the path of the throw-away host key Run gives sshd, for
// tests that start sshd their own way.
func HostKey(t testing.TB) string {
	t.Helper()
	e := setup()
	if e.err != nil {
		t.Fatal(e.err)
	}
	return e.key
}
