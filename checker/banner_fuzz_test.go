package checker

import (
	"strings"
	"testing"
)

// FuzzParseBanner: any server output is read without panic, within the
// limits: an accepted identification string is SSH-2.0, at most 253 bytes
// (255 with CR LF), after at most MaxPreBannerLines other lines.
func FuzzParseBanner(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "banner\r\nSSH-2.0-x\r\n", "SSH-1.99-x\r\n",
		"HTTP/1.1 400 Bad Request\r\n\r\n", "", "SSH-2.0-", "\r\n\r\nSSH-2.0-a b c\n", strings.Repeat("x", 9000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBanner(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if !b.SSH2 || !strings.HasPrefix(b.Ident, "SSH-2.0-") || len(b.Ident) > MaxBannerLen-2 || b.PreLines > MaxPreBannerLines {
			t.Fatalf("accepted %+v", b)
		}
		if strings.ContainsAny(b.Ident, "\n") {
			t.Fatalf("identification string with a newline: %q", b.Ident)
		}
	})
}
