package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sshport/sshport/checker"
)

// TestReadmeUsage keeps README's usage blocks in step with --help.
func TestReadmeUsage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--help"}, {"check", "--help"}, {"suggest", "--help"}, {"verify", "--help"}, {"client", "--help"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"sshport"}, args...), &out, &errb, checker.Static{}); code != 0 {
			t.Fatalf("sshport %v: exit %d: %s", args, code, errb.String())
		}
		help := strings.TrimRight(out.String(), "\n")
		if !bytes.Contains(readme, []byte("```text\n"+help+"\n```")) {
			t.Errorf("README.md lacks the current output of `sshport %s`:\n%s", strings.Join(args, " "), help)
		}
	}
}
