package checker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Limits on what ReadBanner accepts before the identification string.
const (
	// MaxBannerLen is RFC 4253 §4.2's limit on the identification string,
	// CR LF included.
	MaxBannerLen = 255
	// MaxPreBannerLines bounds the other lines a server may send first
	// (OpenSSH's client accepts 1024).
	MaxPreBannerLines = 1024
	// maxPreLine bounds one of those lines.
	maxPreLine = 8192
)

// Identification is sshport's own identification string, sent after the
// server's so that sshd sees a complete version exchange and logs no
// "did not receive identification string" (which fail2ban's ddos mode
// counts). Nothing else is ever sent: no key exchange, no credentials.
const Identification = "SSH-2.0-sshport_verify"

// Banner is what a server said when connected to.
type Banner struct {
	// Ident is the identification string ("SSH-2.0-OpenSSH_9.2p1 ..."),
	// without CR LF; "" when the server sent none.
	Ident string
	// PreLines counts the lines the server sent before it.
	PreLines int
	// SSH2: Ident announces protocol version 2.0.
	SSH2 bool
}

// Errors of ReadBanner besides the network's own.
var (
	ErrNotSSH       = errors.New("not an SSH server")
	ErrBannerLength = errors.New("identification string longer than 255 bytes")
	ErrTooManyLines = errors.New("too many lines before the identification string")
)

// ReadBanner connects to addr ("host:port") over TCP and reads the server's
// identification string as RFC 4253 §4.2 describes it: lines before one
// starting with "SSH-" are skipped (at most MaxPreBannerLines), lines end in
// CR LF (a bare LF is accepted, as OpenSSH does). Everything must arrive
// within timeout. After reading it, ReadBanner sends Identification and
// closes the connection.
func ReadBanner(ctx context.Context, addr string, timeout time.Duration) (Banner, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Banner{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	b, err := ParseBanner(conn)
	if err == nil {
		_, _ = io.WriteString(conn, Identification+"\r\n")
	}
	return b, err
}

// ParseBanner reads an identification string from r (see ReadBanner).
func ParseBanner(r io.Reader) (Banner, error) {
	var b Banner
	br := bufio.NewReaderSize(r, maxPreLine)
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if b.PreLines > 0 || line != "" {
					return b, fmt.Errorf("%w: connection closed after %d line(s) without an identification string", ErrNotSSH, b.PreLines)
				}
				return b, fmt.Errorf("%w: connection closed without a word", ErrNotSSH)
			}
			return b, err
		}
		if strings.HasPrefix(line, "SSH-") {
			if len(line)+2 > MaxBannerLen {
				return b, ErrBannerLength
			}
			b.Ident = line
			b.SSH2 = strings.HasPrefix(line, "SSH-2.0-")
			if !b.SSH2 {
				return b, fmt.Errorf("%w: protocol %q, not 2.0", ErrNotSSH, strings.SplitN(line, "-", 3)[1])
			}
			return b, nil
		}
		b.PreLines++
		if b.PreLines > MaxPreBannerLines {
			return b, ErrTooManyLines
		}
	}
}

// readLine reads one line, without its CR LF or LF, refusing lines longer
// than maxPreLine.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("%w: a line longer than %d bytes", ErrNotSSH, maxPreLine)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 && strings.HasPrefix(s, "SSH-") {
			return s, fmt.Errorf("%w: identification string not ended by CR LF", ErrNotSSH)
		}
		return s, err
	}
	return s, nil
}
