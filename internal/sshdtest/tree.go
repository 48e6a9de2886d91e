package sshdtest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Tree is a configuration tree: files and symlinks by absolute path as sshd
// names them ("/etc/ssh/sshd_config").
type Tree struct {
	Files    map[string][]byte
	Symlinks map[string]string // path -> link target
}

// Paths returns every file and symlink path, sorted.
func (t Tree) Paths() []string {
	var ps []string
	for p := range t.Files {
		ps = append(ps, p)
	}
	for p := range t.Symlinks {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Write lays the tree out under dir (dir/etc/ssh/sshd_config, ...).
func (t Tree) Write(dir string) error {
	for _, p := range t.Paths() {
		host := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return err
		}
		if target, ok := t.Symlinks[p]; ok {
			if err := os.Symlink(target, host); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(host, t.Files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// String shows the tree for a failure message: each file with its lines
// numbered and quoted, so that CR, tabs and a missing final newline show.
func (t Tree) String() string {
	var b strings.Builder
	for _, p := range t.Paths() {
		if target, ok := t.Symlinks[p]; ok {
			fmt.Fprintf(&b, "== %s -> %s\n", p, target)
			continue
		}
		data := t.Files[p]
		fmt.Fprintf(&b, "== %s (%d bytes)\n", p, len(data))
		lines := strings.SplitAfter(string(data), "\n")
		for i, l := range lines {
			if l == "" && i == len(lines)-1 {
				break
			}
			fmt.Fprintf(&b, "%4d %s\n", i+1, strconv.Quote(l))
		}
	}
	return b.String()
}

// CommentOut returns a copy of t where the given "FILE:LINE" lines (in
// files or symlink targets inside the tree) start with '#'. It is used to
// neutralise lines sshd rejects as unknown keywords and ask again.
func (t Tree) CommentOut(positions []string) Tree {
	out := Tree{Files: map[string][]byte{}, Symlinks: map[string]string{}}
	for p, b := range t.Files {
		out.Files[p] = b
	}
	for p, l := range t.Symlinks {
		out.Symlinks[p] = l
	}
	for _, pos := range positions {
		i := strings.LastIndex(pos, ":")
		if i < 0 {
			continue
		}
		file, n := pos[:i], 0
		n, _ = strconv.Atoi(pos[i+1:])
		file = t.target(file)
		data, ok := out.Files[file]
		if !ok || n < 1 {
			continue
		}
		lines := strings.SplitAfter(string(data), "\n")
		if n > len(lines) || strings.HasPrefix(lines[n-1], "#") {
			continue
		}
		lines[n-1] = "#" + lines[n-1]
		out.Files[file] = []byte(strings.Join(lines, ""))
	}
	return out
}

// target follows the tree's symlinks from p.
func (t Tree) target(p string) string {
	for range 40 {
		l, ok := t.Symlinks[p]
		if !ok {
			return p
		}
		if !strings.HasPrefix(l, "/") {
			l = path.Join(path.Dir(p), l)
		}
		p = l
	}
	return p
}
