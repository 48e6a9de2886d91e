package checker

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/sshport/sshport/internal/rootfs"
)

// LinuxDefaultEphemeral is Linux's default ip_local_port_range.
var LinuxDefaultEphemeral = Range{32768, 60999}

func probe(ctx context.Context, req Request) (Facts, error) {
	f := Facts{OS: runtime.GOOS}
	if req.Root.Image() {
		f.OS = "linux"
		readImageEphemeral(&f, req.Root)
	} else {
		osEphemeral(&f)
	}
	if err := ctx.Err(); err != nil {
		return f, err
	}
	if req.Root.Image() && !req.Live {
		f.ListenMethod = MethodSkipped
		f.Notes = append(f.Notes, "the sockets of this host are not the image's: in-use check skipped")
		return f, nil
	}
	if err := osListeners(&f, req.Method); err != nil {
		return f, err
	}
	if err := ctx.Err(); err != nil {
		return f, err
	}
	if f.ListenMethod != MethodBind {
		// sshd's daemons are read first: their sockets are looked for
		// before any other process's.
		var seeds *sshdSeeds
		var first []int
		if req.SSHD {
			seeds = readSSHDSeeds(req.PIDFiles)
			first = seeds.daemons()
		}
		if len(req.Owners) > 0 {
			findOwners(&f, req.Owners, first)
		}
		if req.SSHD {
			findSSHD(&f, seeds)
		}
	}
	if req.Families && !req.Root.Image() {
		f.HostFamilies = hostFamilies()
	}
	if len(req.Bind) > 0 {
		f.Probes = bindProbe(req.Bind)
	}
	return f, ctx.Err()
}

// readImageEphemeral reads an image's Linux ephemeral range and reserved
// ports through root, or says it uses Linux's default.
func readImageEphemeral(f *Facts, root *rootfs.Root) {
	const dir = "/proc/sys/net/ipv4"
	if readLinuxEphemeral(f, root, dir, root.HostPath(dir)) {
		return
	}
	f.Ephemeral = LinuxDefaultEphemeral
	f.EphemeralSource = "Linux default; not read from the image"
	f.Notes = append(f.Notes, fmt.Sprintf("the image has no %s: ephemeral range %s is Linux's default, not read from the image", filepath.Join(root.HostPath(dir), "ip_local_port_range"), LinuxDefaultEphemeral))
}

// readLinuxEphemeral reads ip_local_port_range and ip_local_reserved_ports
// in dir of fsys; shown is dir as messages name it. It reports false when
// the range cannot be read.
func readLinuxEphemeral(f *Facts, fsys fs.FS, dir, shown string) bool {
	name := filepath.Join(shown, "ip_local_port_range")
	b, err := fs.ReadFile(fsys, path.Join(dir, "ip_local_port_range"))
	if err != nil {
		return false
	}
	r, err := parseLinuxRange(string(b))
	if err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", name, err))
		return false
	}
	f.Ephemeral, f.EphemeralSource = r, name
	res := filepath.Join(shown, "ip_local_reserved_ports")
	if b, err := fs.ReadFile(fsys, path.Join(dir, "ip_local_reserved_ports")); err == nil {
		if f.Reserved, err = ParseRanges(string(b)); err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("%s: %v", res, err))
		}
	}
	return true
}

func parseLinuxRange(s string) (Range, error) {
	w := strings.Fields(s)
	if len(w) != 2 {
		return Range{}, fmt.Errorf("want two numbers, have %q", strings.TrimSpace(s))
	}
	lo, err1 := strconv.Atoi(w[0])
	hi, err2 := strconv.Atoi(w[1])
	r := Range{lo, hi}
	if err1 != nil || err2 != nil || !r.Valid() {
		return Range{}, fmt.Errorf("bad range %q", strings.TrimSpace(s))
	}
	return r, nil
}

func ianaFallback(f *Facts, why string) {
	f.Ephemeral = IANADynamic
	f.EphemeralSource = "IANA dynamic range; the OS range could not be read"
	f.Notes = append(f.Notes, "ephemeral range unknown ("+why+"): assuming IANA's 49152-65535")
}

func errMethod(m string) error {
	return fmt.Errorf("listing method %q is not available on %s", m, runtime.GOOS)
}

// hostFamilies lists the families of the host's addresses other than
// loopback and link-local ones; nil when they cannot be read.
func hostFamilies() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := []string{}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		fam := "inet6"
		if ip.Is4() {
			fam = "inet"
		}
		if !slices.Contains(out, fam) {
			out = append(out, fam)
		}
	}
	return out
}
