package manpage

import "testing"

func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"--apply":          `\-\-apply`,
		`C:\path`:          `C:\epath`,
		".starts with dot": `\&.starts with dot`,
		"'quote first":     `\&'quote first`,
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitUsage(t *testing.T) {
	for _, tt := range []struct{ in, ph, text string }{
		{"move to port `N` now", "N", "move to port N now"},
		{"no placeholder", "", "no placeholder"},
		{"unclosed `X", "", "unclosed `X"},
		{"name backups FILE`SUFFIX`", "SUFFIX", "name backups FILESUFFIX"},
	} {
		ph, text := splitUsage(tt.in)
		if ph != tt.ph || text != tt.text {
			t.Errorf("splitUsage(%q) = %q, %q; want %q, %q", tt.in, ph, text, tt.ph, tt.text)
		}
	}
}
