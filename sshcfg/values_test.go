package sshcfg

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/internal/sshdtest"
)

// valueCase is one main file judged for an OpenSSH release ("" = 9.2, the
// release of the sshd the oracle test runs): the errors (Error() texts)
// and the warnings that contain warn.
type valueCase struct {
	name, conf, openssh string
	errs                []string
	warn                string
}

const f = "/etc/ssh/sshd_config"

var valueCases = []valueCase{
	{name: "flag ok", conf: "PasswordAuthentication NO\nUsePAM yes\nX11Forwarding no\n"},
	{name: "flag bad", conf: "Port 2222\nPasswordAuthentication maybe\n", errs: []string{f + ` line 2: unsupported option "maybe".`}},
	{name: "flag extra", conf: "PrintMotd no yes\n", errs: []string{f + " line 1: keyword PrintMotd extra arguments at end of line", f + ": terminating, 1 bad configuration options"}},
	{name: "multistate", conf: "PermitRootLogin without-password\nGatewayPorts clientspecified\nAllowTcpForwarding Remote\nCompression delayed\nIgnoreRhosts shosts-only\n"},
	{name: "permitrootlogin bad", conf: "PermitRootLogin prohibit_password\n", errs: []string{f + ` line 1: unsupported option "prohibit_password".`}},
	{name: "time values", conf: "LoginGraceTime 1h30m\nClientAliveInterval 0\nUnusedConnectionTimeout none\n"},
	{name: "time bad", conf: "LoginGraceTime 1.5m\n", errs: []string{f + " line 1: invalid time value."}},
	{name: "time overflow", conf: "ClientAliveInterval 99999999999\n", errs: []string{f + " line 1: invalid time value."}},
	{name: "int ok", conf: "MaxAuthTries +4\nMaxSessions 0\nClientAliveCountMax 2147483647\n"},
	{name: "int invalid", conf: "MaxAuthTries 0x10\n", errs: []string{f + " line 1: MaxAuthTries integer value invalid."}},
	{name: "int too small", conf: "maxsessions -1\n", errs: []string{f + " line 1: maxsessions integer value too small."}},
	{name: "int too large", conf: "ClientAliveCountMax 2147483648\n", errs: []string{f + " line 1: ClientAliveCountMax integer value too large."}},
	{name: "maxstartups", conf: "MaxStartups 10:30:100\nPerSourceNetBlockSize 24:64\n"},
	{name: "maxstartups bad", conf: "MaxStartups 100:30:10\n", errs: []string{f + " line 1: Invalid MaxStartups spec."}},
	{name: "netblock bad", conf: "PerSourceNetBlockSize 24:129\n", errs: []string{f + " line 1: Invalid PerSourceNetBlockSize spec."}},
	{name: "rekeylimit", conf: "RekeyLimit 1G 1h\nRekeyLimit default none\n"},
	{name: "rekeylimit small", conf: "RekeyLimit 8\n", errs: []string{f + " line 1: RekeyLimit too small"}},
	{name: "rekeylimit bad", conf: "RekeyLimit 1Gb\n", errs: []string{f + " line 1: Bad RekeyLimit number '1Gb': Invalid argument"}},
	{name: "loglevel bad", conf: "LogLevel TRACE\n", errs: []string{f + " line 1: unsupported log level 'TRACE'"}},
	{name: "facility bad", conf: "SyslogFacility LOCAL8\n", errs: []string{f + " line 1: unsupported log facility 'LOCAL8'"}},
	{name: "logverbose none not alone", conf: "LogVerbose none kex.c:*\n", errs: []string{f + ` line 1: keyword LogVerbose "none" argument must appear alone.`, f + ": terminating, 1 bad configuration options"}},
	{name: "channeltimeout bad", conf: "ChannelTimeout session=5x\n", errs: []string{f + " line 1: invalid channel timeout session=5x"}},
	{name: "allowusers cidr", conf: "AllowUsers bob@10.0.0.0/8 alice\n"},
	{name: "allowusers bad cidr", conf: "AllowUsers bob@10.0.0.1/8\n", errs: []string{f + ` line 1: invalid AllowUsers pattern: "bob@10.0.0.1/8"`}},
	{name: "acceptenv bad", conf: "AcceptEnv LANG=C\n", errs: []string{f + " line 1: Invalid environment name."}},
	{name: "setenv bad", conf: "SetEnv FOO\n", errs: []string{f + " line 1: Invalid environment."}},
	{name: "permittunnel case", conf: "PermitTunnel YES\n", errs: []string{f + " line 1: bad PermitTunnel argument YES"}},
	{name: "permitopen", conf: "PermitOpen localhost:80 *:* [::1]:22\nPermitListen 8080\n"},
	{name: "permitopen no port", conf: "PermitOpen localhost\n", errs: []string{f + " line 1: PermitOpen bad port number"}},
	{name: "ipqos", conf: "IPQoS af21 cs1\nIPQoS 0x10\n"},
	{name: "ipqos bad", conf: "IPQoS af21 cs9\n", errs: []string{f + " line 1: Bad IPQoS value: cs9"}},
	{name: "bind mask bad", conf: "StreamLocalBindMask 800\n", errs: []string{f + " line 1: Invalid StreamLocalBindMask."}},
	{name: "fingerprint bad", conf: "FingerprintHash sha3\n", errs: []string{f + ` line 1: Invalid FingerprintHash algorithm "sha3".`}},
	{name: "authmethods", conf: "AuthenticationMethods publickey,password keyboard-interactive:pam\n"},
	{name: "authmethods unknown", conf: "AuthenticationMethods publickey,otp\n", errs: []string{f + " line 1: invalid AuthenticationMethods method list."}},
	{name: "authmethods any", conf: "AuthenticationMethods any publickey\n", errs: []string{f + ` line 1: "any" must appear alone in AuthenticationMethods`}},
	{name: "authmethods disabled", conf: "AuthenticationMethods hostbased\n", errs: []string{f + " line 1: AuthenticationMethods cannot be satisfied by enabled authentication methods"}},
	{name: "command relative", conf: "AuthorizedKeysCommand sss_ssh_authorizedkeys\n", errs: []string{f + " line 1: AuthorizedKeysCommand must be an absolute path"}},
	{name: "command without user", conf: "AuthorizedKeysCommand /usr/bin/sss_ssh_authorizedkeys %u\n", errs: []string{f + " line 1: AuthorizedKeysCommand set without AuthorizedKeysCommandUser"}},
	{name: "command with user", conf: "AuthorizedKeysCommandUser nobody\nAuthorizedKeysCommand /usr/bin/sss_ssh_authorizedkeys %u\n"},
	{name: "subsystem twice", conf: "Subsystem sftp internal-sftp\nSubsystem sftp /usr/lib/openssh/sftp-server\n", errs: []string{f + " line 2: Subsystem 'sftp' already defined."}},
	{name: "subsystem no command", conf: "Subsystem sftp\n", errs: []string{f + " line 1: Missing subsystem command."}},
	{name: "subsystem twice, 9.5", conf: "Subsystem sftp internal-sftp\nSubsystem sftp /usr/lib/openssh/sftp-server\n", openssh: "9.5"},
	{name: "subsystem no command, 9.5", conf: "Subsystem sftp\n", openssh: "9.5", errs: []string{f + " line 1: Subsystem missing argument."}},
	{name: "deprecated", conf: "Protocol 2\nUsePrivilegeSeparation sandbox\nRSAAuthentication whatever\n"},
	{name: "debian keywords", conf: "DebianBanner no\nGSSAPIKeyExchange no\n"},
	{name: "debian flag bad", conf: "DebianBanner maybe\n", errs: []string{f + ` line 1: unsupported option "maybe".`}},
	{name: "ciphers", conf: "Ciphers aes128-ctr,chacha20-poly1305@openssh.com\nMACs -hmac-md5*\nKexAlgorithms ^curve25519-sha256\n"},
	{name: "ciphers empty element stops", conf: "Ciphers aes128-ctr,,nonsense\n"},
	{name: "ciphers removed", conf: "Ciphers aes128-ctr,arcfour\n",
		errs: []string{f + " line 1: Bad SSH2 cipher spec 'aes128-ctr,arcfour'. (arcfour: OpenSSH 7.4 to 7.5 only; this is OpenSSH 9.2)"}},
	{name: "ciphers removed, 7.4", conf: "Ciphers aes128-ctr,arcfour\n", openssh: "7.4"},
	{name: "ciphers unknown", conf: "Ciphers aes128-foo\n",
		errs: []string{f + " line 1: Bad SSH2 cipher spec 'aes128-foo'. (aes128-foo: no OpenSSH release 7.4 to " + NewestOpenSSH() + " knows it)"}},
	{name: "ciphers wildcard", conf: "Ciphers aes*\n", errs: []string{f + " line 1: Bad SSH2 cipher spec 'aes*'. (aes*: no OpenSSH release 7.4 to " + NewestOpenSSH() + " knows it)"}},
	{name: "caret before 8.1", conf: "Ciphers ^aes128-ctr\n", openssh: "8.0",
		errs: []string{f + " line 1: Bad SSH2 cipher spec '^aes128-ctr'. (^aes128-ctr: no OpenSSH release 7.4 to " + NewestOpenSSH() + " knows it)"}},
	{name: "kex tinyssh", conf: "KexAlgorithms sntrup4591761x25519-sha512@tinyssh.org,curve25519-sha256\n",
		errs: []string{f + " line 1: Bad SSH2 KexAlgorithms 'sntrup4591761x25519-sha512@tinyssh.org,curve25519-sha256'. (sntrup4591761x25519-sha512@tinyssh.org: OpenSSH 8.0 to 8.4 only; this is OpenSSH 9.2)"}},
	{name: "kex newer than 9.2", conf: "KexAlgorithms mlkem768x25519-sha256\n",
		errs: []string{f + " line 1: Bad SSH2 KexAlgorithms 'mlkem768x25519-sha256'. (mlkem768x25519-sha256: OpenSSH 9.9 and later only; this is OpenSSH 9.2)"}},
	{name: "kex gssapi patch", conf: "KexAlgorithms +gss-gex-sha1-\n"},
	{name: "key types", conf: "HostKeyAlgorithms ED25519,ssh-ed25519*,rsa-sha2-512-cert-v01@openssh.com\nPubkeyAcceptedAlgorithms +ssh-rsa\n"},
	{name: "key types bad", conf: "PubkeyAcceptedAlgorithms +foo*\n", errs: []string{f + " line 1: Bad key types '+foo*'. (foo*: no OpenSSH release 7.4 to " + NewestOpenSSH() + " knows it)"}},
	{name: "key type negated", conf: "HostKeyAlgorithms ssh-ed25519,!ssh-rsa\n",
		errs: []string{f + ` line 1: assemble_algorithms: hostkeyalgorithms: invalid argument ("!ssh-rsa": a negated name works only in a list that starts with "-")`}},
	{name: "dsa after 9.7", conf: "HostKeyAlgorithms ssh-dss\n", openssh: "10.0",
		errs: []string{f + " line 1: Bad key types 'ssh-dss'. (ssh-dss: OpenSSH 7.4 to 9.7 only; this is OpenSSH 10.0)"}},
	{name: "keyword of a later release", conf: "PerSourcePenalties no\n",
		errs: []string{f + " line 1: Bad configuration option: PerSourcePenalties (OpenSSH 9.8 and later only; this is OpenSSH 9.2)", f + ": terminating, 1 bad configuration options"}},
	{name: "removed name, release assumed", conf: "Ciphers aes128-ctr,arcfour\n", openssh: "-", warn: "(OpenSSH 7.6 and later refuse it: arcfour is known to OpenSSH 7.4 to 7.5 only; the installed OpenSSH was not found"},
	{name: "inactive match checked too", conf: "Match User bob\n\tMaxAuthTries lots\n", errs: []string{f + " line 2: MaxAuthTries integer value invalid."}},
	{name: "new name, release assumed", conf: "KexAlgorithms mlkem768x25519-sha256\n", openssh: "-", warn: "line 1: KexAlgorithms: OpenSSH 7.4 to 9.8 refuse mlkem768x25519-sha256 (known to OpenSSH 9.9 and later; the installed OpenSSH was not found"},
	{name: "subsystem in match, 9.2", conf: "Match User sftp\n\tSubsystem sftp internal-sftp\n", errs: []string{f + " line 2: Directive 'Subsystem' is not allowed within a Match block"}},
	{name: "subsystem in match, 9.5", conf: "Match User sftp\n\tSubsystem sftp internal-sftp\n", openssh: "9.5"},
	{name: "subsystem in match, assumed", conf: "Match User sftp\n\tSubsystem sftp internal-sftp\n", openssh: "-", warn: "line 2: Directive 'Subsystem' is not allowed within a Match block by OpenSSH 7.4 to 9.4 (only 9.5 and later allow it"},
	{name: "rdomain", conf: "RDomain %D\n", errs: []string{f + " line 1: setting RDomain not supported on this platform."}},
}

