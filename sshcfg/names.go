package sshcfg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// Resolver answers the name lookups sshd makes while it reads its
// configuration: getservbyname for a Port, ListenAddress or Match LocalPort
// value that is not a number, getaddrinfo for a ListenAddress host name.
//
// FilesResolver answers from a system's own tables (an image's etc/services
// and etc/hosts) and sends no query anywhere; SystemResolver is the running
// machine's resolver, DNS included.
type Resolver interface {
	// Service returns the port of a TCP service name, as
	// getservbyname(name, "tcp") does (names are case-sensitive).
	Service(name string) (port int, ok bool)
	// Host returns the addresses getaddrinfo gives a ListenAddress host
	// name when sshd asks for family ("any", "inet" or "inet6"), in
	// order. Numeric addresses never reach it. The error's text is what
	// sshd prints in parentheses after "bad addr or host: NAME".
	Host(name, family string) ([]netip.Addr, error)
}

// getaddrinfo's error texts (gai_strerror).
var (
	errNoName = errors.New("Name or service not known")
	errAgain  = errors.New("Temporary failure in name resolution")
)

// FilesResolver answers from the tables of the system fsys holds (its "/"):
// etc/services for service names, and etc/hosts for host names as glibc's
// "files" source reads it ("multi on" in etc/host.conf returns every line
// that names the host, else only the first). The "hosts:" line of
// etc/nsswitch.conf gives the order of sources and its [STATUS=ACTION]
// items are obeyed; without that line the order is "files dns" (musl's
// fixed order, and every distribution's nsswitch.conf). Sources other than
// "files" (dns, resolve, myhostname, mdns..., nis) are asked to other, the
// running machine's resolver, when other is not nil; when it is nil they
// count as unavailable, as on a machine without network, and no query
// leaves this process.
func FilesResolver(fsys fs.FS, other Resolver) Resolver {
	return &filesResolver{fsys: fsys, other: other}
}

type filesResolver struct {
	fsys  fs.FS
	other Resolver

	once     sync.Once
	services func(string) (int, bool)
	hosts    []byte
	noHosts  bool // etc/hosts could not be read: the files source is unavailable
	sources  []nssSource
	multi    bool
}

func (r *filesResolver) load() {
	r.once.Do(func() {
		data, _ := fs.ReadFile(r.fsys, "etc/services")
		r.services = ServicesFromFile(data)
		hosts, err := fs.ReadFile(r.fsys, "etc/hosts")
		r.hosts, r.noHosts = hosts, err != nil
		nss, _ := fs.ReadFile(r.fsys, "etc/nsswitch.conf")
		r.sources = nssHosts(nss)
		conf, _ := fs.ReadFile(r.fsys, "etc/host.conf")
		r.multi = hostConfMulti(conf)
	})
}

func (r *filesResolver) Service(name string) (int, bool) {
	r.load()
	return r.services(name)
}

func (r *filesResolver) Host(name, family string) ([]netip.Addr, error) {
	r.load()
	askedOther, askedFiles, skipped := false, false, []string{}
	last := nssUnavail // getaddrinfo's error follows the last source asked
	for _, src := range r.sources {
		var st nssStatus
		var addrs []netip.Addr
		switch {
		case src.name == "files":
			askedFiles = true
			if r.noHosts {
				st = nssUnavail
				break
			}
			addrs = hostsFileLookup(r.hosts, name, family, r.multi)
			st = nssNotFound
			if len(addrs) > 0 {
				st = nssSuccess
			}
		case r.other == nil:
			skipped = append(skipped, src.name)
			st = nssUnavail
		case askedOther:
			// The machine's resolver was asked already; it stands
			// for every source but files.
			continue
		default:
			askedOther = true
			var err error
			if addrs, err = r.other.Host(name, family); err == nil && len(addrs) > 0 {
				st = nssSuccess
			} else if errors.Is(err, errNoName) {
				st = nssNotFound
			} else {
				st = nssUnavail
			}
		}
		if st == nssSuccess {
			return addrs, nil
		}
		last = st
		if src.action(st) == nssReturn {
			break
		}
	}
	err := errAgain
	if last == nssNotFound {
		err = errNoName
	}
	where := "not in /etc/hosts"
	switch {
	case !askedFiles:
		where = "the hosts line of /etc/nsswitch.conf does not ask files"
	case r.noHosts:
		where = "no readable /etc/hosts"
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%w: %s, and sshport asks no %s source unless --resolve is given", err, where, strings.Join(skipped, "/"))
	}
	return nil, fmt.Errorf("%w: %s", err, where)
}

