package sshdtest

import "strings"

// valueCases are, for every server keyword, values sshd accepts (good)
// and values it refuses (bad), for the generator to mutate keywords other
// than the port-related ones. Values are argument strings as written
// (several arguments separated by spaces). Nothing here depends on the
// machine: no existing paths or network devices are named.
var valueCases = []struct {
	kw        string
	good, bad []string
}{
	{"PermitRootLogin", []string{"yes", "no", "prohibit-password", "without-password", "forced-commands-only", "NO"}, []string{"maybe", "yes no", "prohibit_password"}},
	{"PasswordAuthentication", []string{"yes", "no", "YES"}, []string{"true", "1", "yes no"}},
	{"PubkeyAuthentication", []string{"yes", "no"}, []string{"on"}},
	{"KbdInteractiveAuthentication", []string{"yes", "no"}, []string{"off"}},
	{"ChallengeResponseAuthentication", []string{"no", "yes"}, []string{"none"}},
	{"UsePAM", []string{"yes", "no"}, []string{"enabled"}},
	{"X11Forwarding", []string{"yes", "no"}, []string{"local"}},
	{"X11UseLocalhost", []string{"yes", "no"}, []string{"x"}},
	{"PrintMotd", []string{"no", "yes"}, []string{"never"}},
	{"PrintLastLog", []string{"no", "yes"}, []string{"2"}},
	{"TCPKeepAlive", []string{"yes", "no"}, []string{"y"}},
	{"UseDNS", []string{"no", "yes"}, []string{"maybe"}},
	{"StrictModes", []string{"yes", "no"}, []string{"strict"}},
	{"PermitEmptyPasswords", []string{"no"}, []string{"nope"}},
	{"PermitTTY", []string{"yes", "no"}, []string{"tty"}},
	{"PermitUserRC", []string{"yes"}, []string{"rc"}},
	{"AllowAgentForwarding", []string{"yes", "no"}, []string{"local"}},
	{"DisableForwarding", []string{"no", "yes"}, []string{"all"}},
	{"ExposeAuthInfo", []string{"no", "yes"}, []string{"x"}},
	{"StreamLocalBindUnlink", []string{"no", "yes"}, []string{"unlink"}},
	{"GSSAPIAuthentication", []string{"no", "yes"}, []string{"kerberos"}},
	{"GSSAPICleanupCredentials", []string{"yes"}, []string{"x"}},
	{"IgnoreRhosts", []string{"yes", "no", "shosts-only"}, []string{"rhosts"}},
	{"IgnoreUserKnownHosts", []string{"no", "yes"}, []string{"ignore"}},
	{"HostbasedAuthentication", []string{"no"}, []string{"x"}},
	{"Compression", []string{"yes", "no", "delayed"}, []string{"zlib", "fast"}},
	{"GatewayPorts", []string{"no", "yes", "clientspecified"}, []string{"all"}},
	{"AllowTcpForwarding", []string{"yes", "no", "local", "remote", "all"}, []string{"both", "yes local"}},
	{"AllowStreamLocalForwarding", []string{"yes", "no", "local"}, []string{"both"}},
	{"PermitTunnel", []string{"no", "yes", "point-to-point", "ethernet"}, []string{"YES", "tun"}},
	{"LoginGraceTime", []string{"30", "2m", "1h30m", "0", "120s", "1W"}, []string{"-1", "2x", "1.5m", "99999999999", "30 60"}},
	{"ClientAliveInterval", []string{"0", "300", "5m"}, []string{"forever", "5min"}},
	{"ClientAliveCountMax", []string{"3", "0", "10"}, []string{"-1", "three", "3.0", "2147483648"}},
	{"MaxAuthTries", []string{"6", "3", "+4"}, []string{"0x10", "six", "-2", "99999999999999999999"}},
	{"MaxSessions", []string{"10", "0"}, []string{"ten", "10 20"}},
	{"X11DisplayOffset", []string{"10"}, []string{"ten"}},
	{"RequiredRSASize", []string{"2048", "1024"}, []string{"2k"}},
	{"MaxStartups", []string{"10:30:100", "10", "100:50:200", "3:1:3"}, []string{"10:30", "100:30:10", "10:0:100", "10:101:200", "0", "x", "-5"}},
	{"PerSourceMaxStartups", []string{"none", "10"}, []string{"unlimited", "-1"}},
	{"PerSourceNetBlockSize", []string{"32:128", "24", "0:0"}, []string{"33", "24:129", "x", "-1:64"}},
	{"RekeyLimit", []string{"default", "1G", "500M 1h", "default none", "0", "16", "1G 30m"}, []string{"8", "1X", "1Gb", "default 5z", "--1"}},
	{"UnusedConnectionTimeout", []string{"none", "1h", "0"}, []string{"never"}},
	{"ChannelTimeout", []string{"session=5m", "global=1h direct-tcpip=30s", "none"}, []string{"session", "=5m", "session=5x", "none session=5m"}},
	{"LogLevel", []string{"INFO", "VERBOSE", "debug3", "quiet"}, []string{"DEBUG4", "trace"}},
	{"LogVerbose", []string{"kex.c:*:1000", "none"}, []string{"none kex.c:*"}},
	{"SyslogFacility", []string{"AUTH", "AUTHPRIV", "local7", "DAEMON"}, []string{"LOCAL8", "kern"}},
	{"FingerprintHash", []string{"sha256", "MD5", "sha512"}, []string{"sha3", "sha-256"}},
	{"Ciphers", []string{"aes128-ctr,aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "+aes128-cbc", "-3des-cbc", "^aes256-ctr", "-*cbc", "aes128-ctr,"},
		[]string{"arcfour", "aes128-ctr,blowfish-cbc", "aes*", "+rijndael-cbc@lysator.liu.se", "none", "!aes128-ctr"}},
	{"MACs", []string{"hmac-sha2-256,hmac-sha2-512", "umac-128-etm@openssh.com", "+hmac-sha1", "-hmac-md5*"}, []string{"hmac-ripemd160", "hmac-sha256", "hmac-*"}},
	{"KexAlgorithms", []string{"curve25519-sha256", "sntrup761x25519-sha512@openssh.com,curve25519-sha256@libssh.org", "+diffie-hellman-group14-sha1", "-ecdh-sha2-*", "^curve25519-sha256"},
		[]string{"sntrup4591761x25519-sha512@tinyssh.org", "mlkem768x25519-sha256", "curve448-sha512", "diffie-hellman-group1-sha256"}},
	{"HostKeyAlgorithms", []string{"ssh-ed25519,rsa-sha2-512", "+ssh-rsa", "ssh-ed25519*", "ED25519,RSA", "-ssh-dss*", "rsa-sha2-256-cert-v01@openssh.com"},
		[]string{"ssh-foo", "ed448", "+xyz*", "ssh-ed25519,!ssh-rsa", "ssh-xmss@openssh.com"}},
	{"PubkeyAcceptedAlgorithms", []string{"+ssh-rsa", "ssh-ed25519,sk-ssh-ed25519@openssh.com", "*"}, []string{"ssh-rsa2", "+foo*"}},
	{"PubkeyAcceptedKeyTypes", []string{"+ssh-rsa"}, []string{"rsa"}},
	{"HostbasedAcceptedAlgorithms", []string{"ssh-ed25519"}, []string{"ed25519-sha512"}},
	{"CASignatureAlgorithms", []string{"ssh-ed25519,rsa-sha2-512", "^ssh-ed25519"}, []string{"ssh-ed448"}},
	{"PubkeyAuthOptions", []string{"none", "touch-required", "verify-required touch-required"}, []string{"pin-required"}},
	{"AllowUsers", []string{"bob alice", "bob@10.0.0.0/8", "*@example.com", "root@!192.168.0.0/16"}, []string{"bob@10.0.0.1/8", "bob@"}},
	{"DenyUsers", []string{"mallory", "eve@192.168.1.0/24"}, []string{"eve@192.168.1.1/24"}},
	{"AllowGroups", []string{"ssh-users wheel"}, []string{`""`}},
	{"DenyGroups", []string{"nossh"}, []string{`wheel ""`}},
	{"AcceptEnv", []string{"LANG LC_*", "COLORTERM"}, []string{"LANG=C"}},
	{"SetEnv", []string{"FOO=bar", "A=1 B=2"}, []string{"FOO"}},
	{"PermitUserEnvironment", []string{"no", "yes", "LANG,LC_*"}, nil},
	{"PermitOpen", []string{"any", "none", "localhost:80", "*:*", "[::1]:22 127.0.0.1:8080"}, []string{"localhost", "host:0", "host:99999", "any extra"}},
	{"PermitListen", []string{"any", "8080", "localhost:8080", "*:2222"}, []string{"0", "localhost:x"}},
	{"IPQoS", []string{"lowdelay throughput", "af21 cs1", "ef", "0x10", "none", "255"}, []string{"fast", "af21 cs9", "256", "lowdelay throughput cs1"}},
	{"StreamLocalBindMask", []string{"0177", "0", "777"}, []string{"800", "0x1f", "rw"}},
	{"AuthenticationMethods", []string{"publickey,password", "publickey keyboard-interactive", "any", "publickey,keyboard-interactive:pam"},
		[]string{"publickey,otp", "any publickey", "password any", `""`}},
	{"AuthorizedKeysFile", []string{".ssh/authorized_keys .ssh/authorized_keys2", "/etc/ssh/keys/%u", "none"}, []string{`.ssh/authorized_keys ""`}},
	{"AuthorizedPrincipalsFile", []string{"none", "/etc/ssh/principals/%u"}, nil},
	{"AuthorizedKeysCommand", []string{"none", "/usr/bin/sss_ssh_authorizedkeys %u"}, []string{"sss_ssh_authorizedkeys", "bin/cmd %u"}},
	{"AuthorizedKeysCommandUser", []string{"nobody"}, nil},
	{"Subsystem", []string{"sftp /usr/lib/openssh/sftp-server", "sftp internal-sftp -l INFO"}, []string{"sftp"}},
	{"Banner", []string{"none", "/etc/issue.net"}, nil},
	{"PidFile", []string{"/run/sshd.pid", "none"}, nil},
	{"ChrootDirectory", []string{"none", "/srv/%u"}, nil},
	{"ForceCommand", []string{"internal-sftp", "/bin/echo hello world"}, nil},
	{"VersionAddendum", []string{"none", "hello there"}, nil},
	{"HostKey", []string{"/etc/ssh/ssh_host_test_key"}, nil},
	{"TrustedUserCAKeys", []string{"/etc/ssh/ca.pub", "none"}, nil},
	{"RevokedKeys", []string{"/etc/ssh/revoked", "none"}, nil},
	{"RDomain", nil, []string{"none", "%D", "novrf0"}}, // refused on Linux builds
	{"SecurityKeyProvider", []string{"internal"}, nil},
	{"AuthorizedPrincipalsCommand", []string{"none"}, []string{"principals %u"}},
	{"AuthorizedPrincipalsCommandUser", []string{"nobody"}, nil},
	{"DSAAuthentication", []string{"yes"}, []string{"dsa"}},
	{"GSSAPIStrictAcceptorCheck", []string{"yes", "no"}, []string{"strict"}},
	{"HostbasedAcceptedKeyTypes", []string{"ssh-ed25519,ecdsa-sha2-nistp256"}, []string{"ed25519"}},
	{"HostbasedUsesNameFromPacketOnly", []string{"no"}, []string{"packet"}},
	{"HostCertificate", []string{"/etc/ssh/ssh_host_ed25519_key-cert.pub"}, []string{"/etc/ssh/a /etc/ssh/b"}},
	{"HostDSAKey", []string{"/etc/ssh/ssh_host_dsa_key"}, nil},
	{"HostKeyAgent", []string{"SSH_AUTH_SOCK", "/run/agent.sock"}, []string{`""`}},
	{"KeepAlive", []string{"yes"}, []string{"always"}},
	{"KerberosOrLocalPasswd", []string{"yes"}, []string{"local"}},
	{"KerberosTicketCleanup", []string{"yes"}, []string{"x"}},
	{"ModuliFile", []string{"/etc/ssh/moduli"}, []string{`""`}},
	{"SKeyAuthentication", []string{"no"}, []string{"skey"}},
	{"XAuthLocation", []string{"/usr/bin/xauth"}, []string{"/usr/bin/xauth extra"}},
	{"Protocol", []string{"2", "1,2", "whatever"}, nil},
	{"UsePrivilegeSeparation", []string{"sandbox", "anything"}, nil},
	{"KerberosAuthentication", []string{"no"}, []string{"maybe"}},
	{"GSSAPIKeyExchange", []string{"no"}, []string{"maybe"}},
	{"DebianBanner", []string{"no", "yes"}, []string{"maybe"}},
}

// valueLine writes one directive from valueCases: in a clean tree a good
// value, otherwise a bad one now and then.
func (g *gen) valueLine() string {
	c := valueCases[g.n(len(valueCases))]
	for g.clean && len(c.good) == 0 {
		c = valueCases[g.n(len(valueCases))]
	}
	v := ""
	if len(c.bad) > 0 && (g.bad(30) || len(c.good) == 0) {
		v = c.bad[g.n(len(c.bad))]
	} else {
		v = c.good[g.n(len(c.good))]
	}
	if c.kw == "AuthorizedKeysCommand" && strings.HasPrefix(v, "/") && !g.bad(50) {
		// sshd wants the user too (without it: refused); written first.
		return g.directive("AuthorizedKeysCommandUser", "nobody") + "\n" + g.directive(c.kw, strings.Fields(v)...)
	}
	return g.directive(c.kw, strings.Fields(v)...)
}

// ValueKeywords lists the keywords whose values the generator mutates, in
// lower case (the port-related ones are generated elsewhere).
func ValueKeywords() []string {
	out := []string{"port", "listenaddress", "addressfamily", "include", "match"}
	for _, c := range valueCases {
		out = append(out, strings.ToLower(c.kw))
	}
	return out
}
