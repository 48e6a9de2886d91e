package suggest

import (
	"strings"
	"testing"
)

func TestHolderIn(t *testing.T) {
	locks := "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 77 08:01:1234 0 EOF\n2: POSIX  ADVISORY  WRITE 5 08:01:99 0 EOF\n"
	if got := holderIn(locks, 8<<8|1, 1234, 1); !strings.Contains(got, "pid 4242") {
		t.Errorf("holderIn = %q, want pid 4242", got)
	}
	if got := holderIn(locks, 8<<8|1, 99, 1); got != "" {
		t.Errorf("holderIn(POSIX lock) = %q, want none", got)
	}
	if got := holderIn(locks, 8<<8|1, 1234, 4242); got != "" {
		t.Errorf("holderIn(own lock) = %q, want none", got)
	}
}
