package sshcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/sshport/sshport/internal/rootfs/rootfstest"
	"github.com/sshport/sshport/internal/sshdtest"
)

const mainCfg = "/etc/ssh/sshd_config"

// loadCase is one configuration tree and what sshd makes of it. Ports are
// written "VALUE FILE:LINE" or "22 default"; errs are the Error() texts of
// the ErrorList in order.
type loadCase struct {
	name     string
	files    map[string]string // absolute path -> contents; a path ending in "/" is a directory
	opts     *Options
	ports    []string
	af       string   // "" means "any"
	listen   []string // Endpoint.String(); nil means the wildcard pair for every port
	warnings []string
	errs     []string
	// noOracle says why `sshd -T` cannot confirm the case (fake lookups,
	// or a deliberate difference such as warnings for unknown keywords).
	noOracle string
	// bug names a difference from sshd reported to the lead: the case
	// holds sshd's answer and is skipped while sshcfg still differs.
	bug string
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, c := range files {
		if strings.HasSuffix(p, "/") {
			m[fsPath(p)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			continue
		}
		m[fsPath(p)] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	return m
}

func numberedPorts(n, first int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Port %d\n", first+i)
	}
	return b.String()
}

// includeChain returns a main file that includes d1.conf, which includes
// d2.conf, ... down to dN.conf, which holds "Port 2000".
func includeChain(n int) map[string]string {
	m := map[string]string{mainCfg: "Include /etc/ssh/d1.conf\n"}
	for i := 1; i < n; i++ {
		m[fmt.Sprintf("/etc/ssh/d%d.conf", i)] = fmt.Sprintf("Include /etc/ssh/d%d.conf\n", i+1)
	}
	m[fmt.Sprintf("/etc/ssh/d%d.conf", n)] = "Port 2000\n"
	return m
}

// fakeNames is a Resolver from tables, for tests.
type fakeNames struct {
	services map[string]int
	hosts    map[string][]netip.Addr
}

func (f fakeNames) Service(name string) (int, bool) {
	p, ok := f.services[name]
	return p, ok
}

func (f fakeNames) Host(name, family string) ([]netip.Addr, error) {
	if a, ok := f.hosts[name]; ok {
		return a, nil
	}
	return nil, errors.New("Name or service not known")
}

var fakeServices = &Options{Resolver: fakeNames{services: map[string]int{"ssh": 22, "altssh": 2022}}}

var fakeResolve = &Options{Resolver: fakeNames{hosts: map[string][]netip.Addr{
	"gw.example": {netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::7")},
}}}

// sshdNames answers as sshd does under sshdtest.Run for a tree without
// etc/ of its own: the machine's /etc/services, sshdtest.Hosts, no DNS.
var sshdNames = &Options{Resolver: sshdtest.Names{}}

func only(content string) map[string]string { return map[string]string{mainCfg: content} }

const (
	l1 = mainCfg + " line 1: "
	l2 = mainCfg + " line 2: "
)

var loadCases = []loadCase{
	{name: "no port", files: only("PermitRootLogin no\n"), ports: []string{"22 default"}},
	{name: "empty file", files: only(""), ports: []string{"22 default"}},
	{name: "commented port", files: only("#Port 22\n"), ports: []string{"22 default"}},
	{name: "one port", files: only("Port 2222\n"), ports: []string{"2222 " + mainCfg + ":1"}},
	{name: "ports accumulate", files: only("Port 2222\nX11Forwarding no\nport 2200\n"),
		ports: []string{"2222 " + mainCfg + ":1", "2200 " + mainCfg + ":3"}},
	{name: "duplicates kept", files: only("Port 22\nPort 22\n"),
		ports: []string{"22 " + mainCfg + ":1", "22 " + mainCfg + ":2"}},
	{name: "equals and quotes", files: only("Port=2001\nPort = \"2002\"\nPORT '2003'\n"),
		ports: []string{"2001 " + mainCfg + ":1", "2002 " + mainCfg + ":2", "2003 " + mainCfg + ":3"}},
	{name: "crlf", files: only("Port 2222\r\nListenAddress 127.0.0.1\r\n"),
		ports: []string{"2222 " + mainCfg + ":1"}, listen: []string{"127.0.0.1:2222"}},
	{name: "comment after value", files: only("Port 2222 # old was 22\n"), ports: []string{"2222 " + mainCfg + ":1"}},
	{name: "port ssh (fake services)", files: only("Port ssh\nPort altssh\n"), opts: fakeServices,
		ports: []string{"22 " + mainCfg + ":1", "2022 " + mainCfg + ":2"}, noOracle: "fake services table"},
	{name: "unknown service (fake services)", files: only("Port nosuch\n"), opts: fakeServices,
		errs: []string{l1 + "Badly formatted port number."}, noOracle: "fake services table"},
	{name: "port ssh (system services)", files: only("Port ssh\n"), ports: []string{"22 " + mainCfg + ":1"}},
	{name: "services from the tree", files: map[string]string{mainCfg: "Port treessh\n", "/etc/services": "treessh 2345/tcp\n"},
		opts: &Options{}, ports: []string{"2345 " + mainCfg + ":1"}},
	{name: "leading zeros", files: only("Port 02222\n"), ports: []string{"2222 " + mainCfg + ":1"}},
	{name: "plus sign", files: only("Port +22\n"), ports: []string{"22 " + mainCfg + ":1"}},
	{name: "leading space in quotes", files: only("Port \" 22\"\n"), ports: []string{"22 " + mainCfg + ":1"}},
	{name: "max port", files: only("Port 65535\n"), ports: []string{"65535 " + mainCfg + ":1"}},
	{name: "port 0", files: only("Port 0\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port 65536", files: only("Port 65536\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port 99999", files: only("Port 22\nPort 99999\n"), errs: []string{l2 + "Badly formatted port number."}},
	{name: "port hex", files: only("Port 0x10\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port negative", files: only("Port -1\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port with hash", files: only("Port 2222#x\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port double equals", files: only("Port==2222\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port without argument", files: only("Port\n"),
		errs: []string{l1 + `no argument after keyword "Port"`, mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "port empty quotes", files: only("Port \"\"\n"), errs: []string{l1 + "missing port number."}},
	{name: "port unclosed quote", files: only("Port \"2222\n"),
		errs: []string{l1 + "invalid quotes", mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "port extra arguments", files: only("Port 2222 3333\n"),
		errs: []string{l1 + "keyword Port extra arguments at end of line", mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "bad lines counted", files: only("Port\nPort 1 2\nPort 3\n"),
		errs: []string{l1 + `no argument after keyword "Port"`, l2 + "keyword Port extra arguments at end of line",
			mainCfg + ": terminating, 2 bad configuration options"}},
	{name: "256 ports", files: only(numberedPorts(256, 1000)), ports: func() []string {
		var s []string
		for i := 0; i < 256; i++ {
			s = append(s, fmt.Sprintf("%d %s:%d", 1000+i, mainCfg, i+1))
		}
		return s
	}(), listen: func() []string {
		var s []string
		for i := 0; i < 256; i++ {
			s = append(s, fmt.Sprintf("[::]:%d", 1000+i), fmt.Sprintf("0.0.0.0:%d", 1000+i))
		}
		return s
	}()},
	{name: "257 ports", files: only(numberedPorts(257, 1000)), errs: []string{mainCfg + " line 257: too many ports."}},

	// Match blocks.
	{name: "port in match user", files: only("Match User bob\nPort 2222\n"),
		errs: []string{l2 + "Directive 'Port' is not allowed within a Match block"}},
	{name: "listenaddress in match address", files: only("Match Address 10.0.0.0/8\nListenAddress 127.0.0.1\n"),
		errs: []string{l2 + "Directive 'ListenAddress' is not allowed within a Match block"}},
	{name: "port after match all", files: only("Match all\nPort 2222\n"), ports: []string{"2222 " + mainCfg + ":2"}},
	{name: "match all closes a block", files: only("Match User bob\nX11Forwarding no\nMatch all\nPort 2222\n"),
		ports: []string{"2222 " + mainCfg + ":4"}},
	{name: "match all with comment", files: only("Match all # rest\nPort 2222\n"), ports: []string{"2222 " + mainCfg + ":2"}},
	{name: "match all combined", files: only("Match all User bob\n"),
		errs: []string{l1 + "Bad Match condition ('all' cannot be combined with other Match attributes)"}},
	{name: "match without criteria", files: only("Match\n"),
		errs: []string{l1 + `no argument after keyword "Match"`, mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "match criterion without argument", files: only("Match User\n"),
		errs: []string{l1 + "Bad Match condition (Missing Match criteria for User)"}},
	{name: "match unknown attribute", files: only("Match Colour blue\n"),
		errs: []string{l1 + "Bad Match condition (Unsupported Match attribute Colour)"}},
	{name: "match address invalid cidr", files: only("Match Address 10.0.0.1/8\n"),
		errs: []string{l1 + "Invalid Match address argument '10.0.0.1/8'"}},
	{name: "match address valid cidr", files: only("Match Address 10.0.0.0/8,!192.168.1.0/24\nX11Forwarding no\n"),
		ports: []string{"22 default"}},
	{name: "match address pattern", files: only("Match Address 10.0.*\nX11Forwarding no\n"), ports: []string{"22 default"}},
	{name: "match localport bad", files: only("Match LocalPort nosuchservice\n"),
		errs: []string{l1 + "Bad Match condition (Invalid LocalPort 'nosuchservice' on Match line)"}},
	{name: "match in included file ends with it",
		files: map[string]string{mainCfg: "Include /etc/ssh/inc.conf\nPort 2222\n", "/etc/ssh/inc.conf": "Match User bob\nX11Forwarding no\n"},
		ports: []string{"2222 " + mainCfg + ":2"}},
	{name: "include in inactive match: port is fatal",
		files: map[string]string{mainCfg: "Match User bob\nInclude /etc/ssh/inc.conf\n", "/etc/ssh/inc.conf": "Port 2222\n"},
		errs:  []string{"/etc/ssh/inc.conf line 1: Directive 'Port' is not allowed within a Match block"}},
	{name: "include in inactive match: match all never activates",
		files: map[string]string{mainCfg: "Match User bob\nInclude /etc/ssh/inc.conf\n", "/etc/ssh/inc.conf": "Match all\nPort 2222\n"},
		errs:  []string{"/etc/ssh/inc.conf line 2: Directive 'Port' is not allowed within a Match block"}},
	{name: "include after match all",
		files: map[string]string{mainCfg: "Match all\nInclude /etc/ssh/inc.conf\n", "/etc/ssh/inc.conf": "Port 2222\n"},
		ports: []string{"2222 /etc/ssh/inc.conf:1"}},

	// Include.
	{name: "relative include is under /etc/ssh",
		files: map[string]string{mainCfg: "Include inc.conf\n", "/etc/ssh/inc.conf": "Port 2222\n"},
		ports: []string{"2222 /etc/ssh/inc.conf:1"}},
	{name: "absolute include",
		files: map[string]string{mainCfg: "Include /etc/ssh/sub/inc.conf\n", "/etc/ssh/sub/inc.conf": "Port 2222\n"},
		ports: []string{"2222 /etc/ssh/sub/inc.conf:1"}},
	{name: "relative include is not relative to the including file",
		files: map[string]string{mainCfg: "Include sub/a.conf\n", "/etc/ssh/sub/a.conf": "Include b.conf\n",
			"/etc/ssh/sub/b.conf": "Port 1111\n", "/etc/ssh/b.conf": "Port 2222\n"},
		ports: []string{"2222 /etc/ssh/b.conf:1"}},
	{name: "drop-in before main port (Debian layout)",
		files: map[string]string{mainCfg: "Include /etc/ssh/sshd_config.d/*.conf\n#Port 22\nPort 2222\n",
			"/etc/ssh/sshd_config.d/50-cloud.conf": "Port 2200\n"},
		ports: []string{"2200 /etc/ssh/sshd_config.d/50-cloud.conf:1", "2222 " + mainCfg + ":3"}},
	{name: "glob order is bytewise",
		files: map[string]string{mainCfg: "Include /etc/ssh/sshd_config.d/*.conf\n",
			"/etc/ssh/sshd_config.d/9-b.conf": "Port 9\n", "/etc/ssh/sshd_config.d/10-a.conf": "Port 10\n",
			"/etc/ssh/sshd_config.d/B.conf": "Port 66\n", "/etc/ssh/sshd_config.d/a.conf": "Port 97\n"},
		ports: []string{"10 /etc/ssh/sshd_config.d/10-a.conf:1", "9 /etc/ssh/sshd_config.d/9-b.conf:1",
			"66 /etc/ssh/sshd_config.d/B.conf:1", "97 /etc/ssh/sshd_config.d/a.conf:1"}},
	{name: "star skips dotfiles",
		files: map[string]string{mainCfg: "Include /etc/ssh/sshd_config.d/*\n",
			"/etc/ssh/sshd_config.d/.hidden.conf": "Port 1\n", "/etc/ssh/sshd_config.d/x.conf": "Port 2\n"},
		ports: []string{"2 /etc/ssh/sshd_config.d/x.conf:1"}},
	{name: "explicit dot pattern matches dotfiles",
		files: map[string]string{mainCfg: "Include /etc/ssh/sshd_config.d/.*.conf\n",
			"/etc/ssh/sshd_config.d/.hidden.conf": "Port 1\n"},
		ports: []string{"1 /etc/ssh/sshd_config.d/.hidden.conf:1"}},
	{name: "several patterns on one line",
		files: map[string]string{mainCfg: "Include /etc/ssh/b.conf a.conf\n", "/etc/ssh/a.conf": "Port 1\n", "/etc/ssh/b.conf": "Port 2\n"},
		ports: []string{"2 /etc/ssh/b.conf:1", "1 /etc/ssh/a.conf:1"}},
	{name: "missing includes are ignored",
		files: only("Include /etc/ssh/nope.conf\nInclude /etc/ssh/none.d/*.conf\nInclude nothing*\nPort 2222\n"),
		ports: []string{"2222 " + mainCfg + ":4"}},
	{name: "include a directory reads nothing",
		files: map[string]string{mainCfg: "Include /etc/ssh/dir\nPort 2222\n", "/etc/ssh/dir/": ""},
		ports: []string{"2222 " + mainCfg + ":2"}},
	{name: "file included twice counts twice",
		files: map[string]string{mainCfg: "Include /etc/ssh/p.conf\nInclude p.conf\n", "/etc/ssh/p.conf": "Port 2222\n"},
		ports: []string{"2222 /etc/ssh/p.conf:1", "2222 /etc/ssh/p.conf:1"}},
	{name: "include empty argument", files: only("Include \"\"\n"),
		errs: []string{l1 + "keyword Include empty argument", mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "include loop", files: only("Port 1\nInclude /etc/ssh/sshd_config\n"),
		errs: []string{l2 + "Too many recursive configuration includes (an Include loop, or nesting deeper than 16)"}},
	{name: "include depth 16", files: includeChain(16), ports: []string{"2000 /etc/ssh/d16.conf:1"}},
	{name: "include depth 17", files: includeChain(17),
		errs: []string{"/etc/ssh/d16.conf line 1: Too many recursive configuration includes (an Include loop, or nesting deeper than 16)"}},

	// ListenAddress and AddressFamily.
	{name: "listen v4 without port uses every port", files: only("ListenAddress 127.0.0.1\nPort 2200\nPort 2201\n"),
		ports: []string{"2200 " + mainCfg + ":2", "2201 " + mainCfg + ":3"}, listen: []string{"127.0.0.1:2200", "127.0.0.1:2201"}},
	{name: "listen v4 with port", files: only("ListenAddress 127.0.0.1:2222\n"),
		ports: []string{"22 default"}, listen: []string{"127.0.0.1:2222"}},
	// misc.c's hpdelim (unlike hpdelim2) refuses the '/' separator.
	{name: "listen v4 slash port", files: only("ListenAddress 127.0.0.1/2222\n"), errs: []string{l1 + "bad address:port usage"}},
	{name: "listen mixed", files: only("Port 7\nListenAddress 127.0.0.2:5\nListenAddress 127.0.0.1\nPort 8\n"),
		ports: []string{"7 " + mainCfg + ":1", "8 " + mainCfg + ":4"}, listen: []string{"127.0.0.2:5", "127.0.0.1:7", "127.0.0.1:8"}},
	{name: "listen v6 bracket port", files: only("ListenAddress [::1]:2222\n"),
		ports: []string{"22 default"}, listen: []string{"[::1]:2222"}},
	{name: "listen bare v6", files: only("ListenAddress ::1\nPort 2222\n"),
		ports: []string{"2222 " + mainCfg + ":2"}, listen: []string{"[::1]:2222"}},
	{name: "listen bare v6 looks like port", files: only("ListenAddress fe80::1:22\n"),
		ports: []string{"22 default"}, listen: []string{"[fe80::1:22]:22"}},
	{name: "listen v6 brackets without port", files: only("ListenAddress [::1]\n"),
		ports: []string{"22 default"}, listen: []string{"[::1]:22"}},
	{name: "listen inet_aton form", files: only("ListenAddress 127.1:2222\n"),
		ports: []string{"22 default"}, listen: []string{"127.0.0.1:2222"}},
	{name: "listen host with port (fake resolver)", files: only("ListenAddress gw.example:2222\n"), opts: fakeResolve,
		ports: []string{"22 default"}, listen: []string{"192.0.2.7:2222", "[2001:db8::7]:2222"}, noOracle: "fake resolver"},
	{name: "listen host under inet (fake resolver)", files: only("AddressFamily inet\nListenAddress gw.example\n"), opts: fakeResolve,
		ports: []string{"22 default"}, af: "inet", listen: []string{"192.0.2.7:22"}, noOracle: "fake resolver"},
	{name: "listen unknown host (fake resolver)", files: only("ListenAddress nosuch.example\n"), opts: fakeResolve,
		errs: []string{l1 + "bad addr or host: nosuch.example (Name or service not known)"}, noOracle: "fake resolver"},
	{name: "listen localhost (sshdtest hosts)", files: only("ListenAddress localhost:2222\n"),
		opts:  sshdNames,
		ports: []string{"22 default"}, listen: []string{"127.0.0.1:2222"}},
	{name: "listen service port", files: only("ListenAddress 127.0.0.1:ssh\n"),
		ports: []string{"22 default"}, listen: []string{"127.0.0.1:22"}},
	{name: "listen empty port", files: only("ListenAddress 1.2.3.4:\n"), errs: []string{l1 + "bad port number"}},
	{name: "listen port 0", files: only("ListenAddress 1.2.3.4:0\n"), errs: []string{l1 + "bad port number"}},
	{name: "listen unclosed bracket", files: only("ListenAddress [::1\n"), errs: []string{l1 + "bad address:port usage"}},
	{name: "listen junk after bracket", files: only("ListenAddress [::1]x\n"), errs: []string{l1 + "bad address:port usage"}},
	{name: "listen missing address", files: only("ListenAddress \"\"\n"), errs: []string{l1 + "missing address"}},
	{name: "listen rdomain without name", files: only("ListenAddress 1.2.3.4 rdomain\n"), errs: []string{l1 + "bad ListenAddress syntax"}},
	{name: "listen bad second word", files: only("ListenAddress 1.2.3.4 domain lo\n"), errs: []string{l1 + "bad ListenAddress syntax"}},
	{name: "listen unknown rdomain", files: only("ListenAddress 1.2.3.4 rdomain nosuchvrf0\n"), errs: []string{l1 + "bad routing domain"}},
	{name: "listen rdomain %D", files: only("ListenAddress 1.2.3.4 rdomain %D\n"), errs: []string{l1 + "bad routing domain"}},
	{name: "listen rdomain lo", files: only("ListenAddress 0.0.0.0 rdomain lo\nListenAddress 127.0.0.1:23\n"),
		ports: []string{"22 default"}, listen: []string{"0.0.0.0:22 rdomain lo", "127.0.0.1:23"}},
	{name: "listen rdomain extra", files: only("ListenAddress 0.0.0.0 rdomain lo x\n"),
		errs: []string{l1 + "keyword ListenAddress extra arguments at end of line", mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "addressfamily inet", files: only("AddressFamily inet\nPort 2222\n"),
		ports: []string{"2222 " + mainCfg + ":2"}, af: "inet", listen: []string{"0.0.0.0:2222"}},
	{name: "addressfamily inet6", files: only("AddressFamily inet6\n"),
		ports: []string{"22 default"}, af: "inet6", listen: []string{"[::]:22"}},
	{name: "first addressfamily wins", files: only("AddressFamily inet6\nAddressFamily inet\n"),
		ports: []string{"22 default"}, af: "inet6", listen: []string{"[::]:22"}},
	{name: "addressfamily case", files: only("AddressFamily INET\n"),
		ports: []string{"22 default"}, af: "inet", listen: []string{"0.0.0.0:22"}},
	{name: "addressfamily bad", files: only("AddressFamily ipv4\n"), errs: []string{l1 + `unsupported option "ipv4".`}},
	{name: "inet with v6 listen", files: only("AddressFamily inet\nListenAddress ::1\n"),
		errs: []string{l2 + "bad addr or host: ::1 (Address family for hostname not supported)"}},
	{name: "inet after v6 listen", files: only("ListenAddress ::1\nAddressFamily inet\n"),
		errs: []string{l1 + "bad addr or host: ::1 (Address family for hostname not supported)"}},
	{name: "inet6 with v4 listen", files: only("AddressFamily inet6\nListenAddress 127.0.0.1:2\n"),
		errs: []string{l2 + "bad addr or host: 127.0.0.1 (Address family for hostname not supported)"}},

	{name: "listen rdomain groups", files: only("ListenAddress 10.1.1.1 rdomain lo\nListenAddress 127.0.0.1\nListenAddress 10.2.2.2:5 rdomain lo\n"),
		ports: []string{"22 default"}, listen: []string{"10.1.1.1:22 rdomain lo", "10.2.2.2:5 rdomain lo", "127.0.0.1:22"}},
	{name: "addressfamily extra argument", files: only("AddressFamily inet inet6\n"),
		errs: []string{l1 + "keyword AddressFamily extra arguments at end of line", mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "service names are case-sensitive", files: only("Port SSH\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "port with trailing space in quotes", files: only("Port \"22 \"\n"), errs: []string{l1 + "Badly formatted port number."}},
	{name: "match user with equals and quotes", files: only("Match User=\"bob smith\" Host h\nX11Forwarding no\nMatch all\nPort 5\n"),
		ports: []string{"5 " + mainCfg + ":4"}},
	{name: "match address checked after user", files: only("Match User bob Address 10.0.0.1/8\n"),
		errs: []string{l1 + "Invalid Match address argument '10.0.0.1/8'"}},
	{name: "match address mask too long", files: only("Match Address 10.0.0.0/33\n"),
		errs: []string{l1 + "Invalid Match address argument '10.0.0.0/33'"}},
	{name: "match address inet_aton host", files: only("Match Address 127.1/8\n"),
		errs: []string{l1 + "Invalid Match address argument '127.1/8'"}},
	{name: "match localaddress invalid", files: only("Match LocalAddress ::1/64\n"),
		errs: []string{l1 + "Invalid Match localaddress argument '::1/64'"}},
	{name: "match address empty entry", files: only("Match Address 10.0.0.0/8,\n"),
		errs: []string{l1 + "Invalid Match address argument '10.0.0.0/8,'"}},
	{name: "match localport service", files: only("Match LocalPort ssh\nX11Forwarding no\n"), ports: []string{"22 default"}},
	{name: "nested include under inactive match",
		files: map[string]string{mainCfg: "Match User bob\nInclude a.conf\n", "/etc/ssh/a.conf": "Include b.conf\n", "/etc/ssh/b.conf": "Match all\nPort 1\n"},
		errs:  []string{"/etc/ssh/b.conf line 2: Directive 'Port' is not allowed within a Match block"}},
	{name: "match all after include under inactive match",
		files: map[string]string{mainCfg: "Match User bob\nInclude a.conf\nMatch all\nPort 3\n", "/etc/ssh/a.conf": "Match all\nX11Forwarding no\n"},
		ports: []string{"3 " + mainCfg + ":4"}},
	{name: "glob classes", files: map[string]string{mainCfg: "Include /etc/ssh/[ab].conf /etc/ssh/?.cnf /etc/ssh/[!a].x\n",
		"/etc/ssh/a.conf": "Port 1\n", "/etc/ssh/b.conf": "Port 2\n", "/etc/ssh/c.conf": "Port 3\n",
		"/etc/ssh/z.cnf": "Port 4\n", "/etc/ssh/a.x": "Port 5\n", "/etc/ssh/b.x": "Port 6\n"},
		ports: []string{"1 /etc/ssh/a.conf:1", "2 /etc/ssh/b.conf:1", "4 /etc/ssh/z.cnf:1", "6 /etc/ssh/b.x:1"}},
	{name: "glob in directory part", files: map[string]string{mainCfg: "Include /etc/ssh/*/p.conf\n",
		"/etc/ssh/b/p.conf": "Port 2\n", "/etc/ssh/a/p.conf": "Port 1\n", "/etc/ssh/c/q.conf": "Port 3\n"},
		ports: []string{"1 /etc/ssh/a/p.conf:1", "2 /etc/ssh/b/p.conf:1"}},
	{name: "glob matching a directory", files: map[string]string{mainCfg: "Include /etc/ssh/d/*\nPort 9\n",
		"/etc/ssh/d/sub/": "", "/etc/ssh/d/x": "Port 8\n"},
		ports: []string{"8 /etc/ssh/d/x:1", "9 " + mainCfg + ":2"}},
	{name: "include escaped star", files: map[string]string{mainCfg: "Include /etc/ssh/\\*.conf\n",
		"/etc/ssh/*.conf": "Port 7\n", "/etc/ssh/a.conf": "Port 1\n"},
		ports: []string{"7 /etc/ssh/*.conf:1"}},
	{name: "form feed line", files: only("\f\n"),
		errs: []string{l1 + `no argument after keyword "\f"`, mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "unclosed quote in keyword ignored", files: only("\"Port 2222\n"), ports: []string{"22 default"}},

	{name: "listen v6 with zone", files: only("ListenAddress fe80::1%lo\nListenAddress [fe80::1%lo]:2222\n"),
		ports: []string{"22 default"}, listen: []string{"[fe80::1%lo]:22", "[fe80::1%lo]:2222"}},
	{name: "listen v6 with unknown zone", files: only("ListenAddress fe80::1%nosuch0\n"),
		errs: []string{l1 + "bad addr or host: fe80::1%nosuch0 (Name or service not known)"}},
	{name: "listen hex inet_aton", files: only("ListenAddress 0x7f.1:5\nListenAddress 4294967295\n"),
		ports: []string{"22 default"}, listen: []string{"127.0.0.1:5", "255.255.255.255:22"}},
	{name: "listen v4-mapped v6", files: only("ListenAddress ::ffff:127.0.0.1\n"),
		ports: []string{"22 default"}, listen: []string{"[::ffff:127.0.0.1]:22"}},

	// Keywords sshd does not know are warnings; sshd itself refuses them.
	{name: "unknown keyword", files: only("Port 2222\nFooBar yes\n"), ports: []string{"2222 " + mainCfg + ":1"},
		warnings: []string{l2 + "Bad configuration option: FooBar (unknown to OpenSSH; sshd refuses to start unless a vendor patch adds it)"},
		noOracle: "sshcfg warns where sshd refuses"},
	{name: "BOM", files: only("\ufeffPort 2222\n"), errs: []string{
		l1 + `Bad configuration option: \357\273\277Port (the file starts with a UTF-8 byte-order mark, which sshd does not accept: save it without one)`,
		mainCfg + ": terminating, 1 bad configuration options"}},
	{name: "deprecated keyword is known", files: only("UsePrivilegeSeparation sandbox\nPort 2\n"), ports: []string{"2 " + mainCfg + ":2"}},
	{name: "debian keyword is known", files: only("DebianBanner no\n"), ports: []string{"22 default"}},
}

func portStrings(ps []Port) []string {
	var out []string
	for _, p := range ps {
		if p.Default {
			out = append(out, fmt.Sprintf("%d default", p.Port))
			continue
		}
		out = append(out, fmt.Sprintf("%d %s:%d", p.Port, p.File, p.Line))
	}
	return out
}

func endpointStrings(eps []Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}

func errStrings(err error) []string {
	if err == nil {
		return nil
	}
	var el ErrorList
	if !errors.As(err, &el) {
		return []string{"not an ErrorList: " + err.Error()}
	}
	var out []string
	for _, e := range el {
		out = append(out, e.Error())
	}
	return out
}

// wantListen returns the endpoints a case expects.
func (tc loadCase) wantListen() []string {
	if tc.listen != nil || tc.errs != nil {
		return tc.listen
	}
	var out []string
	for _, p := range tc.ports {
		n, _, _ := strings.Cut(p, " ")
		switch tc.af {
		case "", "any":
			out = append(out, "[::]:"+n, "0.0.0.0:"+n)
		case "inet":
			out = append(out, "0.0.0.0:"+n)
		case "inet6":
			out = append(out, "[::]:"+n)
		}
	}
	return out
}

func TestLoad(t *testing.T) {
	for _, tc := range loadCases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == nil {
				opts = sshdNames
			}
			cfg, err := Load(mapFS(tc.files), mainCfg, opts)
			var diffs []string
			if got := errStrings(err); !reflect.DeepEqual(got, tc.errs) {
				diffs = append(diffs, fmt.Sprintf("errors:\n got %q\nwant %q", got, tc.errs))
			}
			if cfg == nil {
				t.Fatalf("Load returned a nil Config (err %v)", err)
			}
			var warns []string
			for _, w := range cfg.Warnings {
				warns = append(warns, w.Error())
			}
			if !reflect.DeepEqual(warns, tc.warnings) {
				diffs = append(diffs, fmt.Sprintf("warnings:\n got %q\nwant %q", warns, tc.warnings))
			}
			if tc.errs == nil {
				if got := portStrings(cfg.Ports); !reflect.DeepEqual(got, tc.ports) {
					diffs = append(diffs, fmt.Sprintf("ports:\n got %q\nwant %q", got, tc.ports))
				}
				af := tc.af
				if af == "" {
					af = "any"
				}
				if cfg.AddressFamily != af {
					diffs = append(diffs, fmt.Sprintf("addressfamily %q, want %q", cfg.AddressFamily, af))
				}
				if got := endpointStrings(cfg.Listen); !reflect.DeepEqual(got, tc.wantListen()) {
					diffs = append(diffs, fmt.Sprintf("listen:\n got %q\nwant %q", got, tc.wantListen()))
				}
				if cfg.Missing {
					diffs = append(diffs, "Missing is set")
				}
			}
			if len(diffs) > 0 {
				msg := strings.Join(diffs, "\n")
				if tc.bug != "" {
					t.Skipf("known difference from sshd (%s):\n%s", tc.bug, msg)
				}
				t.Errorf("%v\n%s", tc.files, msg)
			} else if tc.bug != "" {
				t.Errorf("the known bug %q is gone: remove the bug field", tc.bug)
			}
		})
	}
}

// TestLoadCasesAgainstSSHD confirms each case of TestLoad with the real
// `sshd -T`: same ports and endpoints, or a refusal naming the same line.
func TestLoadCasesAgainstSSHD(t *testing.T) {
	sshdtest.Require(t)
	for _, tc := range loadCases {
		if tc.noOracle != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			r := sshdtest.Run(t, dir, mainCfg)
			if tc.errs != nil {
				if !r.Refused() {
					t.Fatalf("sshd accepted what the case refuses: ports %v listen %v", r.Ports, r.Listen)
				}
				// Every line sshd names must be named by the case, in order.
				var ours []string
				for _, e := range tc.errs {
					if f, rest, ok := strings.Cut(e, " line "); ok {
						if n, _, ok := strings.Cut(rest, ": "); ok {
							ours = append(ours, f+":"+n)
						}
					}
				}
				if len(r.ErrLines) > 0 && !reflect.DeepEqual(r.ErrLines, ours) {
					t.Errorf("sshd names lines %q:\n%s\ncase names %q", r.ErrLines, r.Err, ours)
				}
				return
			}
			if r.Refused() {
				t.Fatalf("sshd refused what the case accepts:\n%s", r.Err)
			}
			var ports []string
			for _, p := range tc.ports {
				n, _, _ := strings.Cut(p, " ")
				ports = append(ports, n)
			}
			if got := fmt.Sprint(r.Ports); got != "["+strings.Join(ports, " ")+"]" {
				t.Errorf("sshd ports %s, case %v", got, ports)
			}
			var listen []string
			for i, l := range r.Listen {
				if r.ListenRDomain[i] != "" {
					l += " rdomain " + r.ListenRDomain[i]
				}
				listen = append(listen, l)
			}
			if !reflect.DeepEqual(listen, tc.wantListen()) {
				t.Errorf("sshd listen %q, case %q", listen, tc.wantListen())
			}
			af := tc.af
			if af == "" {
				af = "any"
			}
			if r.AddressFamily != af {
				t.Errorf("sshd addressfamily %q, case %q", r.AddressFamily, af)
			}
		})
	}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		host := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(host, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// denyFS refuses to read the files it names, as an unreadable file does
// for a user other than root.
type denyFS struct {
	fs.FS
	deny map[string]bool
}

func (d denyFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(d.FS, name) }

func (d denyFS) ReadFile(name string) ([]byte, error) {
	if d.deny[name] {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrPermission}
	}
	return fs.ReadFile(d.FS, name)
}

func (d denyFS) Open(name string) (fs.File, error) {
	if d.deny[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.FS.Open(name)
}

// TestLoadRoot loads image trees on disk through Root: symlinks resolve
// inside the image and never reach the host's files.
func TestLoadRoot(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		links    map[string]string
		fifo     string
		deny     string // fs.FS name made unreadable
		ports    []string
		missing  bool
		files2   []string // Config.Files paths
		errs     []string
		warnings int
	}{
		{name: "absolute symlink resolves inside the root",
			files: map[string]string{"/etc/ssh/real": "Port 2022\n"},
			links: map[string]string{"/etc/ssh/sshd_config": "/etc/ssh/real"},
			ports: []string{"2022 " + mainCfg + ":1"}, files2: []string{mainCfg}},
		{name: "relative escape is clamped at the root",
			links: map[string]string{"/etc/ssh/sshd_config": "../../../../etc/passwd"},
			ports: []string{"22 default"}, missing: true},
		{name: "absolute escape stays in the root",
			links: map[string]string{"/etc/ssh/sshd_config": "/etc/passwd"},
			ports: []string{"22 default"}, missing: true},
		{name: "include climbing out reads the image's file",
			files: map[string]string{mainCfg: "Include ../../../../../etc/passwd\n", "/etc/passwd": "Port 4444\n"},
			// sshd names the file as glob(3) returns it: the pattern, uncleaned.
			ports: []string{"4444 /etc/ssh/../../../../../etc/passwd:1"}, files2: []string{mainCfg, "/etc/ssh/../../../../../etc/passwd"}},
		{name: "include through a directory link",
			files: map[string]string{mainCfg: "Include /etc/ssh/sshd_config.d/*.conf\n", "/opt/drop/a.conf": "Port 2\n"},
			links: map[string]string{"/etc/ssh/sshd_config.d": "/../../opt/drop"},
			ports: []string{"2 /etc/ssh/sshd_config.d/a.conf:1"}, files2: []string{mainCfg, "/etc/ssh/sshd_config.d/a.conf"}},
		{name: "include of a dangling link",
			files: map[string]string{mainCfg: "Include /etc/ssh/dl.conf\n"},
			links: map[string]string{"/etc/ssh/dl.conf": "/nonexistent"},
			errs:  []string{l1 + "Include /etc/ssh/dl.conf: no such file or directory"}},
		{name: "missing main file", ports: []string{"22 default"}, missing: true},
		{name: "main file is a directory (sshd reads nothing)",
			files: map[string]string{"/etc/ssh/sshd_config/": ""}, ports: []string{"22 default"}},
		{name: "binary main file", files: map[string]string{mainCfg: "Port 1\x00\nPort 2\n"},
			errs: []string{l1 + "binary file (contains NUL bytes)"}},
		{name: "binary included file", files: map[string]string{mainCfg: "Port 5\nInclude bin.conf\n", "/etc/ssh/bin.conf": "\n\x00"},
			errs: []string{l2 + "Include /etc/ssh/bin.conf: binary file (contains NUL bytes)"}},
		{name: "main file is a fifo", fifo: mainCfg, errs: []string{mainCfg + ": not a regular file"}},
		{name: "unreadable main file", files: map[string]string{mainCfg: "Port 1\n"}, deny: "etc/ssh/sshd_config",
			errs: []string{mainCfg + ": permission denied"}},
		// Root may read it: a warning that the answer is partial (see
		// TestIncludeUnreadable), not sshd's fatal error.
		{name: "unreadable included file", files: map[string]string{mainCfg: "Include x.conf\n", "/etc/ssh/x.conf": "Port 1\n"},
			deny: "etc/ssh/x.conf", ports: []string{"22 default"}, files2: []string{mainCfg}, warnings: 1},
		{name: "symlink loop as main file", links: map[string]string{"/etc/ssh/sshd_config": "sshd_config"},
			errs: []string{mainCfg + ": " + syscall.ELOOP.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := rootTree(t, tt.files, tt.links)
			if tt.fifo != "" {
				p := filepath.Join(dir, filepath.FromSlash(tt.fifo))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var fsys fs.FS = rootfstest.Open(t, dir)
			if tt.deny != "" {
				fsys = denyFS{fsys, map[string]bool{tt.deny: true}}
			}
			cfg, err := Load(fsys, mainCfg, nil)
			if got := errStrings(err); !reflect.DeepEqual(got, tt.errs) {
				t.Fatalf("errors %q, want %q", got, tt.errs)
			}
			if tt.errs != nil {
				return
			}
			if got := portStrings(cfg.Ports); !reflect.DeepEqual(got, tt.ports) {
				t.Errorf("ports %q, want %q", got, tt.ports)
			}
			if cfg.Missing != tt.missing {
				t.Errorf("Missing = %v", cfg.Missing)
			}
			var paths []string
			for _, f := range cfg.Files {
				paths = append(paths, f.Path)
			}
			if !reflect.DeepEqual(paths, tt.files2) {
				t.Errorf("Files %q, want %q", paths, tt.files2)
			}
			if len(cfg.Warnings) != tt.warnings {
				t.Errorf("warnings %v", cfg.Warnings)
			}
			if want := []string{"[::]:22", "0.0.0.0:22"}; tt.missing && !reflect.DeepEqual(endpointStrings(cfg.Listen), want) {
				t.Errorf("listen %q, want %q", endpointStrings(cfg.Listen), want)
			}
		})
	}
}
