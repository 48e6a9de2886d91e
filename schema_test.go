package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sshport/sshport/checker"
)

// jsonSchemas names the schema of each command's --json output (shipped
// in schema/). A new command that prints JSON gets its schema here, and
// TestSchemaEveryCommand fails until it does.
var jsonSchemas = map[string]string{
	"check":   "schema/check.schema.json",
	"suggest": "schema/suggest.schema.json",
	"client":  "schema/client.schema.json",
	"verify":  "schema/verify.schema.json",
}

// noJSON lists the commands that never print JSON.
var noJSON = map[string]bool{"completion": true}

const errorSchema = "schema/error.schema.json"

func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for name, path := range mapsWith(jsonSchemas, "error", errorSchema) {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(abs)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[name] = s
	}
	return out
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// validate checks one output: a JSON report against the command's schema
// (exit 0 or 1), or an error object (exit 2; or nothing on stdout).
func validate(t *testing.T, schemas map[string]*jsonschema.Schema, cmd string, args []string, code int, stdout []byte) {
	t.Helper()
	name := cmd
	if code == exitError {
		if len(bytes.TrimSpace(stdout)) == 0 {
			return
		}
		name = "error"
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(stdout))
	if err != nil {
		t.Errorf("sshport %s: exit %d: stdout is not JSON: %v\n%s", strings.Join(args, " "), code, err, stdout)
		return
	}
	if err := schemas[name].Validate(v); err != nil {
		t.Errorf("sshport %s: exit %d: output does not follow %s:\n%v\n%s", strings.Join(args, " "), code, mapsWith(jsonSchemas, "error", errorSchema)[name], err, stdout)
	}
}

func hasCommand(name string) bool {
	for _, c := range newApp(&env{prober: checker.Static{}}).Commands {
		if c.Name == name {
			return true
		}
	}
	return false
}

func TestSchemaEveryCommand(t *testing.T) {
	for _, c := range newApp(&env{prober: checker.Static{}}).Commands {
		if _, ok := jsonSchemas[c.Name]; !ok && !noJSON[c.Name] {
			t.Errorf("command %s has no JSON schema: add schema/%s.schema.json and list it in jsonSchemas (or in noJSON)", c.Name, c.Name)
		}
	}
}

