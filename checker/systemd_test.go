package checker

import (
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
)

func link(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }

const debianService = `[Unit]
Description=OpenBSD Secure Shell server

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStartPre=/usr/sbin/sshd -t
ExecStart=/usr/sbin/sshd -D $SSHD_OPTS
ExecReload=/bin/kill -HUP $MAINPID

[Install]
WantedBy=multi-user.target
Alias=sshd.service
`

const socket22 = `[Socket]
ListenStream=22
Accept=no

[Install]
WantedBy=sockets.target
`

func TestReadService(t *testing.T) {
	type want struct {
		manager, service, serviceFile, socket string
		serviceEnabled, socketEnabled         bool
		serviceMasked, socketMasked           bool
		socketActive, follows, generator      bool
		args                                  []SSHDArg
		listen                                []string
		dropIns                               []string
		notes                                 int
	}
	cases := []struct {
		name  string
		files fstest.MapFS
		want  want
	}{
		{"nothing", fstest.MapFS{"etc/ssh/sshd_config": file("Port 22\n")}, want{}},
		{"debian enabled service, disabled socket", fstest.MapFS{
			"lib/systemd/system/ssh.service":                         file(debianService),
			"lib/systemd/system/ssh.socket":                          file(socket22),
			"etc/systemd/system/multi-user.target.wants/ssh.service": link("/lib/systemd/system/ssh.service"),
			"etc/systemd/system/sshd.service":                        link("/lib/systemd/system/ssh.service"),
			"etc/default/ssh":                                        file("# comment\nSSHD_OPTS=\n"),
		}, want{manager: "systemd", service: "ssh.service", serviceFile: "/lib/systemd/system/ssh.service", socket: "ssh.socket",
			serviceEnabled: true, listen: []string{"22"}}},
		{"SSHD_OPTS expands into words, traced to the env file", fstest.MapFS{
			"lib/systemd/system/ssh.service": file(debianService),
			"etc/default/ssh":                file("# comment\nSSHD_OPTS=\"-p 2200 -o Port=2201 -f/etc/ssh/alt\"\n"),
		}, want{manager: "systemd", service: "ssh.service", serviceFile: "/lib/systemd/system/ssh.service",
			args: []SSHDArg{{"p", "2200", "/etc/default/ssh", 2, "$SSHD_OPTS"}, {"o", "Port=2201", "/etc/default/ssh", 2, "$SSHD_OPTS"}, {"f", "/etc/ssh/alt", "/etc/default/ssh", 2, "$SSHD_OPTS"}}}},
		{"drop-in resets ExecStart; grouped -Dp; /etc wins over /usr/lib", fstest.MapFS{
			"usr/lib/systemd/system/ssh.service":      file("[Service]\nExecStart=/usr/sbin/sshd -D -p 1\n"),
			"lib/systemd/system/ssh.service":          file("[Service]\nExecStart=/usr/sbin/sshd -D -p 2\n"),
			"etc/systemd/system/ssh.service.d/a.conf": file("[Service]\nExecStart=\n# comment\nExecStart=/usr/sbin/sshd \\\n  -Dp2222\n"),
			"run/systemd/system/ssh.service.d/a.conf": file("[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -p 9\n"),
		}, want{manager: "systemd", service: "ssh.service", serviceFile: "/usr/lib/systemd/system/ssh.service",
			dropIns: []string{"/etc/systemd/system/ssh.service.d/a.conf"},
			args:    []SSHDArg{{"p", "2222", "/etc/systemd/system/ssh.service.d/a.conf", 4, ""}}}},
		{"masked service", fstest.MapFS{
			"lib/systemd/system/ssh.service": file(debianService),
			"etc/systemd/system/ssh.service": link("/dev/null"),
		}, want{manager: "systemd", service: "ssh.service", serviceFile: "/etc/systemd/system/ssh.service", serviceMasked: true}},
		{"empty unit file is masked", fstest.MapFS{
			"usr/lib/systemd/system/sshd.service": file(debianService),
			"etc/systemd/system/sshd.service":     file(""),
		}, want{manager: "systemd", service: "sshd.service", serviceFile: "/etc/systemd/system/sshd.service", serviceMasked: true}},
		{"ubuntu socket: enabled, generator output, drop-in wins by name", fstest.MapFS{
			"usr/lib/systemd/system/ssh.service":                      file(debianService),
			"usr/lib/systemd/system/ssh.socket":                       file("[Socket]\nListenStream=0.0.0.0:22\nListenStream=[::]:22\nBindIPv6Only=ipv6-only\n[Install]\nWantedBy=sockets.target\n"),
			"etc/systemd/system/sockets.target.wants/ssh.socket":      link("/usr/lib/systemd/system/ssh.socket"),
			"usr/lib/systemd/system-generators/sshd-socket-generator": file("ELF"),
			"run/systemd/generator/ssh.socket.d/addresses.conf":       file("[Socket]\nListenStream=\nListenStream=0.0.0.0:2222\nListenStream=[::]:2222\n"),
		}, want{manager: "systemd", service: "ssh.service", serviceFile: "/usr/lib/systemd/system/ssh.service", socket: "ssh.socket",
			socketEnabled: true, socketActive: true, follows: true, generator: true,
			listen:  []string{"0.0.0.0:2222", "[::]:2222"},
			dropIns: []string{"/run/systemd/generator/ssh.socket.d/addresses.conf"}}},
		{"admin drop-in after the generator's: not following", fstest.MapFS{
			"usr/lib/systemd/system/ssh.socket":                       file("[Socket]\nListenStream=0.0.0.0:22\n[Install]\nWantedBy=sockets.target\n"),
			"etc/systemd/system/sockets.target.wants/ssh.socket":      link("/usr/lib/systemd/system/ssh.socket"),
			"usr/lib/systemd/system-generators/sshd-socket-generator": file("ELF"),
			"run/systemd/generator/ssh.socket.d/addresses.conf":       file("[Socket]\nListenStream=\nListenStream=0.0.0.0:2222\n"),
			"etc/systemd/system/ssh.socket.d/zz-port.conf":            file("[Socket]\nListenStream=\nListenStream=4444\n"),
		}, want{manager: "systemd", socket: "ssh.socket", socketEnabled: true, socketActive: true, generator: true,
			listen:  []string{"4444"},
			dropIns: []string{"/run/systemd/generator/ssh.socket.d/addresses.conf", "/etc/systemd/system/ssh.socket.d/zz-port.conf"}}},
		{"same drop-in name in /etc hides the generator's", fstest.MapFS{
			"usr/lib/systemd/system/ssh.socket":                       file("[Socket]\nListenStream=22\n"),
			"usr/lib/systemd/system-generators/sshd-socket-generator": file("ELF"),
			"run/systemd/generator/ssh.socket.d/addresses.conf":       file("[Socket]\nListenStream=\nListenStream=2222\n"),
			"etc/systemd/system/ssh.socket.d/addresses.conf":          file("[Socket]\nListenStream=\nListenStream=3333\n"),
			"etc/systemd/system-generators/sshd-socket-generator":     link("/dev/null"),
		}, want{manager: "systemd", socket: "ssh.socket", listen: []string{"3333"},
			dropIns: []string{"/etc/systemd/system/ssh.socket.d/addresses.conf"}}},
		{"masked socket and masked drop-in", fstest.MapFS{
			"usr/lib/systemd/system/ssh.socket":                  file(socket22),
			"etc/systemd/system/ssh.socket":                      link("/dev/null"),
			"etc/systemd/system/sockets.target.wants/ssh.socket": link("/usr/lib/systemd/system/ssh.socket"),
		}, want{manager: "systemd", socket: "ssh.socket", socketMasked: true}},
		{"fedora sshd.service with a missing mandatory EnvironmentFile", fstest.MapFS{
			"usr/lib/systemd/system/sshd.service": file("[Service]\nEnvironmentFile=/etc/sysconfig/sshd\nExecStart=/usr/sbin/sshd -D $OPTIONS ${EXTRA}\n"),
		}, want{manager: "systemd", service: "sshd.service", serviceFile: "/usr/lib/systemd/system/sshd.service", notes: 1}},
		{"Environment= and ${VAR} inside a word", fstest.MapFS{
			"usr/lib/systemd/system/sshd.service": file("[Service]\nEnvironment=\"PORT=2022\" X=1\nExecStart=/usr/sbin/sshd -D -oPort=${PORT}\n"),
		}, want{manager: "systemd", service: "sshd.service", serviceFile: "/usr/lib/systemd/system/sshd.service",
			args: []SSHDArg{{"o", "Port=2022", "/usr/lib/systemd/system/sshd.service", 2, "${PORT}"}}}},
		{"freebsd rc.conf, rc.conf.local wins", fstest.MapFS{
			"etc/rc.conf":       file("sshd_enable=\"YES\"\nsshd_flags=\"-p 2022\" # moved\n"),
			"etc/rc.conf.local": file("sshd_flags='-o Port=2023'\n"),
		}, want{manager: "rc.conf", service: "sshd", serviceFile: "/etc/rc.conf", serviceEnabled: true,
			args: []SSHDArg{{"o", "Port=2023", "/etc/rc.conf.local", 1, "sshd_flags"}}}},
		{"openbsd sshd_flags=NO", fstest.MapFS{
			"etc/rc.conf.local": file("sshd_flags=NO\n"),
		}, want{manager: "rc.conf", service: "sshd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ReadService(c.files)
			w := c.want
			if w.args == nil {
				w.args = []SSHDArg{}
			}
			var listen []string
			for _, l := range s.SocketListen {
				listen = append(listen, l.Value)
			}
			dropIns := append(slices.Clone(s.ServiceDropIns), s.SocketDropIns...)
			got := want{s.Manager, s.Service, s.ServiceFile, s.Socket, s.ServiceEnabled, s.SocketEnabled, s.ServiceMasked, s.SocketMasked,
				s.SocketActive, s.SocketFollowsConfig, s.Generator, s.Args, listen, nil, len(s.Notes)}
			if len(dropIns) > 0 {
				got.dropIns = dropIns
			}
			if !equalWant(got, w) {
				t.Errorf("got  %+v\nwant %+v\nnotes %q", got, w, s.Notes)
			}
		})
	}
}

