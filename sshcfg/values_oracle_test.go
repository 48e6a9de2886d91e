package sshcfg

import (
	"strings"
	"testing"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
)

// TestValueEdgesAgainstSSHD gives sshd and sshcfg (for 9.2) one edge of
// the value checks at a time: sshd must refuse exactly where sshcfg does.
func TestValueEdgesAgainstSSHD(t *testing.T) {
	sshdtest.Require(t)
	lines := []string{
		"MaxStartups 10:30:60x", "MaxStartups 10x", "MaxStartups  ", "MaxStartups 10:30", "MaxStartups -1:30:60", "MaxStartups 5:100:10",
		"PerSourceNetBlockSize 32:", "PerSourceNetBlockSize :64", "PerSourceNetBlockSize 33:64",
		"RekeyLimit 1.5G", "RekeyLimit 15", "RekeyLimit -16", "RekeyLimit 1G 0", "RekeyLimit 1G x", "RekeyLimit 1K!", "RekeyLimit 1B",
		"LoginGraceTime 1h1", "LoginGraceTime 0x10", "LoginGraceTime +5", "LoginGraceTime 5 6", "LoginGraceTime 1w1d1h1m1s",
		"IPQoS 0x", "IPQoS 010", "IPQoS 08", "IPQoS -0", "IPQoS AF21",
		"StreamLocalBindMask 0o77", "StreamLocalBindMask 0x", "StreamLocalBindMask x7", "StreamLocalBindMask 7777", "StreamLocalBindMask +17", "StreamLocalBindMask 0177 x",
		"MaxAuthTries 00", "MaxAuthTries -0", "MaxAuthTries ' 5'", "MaxAuthTries 5\\ ",
		"AllowUsers a@b@c", "AllowUsers u@1.2.3.4/33", "AllowUsers u@1.2.3.4/129", "AllowUsers u@::1/129", "AllowUsers u@10.0.0.0/+8", "AllowUsers u@::1/128", "AllowUsers u@fe80::1/10", "AllowUsers u@,x", "AllowUsers u@!",
		"PermitOpen *:80", "PermitOpen host:*", "PermitOpen [::1]", "PermitOpen :80", "PermitListen *:0", "PermitListen host:ssh",
		"PermitOpen any host:80", "PermitOpen host:80 any",
		"AuthenticationMethods publickey,", "AuthenticationMethods ,publickey", "AuthenticationMethods none", "AuthenticationMethods password:x",
		"Ciphers -", "Ciphers +", "Ciphers ^", "Ciphers ,aes128-ctr", "MACs hmac-sha1,HMAC-SHA1",
		"KexAlgorithms -nonsense", "HostKeyAlgorithms -", "HostKeyAlgorithms ?sh-rsa", "HostKeyAlgorithms rsa", "HostKeyAlgorithms ssh-rsa-cert-v01@openssh.com,",
		"PubkeyAcceptedAlgorithms ECDSA-SK", "PubkeyAcceptedAlgorithms RSA-CERT", "CASignatureAlgorithms !*",
		"PubkeyAuthOptions NONE", "PubkeyAuthOptions", "LogVerbose ''", "ChannelTimeout none none",
		"SyslogFacility", "LogLevel debug4", "FingerprintHash Sha256",
		"VersionAddendum none  # x", "ForceCommand", "ChrootDirectory ''",
		"PermitUserEnvironment ''", "Banner ''", "PidFile ''", "HostKeyAgent ''",
		"ClientAliveCountMax 3 # three", "X11DisplayOffset 10 11",
		"PermitTunnel point-to-point extra", "Compression yes no", "GatewayPorts",
		"UnusedConnectionTimeout NONE", "UnusedConnectionTimeout none 5",
		"PerSourceMaxStartups none 5", "PerSourceMaxStartups None",
		"SetEnv =x", "SetEnv A=", "AcceptEnv *", "DenyGroups ''",
		"TrustedUserCAKeys none extra", "AuthorizedKeysFile none", "AuthorizedPrincipalsCommand none", "AuthorizedPrincipalsCommand NONE arg",
		"SecurityKeyProvider internal x", "RequiredRSASize 1023",
	}
	for _, line := range lines {
		conf := "Port 2222\n" + line + "\n"
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"/etc/ssh/sshd_config": conf})
		r := sshdtest.Run(t, dir, "/etc/ssh/sshd_config")
		_, err := Load(rootfstest.Open(t, dir), "/etc/ssh/sshd_config", &Options{OpenSSH: "9.2", Resolver: sshdtest.Names{Root: dir}})
		if r.Refused() != (err != nil) {
			t.Errorf("%q: sshd refused=%v (%s), sshcfg: %v", line, r.Refused(), r.Err, err)
		} else if err != nil && len(r.ErrLines) > 0 {
			got := errStrings(err)
			if want := r.ErrLines[0]; !strings.HasPrefix(got[0], strings.Replace(want, ":", " line ", 1)+":") {
				t.Errorf("%q: sshd names %s, sshcfg %q", line, want, got[0])
			}
		}
	}
}
