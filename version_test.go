package main

import (
	"runtime"
	"testing"
)

func TestBuildInfoString(t *testing.T) {
	tail := " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		b    buildInfo
		want string
	}{
		{buildInfo{Version: "dev"}, "sshport dev"},
		{buildInfo{Version: "v1.2.0", Revision: "0a3ecc4f"}, "sshport v1.2.0 (revision 0a3ecc4f)"},
		{buildInfo{Version: "v0.0.0-20261202194134-0a3ecc4f1627+dirty", Revision: "0a3ecc4f", Time: "2026-12-02T19:41:34Z", Modified: true},
			"sshport v0.0.0-20261202194134-0a3ecc4f1627+dirty (revision 0a3ecc4f, 2026-12-02T19:41:34Z, modified)"},
	}
	for _, tt := range tests {
		if got := tt.b.String(); got != tt.want+tail {
			t.Errorf("%+v: got %q, want %q", tt.b, got, tt.want+tail)
		}
	}
}

// TestVersionStamped: what a package build sets with -ldflags wins over
// the build info.
func TestVersionStamped(t *testing.T) {
	defer func(v, r string) { version, revision = v, r }(version, revision)
	version, revision = "1.2.0", "0a3ecc4f"
	b := readBuildInfo()
	if b.Version != "1.2.0" || b.Revision != "0a3ecc4f" {
		t.Errorf("stamped 1.2.0/0a3ecc4f, read %+v", b)
	}
	version, revision = "", ""
	if b := readBuildInfo(); b.Version == "" {
		t.Errorf("unstamped: empty version, want the module's or dev")
	}
}
