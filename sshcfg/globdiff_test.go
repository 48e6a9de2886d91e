package sshcfg_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/sshdtest"
)

var globN = flag.Int("globn", 40, "TestGlobAgainstSSHD: number of random patterns")

// globNames are the files of the directory TestGlobAgainstSSHD globs in:
// names with the characters glob treats specially.
var globNames = []string{"a", "b", "ab", "a.conf", ".a", "[a", "[a]", "]", "^", "!", "-", "a-b", "*", "?", "\\", ":", "x1", "X", "[", "[]"}

// TestGlobAgainstSSHD writes random Include patterns built from glob's
// special characters and requires sshcfg to include the same files as the
// real `sshd -T` (each file holds its own Port).
func TestGlobAgainstSSHD(t *testing.T) {
	sshdtest.Require(t)
	rng := rand.New(rand.NewPCG(7, 11))
	parts := []string{"a", "b", ".", "[", "]", "!", "^", "-", "*", "?", "\\", ":", "[:alpha:]", "[:digit:]", "[:nosuch:]", "x", "1", "/", "conf"}
	tree := sshdtest.Tree{Files: map[string][]byte{}, Symlinks: map[string]string{}}
	port := map[int]string{}
	for i, n := range globNames {
		tree.Files["/etc/ssh/g/"+n] = []byte(fmt.Sprintf("Port %d\n", 2000+i))
		port[2000+i] = n
	}
	tree.Files["/etc/ssh/g/sub/a"] = []byte("Port 3000\n")
	port[3000] = "sub/a"
	for i := range *globN {
		var b strings.Builder
		for range 1 + rng.IntN(5) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		pat := b.String()
		if strings.ContainsAny(pat, " \t\"'#") {
			continue
		}
		tree.Files[sshdtest.MainConfig] = []byte("Include /etc/ssh/g/" + pat + "\n")
		dir := filepath.Join(t.TempDir(), "root")
		if err := tree.Write(dir); err != nil {
			t.Fatal(err)
		}
		want := sshdtest.Run(t, dir, sshdtest.MainConfig)
		cfg, err := loadTree(dir)
		var got []int
		if err == nil {
			for _, p := range cfg.Ports {
				got = append(got, p.Port)
			}
		}
		if want.Refused() != (err != nil) || !slices.Equal(got, want.Ports) {
			t.Errorf("pattern %d %q: sshd ports %v (exit %d %s), sshcfg %v (%v)", i, pat, want.Ports, want.Exit, strings.TrimSpace(want.Err), got, err)
		}
	}
}