func (tc valueCase) options() *Options {
	o := &Options{OpenSSH: tc.openssh}
	switch tc.openssh {
	case "":
		o.OpenSSH = "9.2"
	case "-":
		o.OpenSSH = ""
	}
	return o
}

func TestValues(t *testing.T) {
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte(tc.conf)}}, f, tc.options())
			if got := errStrings(err); !reflect.DeepEqual(got, tc.errs) {
				t.Errorf("%q: errors\n got %q\nwant %q", tc.conf, got, tc.errs)
			}
			found := tc.warn == ""
			for _, w := range cfg.Warnings {
				found = found || strings.Contains(w.Error(), tc.warn)
			}
			if !found {
				t.Errorf("no warning contains %q: %v", tc.warn, cfg.Warnings)
			}
		})
	}
}

// TestValuesAgainstSSHD gives the 9.2 cases to the real sshd: it must
// refuse exactly those with errors, naming the same lines.
func TestValuesAgainstSSHD(t *testing.T) {
	sshdtest.Require(t)
	for _, tc := range valueCases {
		if tc.openssh != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{f: tc.conf})
			r := sshdtest.Run(t, dir, f)
			if r.Refused() != (tc.errs != nil) {
				t.Fatalf("sshd refused=%v, case errors %q\n%s", r.Refused(), tc.errs, r.Err)
			}
			var ours []string
			for _, e := range tc.errs {
				if file, rest, ok := strings.Cut(e, " line "); ok {
					n, _, _ := strings.Cut(rest, ": ")
					ours = append(ours, file+":"+n)
				}
			}
			if len(r.ErrLines) > 0 && !reflect.DeepEqual(r.ErrLines, ours) {
				t.Errorf("sshd names %q, case %q\n%s", r.ErrLines, ours, r.Err)
			}
			// sshd's own words, where it names the line.
			for _, e := range tc.errs {
				msg := e
				if _, rest, ok := strings.Cut(e, " line "); ok {
					_, msg, _ = strings.Cut(rest, ": ")
				}
				if i := strings.Index(msg, " ("); i > 0 && !strings.Contains(r.Err, msg) {
					msg = msg[:i]
				}
				if len(r.ErrLines) > 0 && !strings.Contains(r.Err, msg) && !strings.Contains(msg, "terminating") {
					t.Errorf("sshd did not say %q:\n%s", msg, r.Err)
				}
			}
		})
	}
}

