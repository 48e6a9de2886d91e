// Command sshport reports the Port(s) sshd uses and where each comes from,
// checks them (in use? well known? in the OS's ephemeral range? assigned by
// IANA to another service?), and moves sshd to a safe port with a reviewed,
// validated, atomic edit of sshd_config.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/sshcfg"
)

// Exit codes, stable for scripts.
const (
	exitOK       = 0 // no finding / change made or not needed
	exitFindings = 1 // check: at least one finding
	exitError    = 2 // bad input, refused request or failed write: nothing written
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr, checker.System{}))
}

// exitErr carries an exit code out of a command.
type exitErr struct {
	code int
	err  error // nil: already reported
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// env is what a command needs from the outside world.
type env struct {
	stdout, stderr io.Writer
	prober         checker.Prober
}

// globalFlags are accepted before and after the command name
// (`sshport --json check` and `sshport check --json`).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"f"}, Value: sshcfg.DefaultConfig, Usage: "sshd's main configuration `FILE` (as sshd names it; under --root, inside the image)"},
		&cli.StringFlag{Name: "root", Usage: "read the configuration under `DIR` as if DIR were / (an offline image); Includes and symlinks never leave DIR"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON for scripts instead of the report"},
		&cli.BoolFlag{Name: "resolve", Usage: "with --root: ask this system's resolver (DNS) for host names the image's etc/hosts does not list (without it no query leaves the machine)"},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, prober checker.Prober) int {
	e := &env{stdout: stdout, stderr: stderr, prober: prober}
	app := &cli.App{
		Name:    "sshport",
		Usage:   "check sshd's port and move it somewhere safe, without locking yourself out",
		Version: version,
		Description: "Exit codes: 0 fine (check: no finding; suggest: done or nothing to do; verify: all as expected),\n" +
			"1 check found something or verify a target that did not answer SSH-2.0,\n" +
			"2 error (bad config, refused request, failed write: nothing written).",
		Flags:                globalFlags(),
		Writer:               stdout,
		ErrWriter:            stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		Commands: []*cli.Command{
			checkCommand(e),
			suggestCommand(e),
			verifyCommand(e),
			clientCommand(e),
		},
		OnUsageError: quietUsage,
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usageErr("unknown command %q (commands: check, suggest, verify, client; see sshport --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = quietUsage
		cmd.HideHelpCommand = true
	}
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "sshport: %v\n", ee.err)
		}
		return ee.code
	}
	// Usage errors from the flag parser.
	fmt.Fprintf(stderr, "sshport: %v\n", err)
	return exitError
}

// global reads a global flag from the nearest context that set it, so the
// flag works before or after the command name.
func global[T any](c *cli.Context, name string, get func(*cli.Context, string) T) T {
	for _, cc := range c.Lineage() {
		for _, n := range cc.LocalFlagNames() {
			if n == name {
				return get(cc, name)
			}
		}
	}
	return get(c, name)
}

// target is the configuration a command works on.
type target struct {
	root    string // host dir standing for "/" (absolute); "/" for the live system
	rootArg string // --root as given, for messages
	image   bool   // --root was given
	config  string // main file as sshd names it
	json    bool
	resolve bool // --resolve: under --root, names the image's files lack go to this system's resolver
}

func targetOf(c *cli.Context) (target, error) {
	t := target{
		root:    global(c, "root", (*cli.Context).String),
		config:  global(c, "config", (*cli.Context).String),
		json:    global(c, "json", (*cli.Context).Bool),
		resolve: global(c, "resolve", (*cli.Context).Bool),
	}
	if t.root == "" {
		t.root = "/"
		abs, err := filepath.Abs(t.config)
		if err != nil {
			return t, err
		}
		t.config = abs
	} else {
		t.image = true
		abs, err := filepath.Abs(t.root)
		if err != nil {
			return t, err
		}
		t.rootArg, t.root = t.root, abs
		fi, err := os.Stat(t.root)
		if err != nil {
			return t, fmt.Errorf("--root: %w", err)
		}
		if !fi.IsDir() {
			return t, fmt.Errorf("--root %s: not a directory", t.root)
		}
		if !strings.HasPrefix(t.config, "/") {
			t.config = "/" + t.config
		}
	}
	return t, nil
}

// load reads the configuration; an error is sshd's refusal or an
// unreadable file, reported with exit code 2.
func (t target) load() (*sshcfg.Config, error) {
	fsys := sshcfg.Root(t.root)
	cfg, err := sshcfg.Load(fsys, t.config, &sshcfg.Options{Resolver: t.resolver(fsys)})
	if err != nil {
		return cfg, &exitErr{code: exitError, err: err}
	}
	return cfg, nil
}

// resolver answers names as the system's own sshd would: the live system's
// resolver, or the image's etc/services and etc/hosts (and, with
// --resolve, this system's resolver for what they do not list).
func (t target) resolver(fsys fs.FS) sshcfg.Resolver {
	if !t.image {
		return sshcfg.SystemResolver()
	}
	var other sshcfg.Resolver
	if t.resolve {
		other = sshcfg.SystemResolver()
	}
	return sshcfg.FilesResolver(fsys, other)
}

// quietUsage reports a flag the parser rejects as one line on stderr, with
// no help on stdout (which may be read as JSON), exit 2.
func quietUsage(_ *cli.Context, err error, _ bool) error {
	msg := strings.Replace(err.Error(), "flag -", "flag --", 1)
	return usageErr("%s (see --help)", msg)
}

// display names a host path as sshd would see it: inside the image for
// --root, unchanged for the live system.
func (t target) display(hostPath string) string {
	if !t.image {
		return hostPath
	}
	rel, err := filepath.Rel(t.root, hostPath)
	if err != nil || strings.HasPrefix(rel, "..") {
		return hostPath
	}
	return "/" + filepath.ToSlash(rel)
}

func usageErr(format string, a ...any) error {
	return &exitErr{code: exitError, err: fmt.Errorf(format, a...)}
}
