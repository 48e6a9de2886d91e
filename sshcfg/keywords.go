package sshcfg

// kwFlags tells where sshd accepts a keyword, as servconf.c's keywords[]
// table does (SSHCFG_GLOBAL, SSHCFG_MATCH).
type kwFlags uint8

const (
	kwGlobal kwFlags = 1 << iota // allowed outside Match blocks
	kwMatch                      // allowed inside Match blocks
	// kwVaries marks a keyword whose Match permission differs between
	// OpenSSH versions. For OpenSSH's own keywords the generated tables
	// decide (release.go, matchAllowed); the flag documents the list.
	kwVaries
	kwAll = kwGlobal | kwMatch
)

// keywords lists every keyword of OpenSSH 9.2 and 10.2's sshd (servconf.c),
// lower case, with where it is allowed. OpenSSH 9.2 is what Debian 12 ships
// and what the tests compare with; keywords added later are known too, so
// a newer config does not draw a warning.
var keywords = map[string]kwFlags{
	"acceptenv": kwAll, "addressfamily": kwGlobal, "afstokenpassing": kwGlobal,
	"allowagentforwarding": kwAll, "allowgroups": kwAll, "allowstreamlocalforwarding": kwAll,
	"allowtcpforwarding": kwAll, "allowusers": kwAll, "authenticationmethods": kwAll,
	"authorizedkeyscommand": kwAll, "authorizedkeyscommanduser": kwAll, "authorizedkeysfile": kwAll,
	"authorizedkeysfile2": kwAll, "authorizedprincipalscommand": kwAll,
	"authorizedprincipalscommanduser": kwAll, "authorizedprincipalsfile": kwAll, "banner": kwAll,
	"casignaturealgorithms": kwAll, "challengeresponseauthentication": kwAll, "channeltimeout": kwAll,
	"checkmail": kwGlobal, "chrootdirectory": kwAll, "ciphers": kwGlobal, "clientalivecountmax": kwAll,
	"clientaliveinterval": kwAll, "compression": kwGlobal, "denygroups": kwAll, "denyusers": kwAll,
	"disableforwarding": kwAll, "dsaauthentication": kwGlobal, "exposeauthinfo": kwAll,
	"fingerprinthash": kwGlobal, "forcecommand": kwAll, "gatewayports": kwAll,
	"gssapiauthentication": kwAll, "gssapicleanupcredentials": kwGlobal,
	"gssapistrictacceptorcheck": kwGlobal, "hostbasedacceptedalgorithms": kwAll,
	"hostbasedacceptedkeytypes": kwAll, "hostbasedauthentication": kwAll,
	"hostbasedusesnamefrompacketonly": kwAll, "hostcertificate": kwGlobal, "hostdsakey": kwGlobal,
	"hostkey": kwGlobal, "hostkeyagent": kwGlobal, "hostkeyalgorithms": kwGlobal, "ignorerhosts": kwAll,
	"ignoreuserknownhosts": kwGlobal, "include": kwAll, "ipqos": kwAll,
	"kbdinteractiveauthentication": kwAll, "keepalive": kwGlobal, "kerberosauthentication": kwAll,
	"kerberosgetafstoken": kwGlobal, "kerberosorlocalpasswd": kwGlobal, "kerberostgtpassing": kwGlobal,
	"kerberosticketcleanup": kwGlobal, "kexalgorithms": kwGlobal, "keyregenerationinterval": kwGlobal,
	"listenaddress": kwGlobal, "logingracetime": kwGlobal, "loglevel": kwAll, "logverbose": kwAll,
	"macs": kwGlobal, "match": kwAll, "maxauthtries": kwAll, "maxsessions": kwAll, "maxstartups": kwGlobal,
	"modulifile": kwGlobal, "pamauthenticationviakbdint": kwGlobal, "pamservicename": kwAll | kwVaries,
	"passwordauthentication": kwAll, "permitemptypasswords": kwAll, "permitlisten": kwAll,
	"permitopen": kwAll, "permitrootlogin": kwAll, "permittty": kwAll, "permittunnel": kwAll,
	"permituserenvironment": kwGlobal, "permituserrc": kwAll, "persourcemaxstartups": kwGlobal,
	"persourcenetblocksize": kwGlobal, "persourcepenalties": kwGlobal,
	"persourcepenaltyexemptlist": kwGlobal, "pidfile": kwGlobal, "port": kwGlobal, "printlastlog": kwGlobal,
	"printmotd": kwGlobal, "protocol": kwGlobal, "pubkeyacceptedalgorithms": kwAll,
	"pubkeyacceptedkeytypes": kwAll, "pubkeyauthentication": kwAll, "pubkeyauthoptions": kwAll,
	"rdomain": kwAll, "refuseconnection": kwAll | kwVaries, "rekeylimit": kwAll, "requiredrsasize": kwAll,
	"reversemappingcheck": kwGlobal, "revokedkeys": kwAll, "rhostsauthentication": kwGlobal,
	"rhostsrsaauthentication": kwAll, "rsaauthentication": kwAll, "securitykeyprovider": kwGlobal,
	"serverkeybits": kwGlobal, "setenv": kwAll, "skeyauthentication": kwAll, "sshdauthpath": kwGlobal,
	"sshdsessionpath": kwGlobal, "streamlocalbindmask": kwAll, "streamlocalbindunlink": kwAll,
	"strictmodes": kwGlobal, "subsystem": kwGlobal | kwVaries, "syslogfacility": kwGlobal,
	"tcpkeepalive": kwGlobal, "trustedusercakeys": kwAll, "unusedconnectiontimeout": kwAll,
	"usedns": kwGlobal, "uselogin": kwGlobal, "usepam": kwGlobal, "useprivilegeseparation": kwGlobal,
	"verifyreversemapping": kwGlobal, "versionaddendum": kwGlobal, "x11displayoffset": kwAll,
	"x11forwarding": kwAll,
	// The GSSAPI key exchange patch (Debian, Ubuntu, Fedora, RHEL) and
	// Debian's banner patch: Debian 12's sshd knows these.
	"gssapikeyexchange": kwGlobal, "gssapistorecredentialsonrekey": kwGlobal,
	"gssapikexalgorithms": kwGlobal, "debianbanner": kwGlobal,
	"x11uselocalhost": kwAll, "xauthlocation": kwGlobal,
}