func equalWant[T any](a, b T) bool {
	return fmtAny(a) == fmtAny(b)
}

func TestListenEndpoints(t *testing.T) {
	cases := []struct {
		v, bind string
		want    []string
	}{
		{"22", "", []string{"[::]:22", "0.0.0.0:22"}},
		{"22", "ipv6-only", []string{"[::]:22"}},
		{"0.0.0.0:2222", "", []string{"0.0.0.0:2222"}},
		{"[::1]:2222", "", []string{"[::1]:2222"}},
		{"[::]:2222", "", []string{"[::]:2222", "0.0.0.0:2222"}},
		{"[::]:2222", "ipv6-only", []string{"[::]:2222"}},
		{"[fe80::1]:2222%eth0", "", []string{"[fe80::1]:2222"}},
		{"/run/ssh.sock", "", nil},
		{"vsock::22", "", nil},
		{"0", "", nil},
	}
	for _, c := range cases {
		var got []string
		for _, ep := range listenEndpoints(c.v, c.bind) {
			got = append(got, ep.String())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("listenEndpoints(%q, %q) = %q, want %q", c.v, c.bind, got, c.want)
		}
	}
}

func TestParseSSHDArgs(t *testing.T) {
	cases := []struct {
		argv []string
		want []string
	}{
		{[]string{"/usr/sbin/sshd", "-D"}, nil},
		{[]string{"sshd", "-D", "-p", "2222", "-f", "/etc/ssh/x"}, []string{"-p 2222", "-f /etc/ssh/x"}},
		{[]string{"sshd", "-Dp2222", "-oPort=1", "-o", "ListenAddress 1.2.3.4"}, []string{"-p 2222", "-o Port=1", "-o ListenAddress 1.2.3.4"}},
		{[]string{"sshd", "-h", "-p", "-p", "7"}, []string{"-p 7"}}, // -h takes "-p" as its argument
		{[]string{"sshd", "-e", "--", "-p", "7"}, nil},
		{[]string{"sshd", "-p"}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, a := range ParseSSHDArgs(c.argv) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ParseSSHDArgs(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}

func TestEnvValue(t *testing.T) {
	for in, want := range map[string]string{
		`"-p 2200"`:         "-p 2200",
		`'-o Port=1' # x`:   "-o Port=1",
		`-p 2200 # comment`: "-p 2200",
		`a#b`:               "a#b",
		`"a \"q\" b"`:       `a "q" b`,
		``:                  "",
	} {
		if got := envValue(in); got != want {
			t.Errorf("envValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }
