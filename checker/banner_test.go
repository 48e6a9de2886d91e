package checker

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseBanner(t *testing.T) {
	long := "SSH-2.0-" + strings.Repeat("x", 250)
	tests := []struct {
		name, in string
		ident    string
		pre      int
		err      error // nil: success
	}{
		{"openssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", 0, nil},
		{"bare LF", "SSH-2.0-dropbear_2022.83\n", "SSH-2.0-dropbear_2022.83", 0, nil},
		{"lines before", "Welcome\r\nto the server\r\nSSH-2.0-X\r\n", "SSH-2.0-X", 2, nil},
		{"comment after version", "SSH-2.0-X some comment\r\n", "SSH-2.0-X some comment", 0, nil},
		{"exactly 255 with CR LF", "SSH-2.0-" + strings.Repeat("y", 245) + "\r\n", "SSH-2.0-" + strings.Repeat("y", 245), 0, nil},
		{"too long", long + "\r\n", "", 0, ErrBannerLength},
		{"protocol 1.5", "SSH-1.5-old\r\n", "SSH-1.5-old", 0, ErrNotSSH},
		{"protocol 1.99", "SSH-1.99-compat\r\n", "SSH-1.99-compat", 0, ErrNotSSH},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n", "", 2, ErrNotSSH},
		{"silent close", "", "", 0, ErrNotSSH},
		{"unterminated", "SSH-2.0-X", "", 0, ErrNotSSH},
		{"too many lines", strings.Repeat("hello\r\n", MaxPreBannerLines+1) + "SSH-2.0-X\r\n", "", MaxPreBannerLines + 1, ErrTooManyLines},
		{"huge line", strings.Repeat("z", 10000) + "\r\nSSH-2.0-X\r\n", "", 0, ErrNotSSH},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBanner(strings.NewReader(tc.in))
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if b.Ident != tc.ident || b.PreLines != tc.pre {
				t.Errorf("got ident %q pre %d, want %q pre %d", b.Ident, b.PreLines, tc.ident, tc.pre)
			}
			if b.SSH2 != (tc.err == nil) {
				t.Errorf("SSH2 = %v", b.SSH2)
			}
		})
	}
}

// serve accepts one connection on loopback and runs fn on it.
func serve(t *testing.T, fn func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fn(c)
	}()
	return l.Addr().String()
}

func TestReadBannerSendsOnlyIdentification(t *testing.T) {
	got := make(chan string, 1)
	addr := serve(t, func(c net.Conn) {
		_, _ = c.Write([]byte("SSH-2.0-test\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		var all []byte
		for {
			n, err := c.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- string(all)
	})
	b, err := ReadBanner(context.Background(), addr, 5*time.Second)
	if err != nil || b.Ident != "SSH-2.0-test" {
		t.Fatalf("ReadBanner = %+v, %v", b, err)
	}
	if s := <-got; s != Identification+"\r\n" {
		t.Errorf("client sent %q, want only %q", s, Identification+"\r\n")
	}
}

func TestReadBannerTimeout(t *testing.T) {
	addr := serve(t, func(c net.Conn) { time.Sleep(3 * time.Second) })
	_, err := ReadBanner(context.Background(), addr, 200*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestReadBannerNotSSH(t *testing.T) {
	addr := serve(t, func(c net.Conn) { _, _ = c.Write([]byte("220 smtp.example ESMTP\r\n")) })
	_, err := ReadBanner(context.Background(), addr, 5*time.Second)
	if !errors.Is(err, ErrNotSSH) {
		t.Fatalf("err = %v, want ErrNotSSH", err)
	}
}

func TestReadBannerRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := ReadBanner(context.Background(), addr, time.Second); err == nil {
		t.Fatal("no error from a closed port")
	}
}