func TestConvtimeAtoiScaled(t *testing.T) {
	for s, want := range map[string]int64{"": -1, "0": 0, "1h30m": 5400, "1W": 604800, "5x": -1, "-1": -1, "2147483647": 2147483647, "2147483648": -1, "10s10": 20} {
		if got := convtime(s); got != want {
			t.Errorf("convtime(%q) = %d, want %d", s, got, want)
		}
	}
	for s, want := range map[string]string{"": "missing", "0": "", "+5": "", "5 ": "invalid", "-1": "too small", "2147483648": "too large", "99999999999999999999": "too large", "x": "invalid"} {
		if got := atoiErr(s); got != want {
			t.Errorf("atoiErr(%q) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[string]int64{"1K": 1024, "1G": 1 << 30, "16": 16, "1.5M": 1 << 20, "7e": 7 << 60} {
		if got, err := scanScaled(s); err != "" || got != want {
			t.Errorf("scanScaled(%q) = %d, %q; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"1X", "1Kb", "--1", "1..2"} {
		if _, err := scanScaled(s); err == "" {
			t.Errorf("scanScaled(%q) accepted", s)
		}
	}
}

func TestDetectOpenSSH(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fs    fstest.MapFS
		want  string
		found bool
	}{
		{"dpkg", fstest.MapFS{"var/lib/dpkg/status": {Data: []byte("Package: openssh-client\nStatus: install ok installed\nVersion: 1:8.4p1-5\n\nPackage: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\n")}}, "9.2", true},
		{"dpkg removed", fstest.MapFS{"var/lib/dpkg/status": {Data: []byte("Package: openssh-server\nStatus: deinstall ok config-files\nVersion: 1:8.4p1-5\n")}}, "", false},
		{"apk", fstest.MapFS{"lib/apk/db/installed": {Data: []byte("C:Q1x\nP:openssh-server\nV:9.3_p2-r0\n\n")}}, "9.3", true},
		{"binary", fstest.MapFS{"usr/sbin/sshd": {Data: []byte("\x7fELF...OpenSSH_8.9p1 Ubuntu...")}}, "8.9", true},
		{"between releases", fstest.MapFS{"usr/sbin/sshd": {Data: []byte("OpenSSH_7.4p1")}}, "7.4", true},
		{"none", fstest.MapFS{}, "", false},
		{"large dpkg", fstest.MapFS{"var/lib/dpkg/status": {Data: []byte(strings.Repeat("Package: filler\nStatus: install ok installed\nVersion: 1.0\nDescription: "+strings.Repeat("x", 97)+"\n\n", 1500) +
			"Package: openssh-server\nStatus: install ok installed\nVersion: 1:8.4p1-5+deb11u3\n\nPackage: zz\nVersion: 9.9\n")}}, "8.4", true},
	} {
		got, ok := DetectOpenSSH(tc.fs)
		if ok != tc.found || got.Version != tc.want {
			t.Errorf("%s: got %+v %v, want %q %v", tc.name, got, ok, tc.want, tc.found)
		}
	}
	if v, err := ParseOpenSSH("9.2p1"); err != nil || v != "9.2" {
		t.Errorf("ParseOpenSSH(9.2p1) = %q, %v", v, err)
	}
	if _, err := ParseOpenSSH("nine"); err == nil {
		t.Error("ParseOpenSSH(nine) accepted")
	}
}

func TestRelSetString(t *testing.T) {
	if got := (cipherReleases["arcfour"]).String(); got != "7.4 to 7.5" {
		t.Errorf("arcfour releases %q", got)
	}
	if got := (allReleases &^ cipherReleases["arcfour"]).String(); got != "7.6 and later" {
		t.Errorf("not arcfour %q", got)
	}
}

// TestDetectOpenSSHChunks moves openssh-server's paragraph across the
// boundary of packageVersion's 64 KiB reads.
func TestDetectOpenSSHChunks(t *testing.T) {
	for pad := 65400; pad < 65600; pad++ {
		data := "Package: a\nDescription: " + strings.Repeat("x", pad) + "\n\nPackage: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\n\nPackage: b\n"
		got, ok := DetectOpenSSH(fstest.MapFS{"var/lib/dpkg/status": {Data: []byte(data)}})
		if !ok || got.Version != "9.2" {
			t.Fatalf("pad %d: %+v %v", pad, got, ok)
		}
	}
}

// TestGeneratorCoversKeywords keeps the differential test's generator
// mutating the values of every keyword OpenSSH 9.2 reads (not counting
// those it only logs as deprecated or unsupported).
func TestGeneratorCoversKeywords(t *testing.T) {
	idx, _ := releaseFor(sshdtest.OracleOpenSSH)
	bit := relSet(1) << idx
	have := map[string]bool{}
	for _, k := range sshdtest.ValueKeywords() {
		have[k] = true
	}
	for k, rs := range keywordReleases {
		if rs&bit != 0 && keywordIgnoredReleases[k]&bit == 0 && !have[k] {
			t.Errorf("the generator never writes %s", k)
		}
	}
}
