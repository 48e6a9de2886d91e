package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// A package build stamps these with
//
//	-ldflags "-X main.version=1.2.0 -X main.revision=<commit>"
//
// (scripts/package.sh does). Left empty, they come from the build info the
// Go toolchain records: the module version (`go install ...@v1.2.0`) and
// the VCS revision of a build from a checkout.
var version, revision string

// buildInfo is what --version reports.
type buildInfo struct {
	Version  string // "v1.2.0", "dev" when unknown
	Revision string // VCS commit, "" when unknown
	Time     string // commit time (RFC 3339), "" when unknown
	Modified bool   // built from a checkout with uncommitted changes
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: revision}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		if b.Revision == "" {
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Revision = s.Value
				case "vcs.time":
					b.Time = s.Value
				case "vcs.modified":
					b.Modified = s.Value == "true"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// String is the one line of `sshport --version`:
// "sshport v1.2.0 (revision 0a3ecc4..., 2026-12-02T19:00:00Z) go1.26.8 linux/amd64".
func (b buildInfo) String() string {
	var extra []string
	if b.Revision != "" {
		extra = append(extra, "revision "+b.Revision)
	}
	if b.Time != "" {
		extra = append(extra, b.Time)
	}
	if b.Modified {
		extra = append(extra, "modified")
	}
	s := "sshport " + b.Version
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func init() {
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, readBuildInfo())
	}
}
