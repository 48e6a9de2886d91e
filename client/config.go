package client

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	sshconfig "github.com/kevinburke/ssh_config"

	"github.com/sshport/sshport/sshcfg"
)

// SystemConfig is ssh's system-wide client configuration.
const SystemConfig = "/etc/ssh/ssh_config"

// maxDepth is how deep ssh follows Include (readconf.c READCONF_MAX_DEPTH).
const maxDepth = 16

// keywordRE matches what can be an ssh_config keyword: every one is made
// of ASCII letters and digits. Anything else ssh refuses.
var keywordRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]+$`) })

// Options say where a configuration is read from.
type Options struct {
	// FS holds the files, rooted at "/": the file /home/u/.ssh/config
	// is named "home/u/.ssh/config" in it.
	FS fs.FS
	// Home is the home directory (absolute) of the user ssh runs as:
	// "~" in Include and in UserKnownHostsFile stands for it, and a
	// relative Include of a user configuration is read from Home/.ssh.
	Home string
	// System says the file is read as ssh reads /etc/ssh/ssh_config:
	// relative Includes below /etc/ssh, no "~". Otherwise it is read as
	// ~/.ssh/config (and any file given to ssh -F) is.
	System bool

	// overlay replaces files' contents (by absolute path) when reading:
	// a plan reads its own result back through it.
	overlay map[string][]byte
}

// File is one configuration file: its bytes, lines and blocks.
type File struct {
	Path   string // absolute
	Syntax *sshcfg.File

	// lib is the file as github.com/kevinburke/ssh_config reads it,
	// with Include lines blanked and Match lines turned into Host
	// lines (so that the library neither reads other files nor stops),
	// line numbers unchanged. Its Hosts[0] is the implicit block before
	// the first Host line; Hosts[i] is the block of blocks[i-1].
	lib    *sshconfig.Config
	blocks []*sshcfg.Line       // Host and Match lines, in order
	incs   map[int][]string     // Include line number -> files it reads (absolute)
	lines  map[int]*sshcfg.Line // by line number
	height int                  // longest chain of Includes below it
}

// Config is a configuration file and every file it includes.
type Config struct {
	Main    *File
	opts    Options
	files   map[string]*File
	loading map[string]bool // files being loaded (Include loop detection)
}

// Load reads the configuration file at path (absolute) and every file it
// includes. It fails, naming file and line, where ssh would refuse the
// file or where the ssh_config library and ssh's own line splitting read
// a line differently.
func Load(file string, o Options) (*Config, error) {
	if !path.IsAbs(file) {
		return nil, fmt.Errorf("%s: not an absolute path", file)
	}
	c := &Config{opts: o, files: map[string]*File{}, loading: map[string]bool{}}
	f, err := c.load(path.Clean(file), 0)
	if err != nil {
		return nil, err
	}
	c.Main = f
	return c, nil
}

func (c *Config) readFile(name string) ([]byte, error) {
	if b, ok := c.opts.overlay[name]; ok {
		return b, nil
	}
	return fs.ReadFile(c.opts.FS, strings.TrimPrefix(name, "/"))
}

func (c *Config) load(name string, depth int) (*File, error) {
	if depth > maxDepth || c.loading[name] {
		// A file that includes itself, directly or not, is read
		// again until ssh's depth limit stops it.
		return nil, fmt.Errorf("%s: too many recursive configuration includes", name)
	}
	if f, ok := c.files[name]; ok {
		if depth+f.height > maxDepth {
			return nil, fmt.Errorf("%s: too many recursive configuration includes", name)
		}
		return f, nil
	}
	c.loading[name] = true
	defer delete(c.loading, name)
	data, err := c.readFile(name)
	if err != nil {
		return nil, err
	}
	syn, err := sshcfg.Parse(name, data)
	if err != nil {
		return nil, err
	}
	f := &File{Path: name, Syntax: syn, incs: map[int][]string{}, lines: map[int]*sshcfg.Line{}}
	c.files[name] = f
	masked := make([]byte, 0, len(data))
	for _, l := range syn.Lines() {
		f.lines[l.Num] = l
		if !l.IsDirective() {
			masked = append(masked, l.Raw...)
			continue
		}
		if l.SyntaxErr != "" {
			return nil, fmt.Errorf("%s line %d: %s", name, l.Num, l.SyntaxErr)
		}
		if !keywordRE().MatchString(l.Keyword) {
			return nil, fmt.Errorf("%s: line %d: Bad configuration option: %s", name, l.Num, l.Keyword)
		}
		if len(l.Args) == 0 {
			return nil, fmt.Errorf("%s line %d: no argument after keyword %q", name, l.Num, l.Keyword)
		}
		switch strings.ToLower(l.Keyword) {
		case "include":
			masked = append(masked, "#"+l.EOL()...)
			var all []string
			for _, a := range l.Args {
				m, err := c.glob(name, l.Num, a.Text)
				if err != nil {
					return nil, err
				}
				all = append(all, m...)
			}
			f.incs[l.Num] = all
			continue
		case "match":
			f.blocks = append(f.blocks, l)
			masked = append(masked, "Host sshport-match"+l.EOL()...)
			continue
		case "host":
			f.blocks = append(f.blocks, l)
		}
		masked = append(masked, l.Raw...)
	}
	if f.lib, err = decode(masked); err != nil {
		return nil, fmt.Errorf("%s: the ssh_config library cannot read it: %v", name, err)
	}
	if err := f.agree(); err != nil {
		return nil, err
	}
	for _, l := range syn.Lines() {
		for _, inc := range f.incs[l.Num] {
			sub, err := c.load(inc, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%w (included from %s line %d)", err, name, l.Num)
			}
			f.height = max(f.height, sub.height+1)
		}
	}
	return f, nil
}

// decode runs the library's parser, turning any panic into an error: the
// file is hostile input.
func decode(data []byte) (cfg *sshconfig.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return sshconfig.DecodeBytes(data)
}

// agree checks that the library found the blocks and the key/value lines
// that ssh's line splitting finds, so that walking the library's blocks
// visits every line ssh reads, in ssh's order.
func (f *File) agree() error {
	if len(f.lib.Hosts) != len(f.blocks)+1 {
		return fmt.Errorf("%s: the ssh_config library reads %d Host/Match blocks, ssh %d; edit this file by hand", f.Path, len(f.lib.Hosts)-1, len(f.blocks))
	}
	seen := map[int]bool{}
	for _, h := range f.lib.Hosts {
		for _, n := range h.Nodes {
			kv, ok := n.(*sshconfig.KV)
			if !ok {
				continue
			}
			l := f.lines[kv.Pos().Line]
			if l == nil || !strings.EqualFold(l.Keyword, kv.Key) {
				return fmt.Errorf("%s line %d: the ssh_config library reads this line differently from ssh; edit this file by hand", f.Path, kv.Pos().Line)
			}
			seen[l.Num] = true
		}
	}
	for _, l := range f.Syntax.Lines() {
		switch strings.ToLower(l.Keyword) {
		case "", "host", "match", "include":
			continue
		}
		if !seen[l.Num] {
			return fmt.Errorf("%s line %d: the ssh_config library does not read this line; edit this file by hand", f.Path, l.Num)
		}
	}
	return nil
}

// glob returns the files an Include argument reads, as readconf.c finds
// them: relative names below ~/.ssh (or /etc/ssh for the system file), "~/"
// the home directory, matches in glob(3)'s sorted order.
func (c *Config) glob(file string, line int, arg string) ([]string, error) {
	if strings.HasPrefix(arg, "~") {
		if c.opts.System {
			return nil, fmt.Errorf("%s line %d: bad include path %s", file, line, arg)
		}
		if arg != "~" && !strings.HasPrefix(arg, "~/") {
			return nil, fmt.Errorf("%s line %d: Include %s: ~user is not supported by sshport", file, line, arg)
		}
	}
	p := c.includePath(arg)
	if p == "" {
		return nil, fmt.Errorf("%s line %d: Include %s: no home directory to read it from", file, line, arg)
	}
	m, err := fs.Glob(c.opts.FS, strings.TrimPrefix(path.Clean(p), "/"))
	if err != nil {
		return nil, fmt.Errorf("%s line %d: Include %s: %v", file, line, arg, err)
	}
	var out []string
	for _, s := range m {
		fi, err := fs.Stat(c.opts.FS, s)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if fi.IsDir() {
			continue
		}
		out = append(out, "/"+s)
	}
	return out, nil
}

// includePath returns the absolute pattern an Include argument stands
// for, or "" when it needs a home directory there is none of.
func (c *Config) includePath(arg string) string {
	p := arg
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		p = path.Join(c.opts.Home, strings.TrimPrefix(p, "~"))
	case !path.IsAbs(p) && c.opts.System:
		p = path.Join("/etc/ssh", p)
	case !path.IsAbs(p):
		p = path.Join(c.opts.Home, ".ssh", p)
	}
	if !path.IsAbs(p) {
		return ""
	}
	return path.Clean(p)
}

// Act says whether ssh reads a line for the alias.
type Act int

const (
	No    Act = iota // the line's block does not apply
	Yes              // it applies
	Maybe            // it is inside a Match block, which sshport does not evaluate
)

// Ref is one line of one file.
type Ref struct {
	File string // absolute path
	Line int    // 1-based
}

func (r Ref) String() string { return fmt.Sprintf("%s line %d", r.File, r.Line) }

// Setting is a directive line as ssh reads it for one alias.
type Setting struct {
	Ref
	Syntax *sshcfg.Line
	Act    Act
	// Block is the Host or Match line the setting is under, in its own
	// file; nil when it comes before any (the file's implicit "Host *").
	Block *sshcfg.Line
	// Via is the chain of Include lines, from the main file down, that
	// leads to the file (empty for the main file).
	Via []Ref
	// MatchBlock is the Match line that makes Act Maybe.
	MatchBlock *Ref
}

// Keyword returns the setting's keyword in lower case.
func (s *Setting) Keyword() string { return strings.ToLower(s.Syntax.Keyword) }

// Value returns the first argument.
func (s *Setting) Value() string { return s.Syntax.Args[0].Text }

// Walk calls fn with every directive line, Host, Match and Include lines
// included, in the order ssh reads them for alias, until fn returns false.
func (c *Config) Walk(alias string, fn func(*Setting) bool) {
	c.walk(c.Main, alias, Yes, nil, nil, fn)
}

// walk reads f with inc the activity of the Include line that led to it
// (Yes for the main file): a file included from a block that does not
// apply never applies (readconf.c SSHCONF_NEVERMATCH); one included from a
// Match block may.
func (c *Config) walk(f *File, alias string, inc Act, incMatch *Ref, via []Ref, fn func(*Setting) bool) bool {
	act, match := inc, incMatch
	var block *sshcfg.Line
	for i, h := range f.lib.Hosts {
		if i > 0 {
			block = f.blocks[i-1]
			s := &Setting{Ref: Ref{f.Path, block.Num}, Syntax: block, Via: via}
			if strings.EqualFold(block.Keyword, "match") {
				switch {
				case inc == No:
					act = No
				case len(block.Args) == 1 && strings.EqualFold(block.Args[0].Text, "all") && inc == Yes:
					act, match = Yes, nil
				default:
					act, match = Maybe, &Ref{f.Path, block.Num}
				}
			} else {
				var pats []string
				for _, a := range block.Args {
					pats = append(pats, a.Text)
				}
				act, match = No, nil
				if hostLineMatches(pats, alias) {
					act, match = inc, incMatch
				}
			}
			s.Act, s.MatchBlock = act, match
			if !fn(s) {
				return false
			}
		}
		for _, n := range h.Nodes {
			num := n.Pos().Line
			l := f.lines[num]
			if l == nil || !l.IsDirective() {
				continue
			}
			s := &Setting{Ref: Ref{f.Path, num}, Syntax: l, Act: act, Block: block, Via: via, MatchBlock: match}
			if !fn(s) {
				return false
			}
			files, ok := f.incs[num]
			if !ok {
				continue
			}
			sub := append(append([]Ref(nil), via...), Ref{f.Path, num})
			for _, name := range files {
				if !c.walk(c.files[name], alias, act, match, sub, fn) {
					return false
				}
			}
		}
	}
	return true
}

// Lookup returns the line that gives keyword (lower case) its value for
// alias: the first one ssh reads in a block that applies. A line inside a
// Match block that comes first is returned instead, with Act Maybe: sshport
// cannot tell whether it applies. Nil means no line sets it.
func (c *Config) Lookup(alias, keyword string) *Setting {
	var found *Setting
	c.Walk(alias, func(s *Setting) bool {
		if s.Act == No || s.Keyword() != keyword {
			return true
		}
		found = s
		return false
	})
	return found
}

// Matches returns the Match lines, other than a plain "Match all", that
// ssh may evaluate for alias, in order.
func (c *Config) Matches(alias string) []Ref {
	var out []Ref
	c.Walk(alias, func(s *Setting) bool {
		if s.Act == Maybe && s.Keyword() == "match" {
			out = append(out, s.Ref)
		}
		return true
	})
	return out
}

// Files returns the paths of every file read, the main file first.
func (c *Config) Files() []string {
	out := []string{c.Main.Path}
	for p := range c.files {
		if p != c.Main.Path {
			out = append(out, p)
		}
	}
	slices.Sort(out[1:])
	return out
}

// IncludePatterns returns the Include patterns of every file read, as
// absolute glob patterns: files a backup must not be named like.
func (c *Config) IncludePatterns() []string {
	var out []string
	for _, name := range c.Files() {
		f := c.files[name]
		for _, l := range f.Syntax.Lines() {
			if !strings.EqualFold(l.Keyword, "include") {
				continue
			}
			for _, a := range l.Args {
				if p := c.includePath(a.Text); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}