// TestSchemaRealOutputs runs check and suggest with --json over every
// corpus tree (as an image, with this system's real prober), over a live
// configuration and with --apply, and validates each output.
func TestSchemaRealOutputs(t *testing.T) {
	schemas := compileSchemas(t)
	trees, err := filepath.Glob("testdata/corpus/*/root")
	if err != nil || len(trees) == 0 {
		t.Fatalf("no corpus trees: %v", err)
	}
	runJSON := func(args ...string) (int, []byte) {
		var out, errb bytes.Buffer
		full := append([]string{"sshport"}, args...)
		code := run(context.Background(), full, &out, &errb, checker.System{})
		validate(t, schemas, args[0], args, code, out.Bytes())
		return code, out.Bytes()
	}
	counts := map[string]int{}
	for _, root := range trees {
		for _, args := range [][]string{
			{"check", "--json", "--root", root},
			{"check", "--json", "--root", root, "--port", "20022"},
			{"suggest", "--json", "--root", root},
			{"suggest", "--json", "--root", root, "--keep-old"},
		} {
			code, _ := runJSON(args...)
			counts[args[0]+map[bool]string{true: " error", false: ""}[code == exitError]]++
		}
	}
	// The live system: a configuration file outside any image, probed for real.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte("Port 22\nPort 2222\nListenAddress 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runJSON("check", "--json", "--config", cfg)
	runJSON("suggest", "--json", "--config", cfg)
	// --apply into an image (validation needs --validate: not asked).
	img := filepath.Join(t.TempDir(), "img")
	if err := os.MkdirAll(filepath.Join(img, "etc/ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(img, "etc/ssh/sshd_config"), []byte("Port 22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runJSON("suggest", "--json", "--root", img, "--apply", "--keep-old")
	var rep struct {
		Applied bool     `json:"applied"`
		Backups []string `json:"backups"`
	}
	if err := json.Unmarshal(out, &rep); code != 0 || err != nil || !rep.Applied || len(rep.Backups) == 0 {
		t.Errorf("suggest --apply: exit %d, %v, %s; want an applied change with a backup", code, err, out)
	}
	// Errors: a refused configuration, a bad flag value.
	bad := filepath.Join(dir, "bad_config")
	if err := os.WriteFile(bad, []byte("Port 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "--json", "--config", bad}, {"suggest", "--json", "--range", "9-1"}} {
		if code, _ := runJSON(args...); code != exitError {
			t.Errorf("sshport %v: exit %d, want 2", args, code)
		}
	}
	// client: an edit, nothing to do, a new block, known_hosts copied,
	// --apply; a usage error.
	kh := filepath.Join(dir, "known_hosts")
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	if err := os.WriteFile(kh, []byte("web1 "+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ccfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(ccfg, []byte("Host web1\n  User deploy\n\nHost *\n  Port 2222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"client", "--json", "--host", "web1", "--port", "20022", "--file", ccfg},
		{"client", "--json", "--host", "web1", "--port", "2222", "--file", ccfg},
		{"client", "--json", "--host", "db1", "--port", "20022", "--file", ccfg},
		{"client", "--json", "--host", "web1", "--port", "20022", "--file", ccfg, "--known-hosts", kh, "--old-port", "22"},
		{"client", "--json", "--host", "web1", "--port", "0", "--file", ccfg},
	} {
		code, _ := runJSON(args...)
		counts[args[0]+map[bool]string{true: " error", false: ""}[code == exitError]]++
	}
	if code, out := runJSON("client", "--json", "--host", "web1", "--port", "20022", "--file", ccfg, "--known-hosts", kh, "--old-port", "22", "--apply"); code != 0 || !bytes.Contains(out, []byte(`"fingerprint": "SHA256:`)) {
		t.Errorf("client --apply --known-hosts: exit %d, %s; want an applied change with a key copied", code, out)
	}
	// verify (where the build has it): a fake SSH server on loopback and a
	// closed port.
	if hasCommand("verify") {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 test\r\n"))
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
		gone, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := strconv.Itoa(gone.Addr().(*net.TCPAddr).Port)
		gone.Close()
		open := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		for _, args := range [][]string{
			{"verify", "--json", "--host", "127.0.0.1", "--port", open, "--closed", closed},
			{"verify", "--json", "--host", "127.0.0.1", "--port", closed},
		} {
			code, _ := runJSON(args...)
			counts[args[0]+map[bool]string{true: " error", false: ""}[code == exitError]]++
		}
	}
	if counts["check"] < 20 || counts["suggest"] < 20 {
		t.Errorf("too few reports validated: %v", counts)
	}
	t.Logf("validated: %v", counts)
}

// TestSchemaRejects: the schemas are not vacuous.
func TestSchemaRejects(t *testing.T) {
	schemas := compileSchemas(t)
	for _, tt := range []struct{ schema, doc string }{
		{"check", `{}`},
		{"check", `{"config":"/etc/ssh/sshd_config","missing":false,"files":null,"ports":[],"address_family":"any","listen":[],"findings":[],"warnings":[],"host":{"os":"linux","ephemeral_range":"32768-60999","ephemeral_source":"x","reserved_ports":[],"listen_method":"netlink","notes":[]},"ok":true}`},
		{"check", `{"config":"/etc/ssh/sshd_config","missing":false,"files":[],"ports":[{"port":70000}],"address_family":"any","listen":[],"findings":[],"warnings":[],"host":{"os":"linux","ephemeral_range":"32768-60999","ephemeral_source":"x","reserved_ports":[],"listen_method":"netlink","notes":[]},"ok":true}`},
		{"suggest", `{"port":20022}`},
		{"error", `{"ok":true,"error":{"message":"x"},"exit_code":2}`},
		{"error", `{"ok":false,"error":{"message":""},"exit_code":2}`},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		if schemas[tt.schema].Validate(v) == nil {
			t.Errorf("%s schema accepts %s", tt.schema, tt.doc)
		}
	}
}
