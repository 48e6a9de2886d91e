package checker

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
)

// procDir is /proc; tests of the finder point it elsewhere.
var procDir = "/proc"

// sshdSeeds are the pids sshd's PidFile and the ssh/sshd.service cgroups
// name, read before the listeners' owners are looked up so that the sshd
// daemons among them are looked at first.
type sshdSeeds struct {
	pids  []int
	units map[int]string       // pid -> the unit whose cgroup holds it
	procs map[int]*SSHDProcess // pid -> the daemon, nil when not one (read once)
}

func readSSHDSeeds(pidFiles []string) *sshdSeeds {
	s := &sshdSeeds{units: map[int]string{}, procs: map[int]*SSHDProcess{}}
	for _, pf := range pidFiles {
		if b, err := os.ReadFile(pf); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				s.pids = append(s.pids, p)
			}
		}
	}
	for _, unit := range []string{"ssh.service", "sshd.service"} {
		for _, cg := range []string{"/sys/fs/cgroup/system.slice/", "/sys/fs/cgroup/systemd/system.slice/"} {
			b, err := os.ReadFile(cg + unit + "/cgroup.procs")
			if err != nil {
				continue
			}
			for _, w := range strings.Fields(string(b)) {
				if p, err := strconv.Atoi(w); err == nil && p > 0 {
					s.pids = append(s.pids, p)
					s.units[p] = unit
				}
			}
			break
		}
	}
	return s
}

// daemons returns the seeds that are sshd daemons.
func (s *sshdSeeds) daemons() []int {
	var out []int
	for _, pid := range s.pids {
		if s.daemon(pid) != nil {
			out = append(out, pid)
		}
	}
	return out
}

// daemon returns pid's daemon, or nil when pid is not an sshd daemon.
func (s *sshdSeeds) daemon(pid int) *SSHDProcess {
	if p, ok := s.procs[pid]; ok {
		return p
	}
	var p *SSHDProcess
	dir := procDir + "/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(dir + "/comm")
	if err == nil && string(bytes.TrimSpace(comm)) == "sshd" {
		if raw, err := os.ReadFile(dir + "/cmdline"); err == nil && len(raw) > 0 {
			if argv, ok := daemonArgv(raw); ok {
				p = &SSHDProcess{PID: pid, Argv: argv, Unit: s.units[pid]}
			}
		}
	}
	s.procs[pid] = p
	return p
}

// findSSHD fills f.SSHD with the running sshd daemons: the owners named
// sshd of the listeners already looked up and the seeds (sshd's PidFile,
// the ssh/sshd.service cgroups). Each one's listening sockets get it as
// owner. It does not walk every process: an sshd with PidFile none,
// outside those cgroups and not listening on a port asked about is not
// found.
func findSSHD(f *Facts, s *sshdSeeds) {
	var pids []int
	for _, l := range f.Listeners {
		if l.Process == "sshd" && l.PID > 0 {
			pids = append(pids, l.PID)
		}
	}
	pids = append(pids, s.pids...)
	addSSHD(f, pids, s)
}

// addSSHD records the sshd daemons among pids.
func addSSHD(f *Facts, pids []int, s *sshdSeeds) {
	slices.Sort(pids)
	pids = slices.Compact(pids)
	var sc fdScanner
	for _, pid := range pids {
		p := s.daemon(pid)
		if p == nil || slices.ContainsFunc(f.SSHD, func(q SSHDProcess) bool { return q.PID == pid }) {
			continue
		}
		f.SSHD = append(f.SSHD, *p)
		markSockets(f, pid, procDir+"/"+strconv.Itoa(pid)+"/fd", &sc)
	}
}

// markSockets makes pid the owner of the listeners whose socket it holds.
func markSockets(f *Facts, pid int, fdDir string, sc *fdScanner) {
	_ = sc.sockets(fdDir, 0, func(ino uint64) bool {
		for i := range f.Listeners {
			if l := &f.Listeners[i]; l.Inode == ino && (l.PID == 0 || l.Process != "systemd") {
				l.PID, l.Process = pid, "sshd"
			}
		}
		return true
	})
}

// daemonArgv returns the command line of an sshd daemon from its
// /proc/PID/cmdline, or false for an sshd that is not the listening daemon.
// sshd 8.2 and later retitle the daemon "sshd: ARGV... [listener] 0 of
// 10-100 startups" (the original words, joined by spaces); sessions are
// "sshd: alice [priv]" and the like; a per-connection sshd runs with -i,
// a re-executed child with -R; -t, -T and -G only test a configuration.
func daemonArgv(raw []byte) ([]string, bool) {
	argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	if t, ok := strings.CutPrefix(strings.Join(argv, " "), "sshd: "); ok {
		i := strings.Index(t, " [listener]")
		if i < 0 {
			return nil, false
		}
		argv = strings.Fields(t[:i])
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, false
	}
	for _, a := range argv[1:] {
		// -t, -T, -G: a test run, not a daemon.
		switch a {
		case "-i", "-R", "-t", "-T", "-G", "-V":
			return nil, false
		}
	}
	return argv, true
}
