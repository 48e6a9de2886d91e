package hostenv

import (
	"reflect"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/checker"
)

func TestSystemdFromService(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/systemd/system/ssh.service.d/port.conf": {Data: []byte("[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -p 2200 -f /etc/ssh/alt_config\n")},
	}
	base := Systemd{Present: true, Service: "ssh.service", Socket: "ssh.socket", SocketEnabled: true, Generator: true, ExecPorts: []int{}, KillModeProcess: true}
	tests := []struct {
		name string
		svc  *checker.ServiceFacts
		want Systemd
	}{
		{name: "nil keeps Detect's", svc: nil, want: base},
		{name: "no systemd unit keeps Detect's", svc: &checker.ServiceFacts{Manager: "rc.conf"}, want: base},
		{name: "check's reading wins", svc: &checker.ServiceFacts{
			Manager: "systemd", Service: "ssh.service", Socket: "ssh.socket", KillMode: "process",
			SocketEnabled: true, SocketMasked: true, SocketActive: false, // masked: sshd binds
			ConfigFile: "/etc/ssh/alt_config",
			Args: []checker.SSHDArg{
				{Flag: "p", Value: "2200", File: "/etc/systemd/system/ssh.service.d/port.conf", Line: 3},
				{Flag: "f", Value: "/etc/ssh/alt_config", File: "/etc/systemd/system/ssh.service.d/port.conf", Line: 3},
			},
		}, want: Systemd{Present: true, Service: "ssh.service", Socket: "ssh.socket", SocketEnabled: false, Generator: false,
			ExecPorts: []int{2200}, ExecConfig: "/etc/ssh/alt_config", KillModeProcess: true,
			ExecPortAt: Location{File: "/etc/systemd/system/ssh.service.d/port.conf", Line: 3, Text: "ExecStart=/usr/sbin/sshd -D -p 2200 -f /etc/ssh/alt_config"}}},
		{name: "generator followed", svc: &checker.ServiceFacts{Manager: "systemd", Service: "ssh.service", Socket: "ssh.socket", KillMode: "process",
			SocketEnabled: true, SocketActive: true, Generator: true, SocketFollowsConfig: true},
			want: Systemd{Present: true, Service: "ssh.service", Socket: "ssh.socket", SocketEnabled: true, Generator: true, ExecPorts: []int{}, KillModeProcess: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := base.withService(fsys, tc.svc)
			if !slices.Equal(got.ExecPorts, tc.want.ExecPorts) {
				t.Errorf("ExecPorts = %v, want %v", got.ExecPorts, tc.want.ExecPorts)
			}
			got.ExecPorts, tc.want.ExecPorts = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
