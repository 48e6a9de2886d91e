package checker

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzReadService feeds arbitrary unit, drop-in and EnvironmentFile bytes
// to the reader: it must not panic, and every line it names must exist in
// the file it names.
func FuzzReadService(f *testing.F) {
	f.Add(debianService, "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p 2200 $SSHD_OPTS\n", "SSHD_OPTS=\"-o Port=1\"\n")
	f.Add("[Service]\nExecStart=/usr/sbin/sshd \\\n -Dp1\n", "[Socket]\nListenStream=\n", "SSHD_OPTS='-f x' # c\n")
	f.Add("", "", "")
	f.Add("[Service]\nEnvironment=\"A=${A}\"\nExecStart=sshd ${A}${A} $A \"$A\"\n", "\\\n\\", "A=\\\n")
	f.Fuzz(func(t *testing.T, svc, dropIn, env string) {
		files := fstest.MapFS{
			"usr/lib/systemd/system/ssh.service":        file(svc),
			"etc/systemd/system/ssh.service.d/x.conf":   file(dropIn),
			"usr/lib/systemd/system/ssh.socket":         file(dropIn),
			"etc/default/ssh":                           file(env),
			"etc/systemd/system/sockets.target.wants/x": file(""),
		}
		s := ReadService(files)
		lines := func(name string) int {
			mf, ok := files[strings.TrimPrefix(name, "/")]
			if !ok {
				t.Fatalf("names a file that does not exist: %q", name)
			}
			return strings.Count(string(mf.Data), "\n") + 1
		}
		for _, a := range s.Args {
			if a.Line < 0 || a.File != "" && a.Line > lines(a.File) {
				t.Errorf("arg %+v: line outside its file", a)
			}
		}
		for _, l := range s.SocketListen {
			if l.Line > lines(l.File) {
				t.Errorf("listen %+v: line outside its file", l)
			}
		}
	})
}