// hostsFileLookup returns what glibc's files source gives name for family:
// the address of every line naming it (multi on) or of the first such line
// (multi off), in file order. For "inet" the line "::1" stands for
// 127.0.0.1 and other IPv6 lines do not count; for "inet6" IPv4 lines do
// not count.
func hostsFileLookup(data []byte, name, family string, multi bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range HostsLookup(data, name) {
		switch family {
		case "inet":
			if a == netip.IPv6Loopback() {
				a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
			}
			a = a.Unmap()
			if !a.Is4() {
				continue
			}
		case "inet6":
			if a.Is4() {
				continue
			}
		}
		out = append(out, a)
		if !multi {
			break
		}
	}
	return out
}

type nssStatus int

const (
	nssSuccess nssStatus = iota
	nssNotFound
	nssUnavail
	nssTryAgain
)

type nssAction int

const (
	nssContinue nssAction = iota
	nssReturn
)

type nssSource struct {
	name    string
	actions map[nssStatus]nssAction // set by [STATUS=ACTION] after the name
}

// action is what nsswitch does after this source ended with st: return on
// success, go on otherwise, unless the line says differently.
func (s nssSource) action(st nssStatus) nssAction {
	if a, ok := s.actions[st]; ok {
		return a
	}
	if st == nssSuccess {
		return nssReturn
	}
	return nssContinue
}

var nssStatusNames = map[string]nssStatus{"success": nssSuccess, "notfound": nssNotFound, "unavail": nssUnavail, "tryagain": nssTryAgain}

// nssHosts parses the "hosts:" line of an nsswitch.conf (the last one, as
// glibc reads it); without one the sources are "files dns".
func nssHosts(data []byte) []nssSource {
	var line string
	found := false
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		db, rest, ok := strings.Cut(l, ":")
		if ok && strings.TrimSpace(db) == "hosts" {
			line, found = rest, true
		}
	}
	if !found {
		return []nssSource{{name: "files"}, {name: "dns"}}
	}
	var out []nssSource
	for rest := strings.TrimSpace(line); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				break // glibc ignores the rest of a malformed line
			}
			if len(out) > 0 {
				src := &out[len(out)-1]
				if src.actions == nil {
					src.actions = map[nssStatus]nssAction{}
				}
				for _, item := range strings.Fields(rest[1:end]) {
					k, v, ok := strings.Cut(item, "=")
					if !ok {
						continue
					}
					not := strings.HasPrefix(k, "!")
					st, known := nssStatusNames[strings.ToLower(strings.TrimPrefix(k, "!"))]
					if !known {
						continue
					}
					act := nssContinue
					if strings.EqualFold(v, "return") {
						act = nssReturn
					}
					if !not {
						src.actions[st] = act
						continue
					}
					for _, other := range []nssStatus{nssSuccess, nssNotFound, nssUnavail, nssTryAgain} {
						if other != st {
							src.actions[other] = act
						}
					}
				}
			}
			rest = rest[end+1:]
			continue
		}
		end := strings.IndexAny(rest, " \t[")
		if end < 0 {
			end = len(rest)
		}
		out = append(out, nssSource{name: rest[:end]})
		rest = rest[end:]
	}
	return out
}

// hostConfMulti reads "multi on|off" from a host.conf (glibc's default is
// off, Debian's file says on).
func hostConfMulti(data []byte) bool {
	multi := false
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) >= 2 && strings.EqualFold(f[0], "multi") {
			multi = strings.EqualFold(f[1], "on")
		}
	}
	return multi
}

// SystemResolver is the running machine's resolver, as the live sshd uses
// it: /etc/services, /etc/hosts, then the system resolver (DNS), each
// lookup bounded to a few seconds.
func SystemResolver() Resolver { return systemResolver{} }

type systemResolver struct{}

var (
	systemServicesOnce sync.Once
	systemServices     func(string) (int, bool)
)

func (systemResolver) Service(name string) (int, bool) {
	systemServicesOnce.Do(func() {
		data, _ := os.ReadFile("/etc/services")
		systemServices = ServicesFromFile(data)
	})
	return systemServices(name)
}

func (systemResolver) Host(name, family string) ([]netip.Addr, error) {
	if data, err := os.ReadFile("/etc/hosts"); err == nil {
		if addrs := HostsLookup(data, name); len(addrs) > 0 {
			return addrs, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	network := map[string]string{"inet": "ip4", "inet6": "ip6"}[family]
	if network == "" {
		network = "ip"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, name)
	var de *net.DNSError
	switch {
	case err == nil && len(addrs) > 0:
	case err == nil, errors.As(err, &de) && de.IsNotFound:
		return nil, errNoName
	default:
		return nil, errAgain
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}
