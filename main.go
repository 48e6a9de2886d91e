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
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sshport/sshport/checker"
	"github.com/sshport/sshport/internal/rootfs"
	"github.com/sshport/sshport/sshcfg"
)

// Exit codes, stable for scripts.
const (
	exitOK       = 0 // no finding / change made or not needed
	exitFindings = 1 // check: at least one finding
	exitError    = 2 // bad input, refused request or failed write: nothing written
)

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
		&cli.StringFlag{Name: "openssh", Usage: "judge the config for OpenSSH `VERSION` (e.g. 9.2) instead of the installed one (found in the package database or sshd binary, else the newest)"},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, prober checker.Prober) int {
	return runApp(ctx, newApp(&env{stdout: stdout, stderr: stderr, prober: prober}), args)
}

// newApp is the CLI definition: commands, flags and help texts (also the
// source of the completion scripts and the man page).
func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:    "sshport",
		Usage:   "check sshd's port and move it somewhere safe, without locking yourself out",
		Version: readBuildInfo().Version,
		Description: "Exit codes: 0 fine (check: no finding; suggest: done or nothing to do; verify: all as expected),\n" +
			"1 check found something or verify a target that did not answer SSH-2.0,\n" +
			"2 error (bad config, refused request, failed write: nothing written).",
		Flags:                globalFlags(),
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		Commands: []*cli.Command{
			checkCommand(e),
			suggestCommand(e),
			verifyCommand(e),
			clientCommand(e),
			completionCommand(e),
		},
		OnUsageError: quietUsage,
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				var names []string
				for _, cmd := range c.App.Commands {
					if !cmd.Hidden {
						names = append(names, cmd.Name)
					}
				}
				return usageErr("unknown command %q (commands: %s; see sshport --help)", c.Args().First(), strings.Join(names, ", "))
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = quietUsage
		cmd.HideHelpCommand = true
	}
	return app
}

func runApp(ctx context.Context, app *cli.App, args []string) int {
	stdout, stderr := app.Writer, app.ErrWriter
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	code := exitError // usage errors from the flag parser
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err == nil {
			return ee.code // reported already
		}
		code, err = ee.code, ee.err
	}
	fmt.Fprintf(stderr, "sshport: %v\n", err)
	if jsonRequested(args) {
		writeJSON(stdout, newErrorReport(err, code))
	}
	return code
}

// jsonRequested reports whether --json is among the arguments (before
// "--"), wherever it stands, so that an error found before or while the
// flags are parsed is reported as JSON too.
func jsonRequested(args []string) bool {
	want := false
	for _, a := range args[min(1, len(args)):] {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		want = true
		if hasVal {
			want, _ = strconv.ParseBool(val)
		}
	}
	return want
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
	root    *rootfs.Root // the system looked at: the image, or the live system
	rootArg string       // --root as given, for messages
	image   bool         // --root was given
	config  string       // main file as sshd names it
	json    bool
	resolve bool   // --resolve: under --root, names the image's files lack go to this system's resolver
	openssh string // --openssh, as a release of sshcfg's tables
}

// targetOf reads the global flags and opens the root; the caller closes
// t.root.
func targetOf(c *cli.Context) (target, error) {
	t := target{
		rootArg: global(c, "root", (*cli.Context).String),
		config:  global(c, "config", (*cli.Context).String),
		json:    global(c, "json", (*cli.Context).Bool),
		resolve: global(c, "resolve", (*cli.Context).Bool),
	}
	if v := global(c, "openssh", (*cli.Context).String); v != "" {
		rel, err := sshcfg.ParseOpenSSH(v)
		if err != nil {
			return t, fmt.Errorf("--openssh: %v", err)
		}
		t.openssh = rel
	}
	var err error
	if t.rootArg == "" {
		abs, err := filepath.Abs(t.config)
		if err != nil {
			return t, err
		}
		t.config = abs
		t.root, err = rootfs.Live()
		return t, err
	}
	t.image = true
	if t.root, err = rootfs.Open(t.rootArg); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return t, fmt.Errorf("--root %s: %w", t.rootArg, err)
	}
	if !strings.HasPrefix(t.config, "/") {
		t.config = "/" + t.config
	}
	return t, nil
}

// load reads the configuration; an error is sshd's refusal or an
// unreadable file, reported with exit code 2.
func (t target) load() (*sshcfg.Config, error) { return t.loadArgs(nil) }

// loadArgs reads the configuration as sshd started with the command-line
// options args does.
func (t target) loadArgs(args []sshcfg.CmdArg) (*sshcfg.Config, error) {
	cfg, err := sshcfg.Load(t.root, t.config, &sshcfg.Options{Resolver: t.resolver(t.root), OpenSSH: t.openssh, Args: args})
	if err != nil {
		return cfg, &exitErr{code: exitError, err: refusal(cfg, err)}
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

func usageErr(format string, a ...any) error {
	return &exitErr{code: exitError, err: fmt.Errorf(format, a...)}
}
