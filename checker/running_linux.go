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

// findSSHD fills f.SSHD with the running sshd daemons: the owners named
// sshd of the listeners already looked up, the pids in pidFiles (sshd's
// PidFile) and in the ssh/sshd.service cgroups. Each one's listening
// sockets get it as owner. It does not walk every process: an sshd with
// PidFile none, outside those cgroups and not listening on a port asked
// about is not found.
func findSSHD(f *Facts, pidFiles []string) {
	var pids []int
	units := map[int]string{}
	for _, l := range f.Listeners {
		if l.Process == "sshd" && l.PID > 0 {
			pids = append(pids, l.PID)
		}
	}
	for _, pf := range pidFiles {
		if b, err := os.ReadFile(pf); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				pids = append(pids, p)
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
					pids = append(pids, p)
					units[p] = unit
				}
			}
			break
		}
	}
	addSSHD(f, pids, units)
}

// addSSHD records the sshd daemons among pids.
func addSSHD(f *Facts, pids []int, units map[int]string) {
	slices.Sort(pids)
	pids = slices.Compact(pids)
	for _, pid := range pids {
		dir := procDir + "/" + strconv.Itoa(pid)
		comm, err := os.ReadFile(dir + "/comm")
		if err != nil || string(bytes.TrimSpace(comm)) != "sshd" {
			continue
		}
		raw, err := os.ReadFile(dir + "/cmdline")
		if err != nil || len(raw) == 0 {
			continue
		}
		argv, ok := daemonArgv(raw)
		if !ok {
			continue
		}
		if slices.ContainsFunc(f.SSHD, func(p SSHDProcess) bool { return p.PID == pid }) {
			continue
		}
		f.SSHD = append(f.SSHD, SSHDProcess{PID: pid, Argv: argv, Unit: units[pid]})
		markSockets(f, pid, dir+"/fd")
	}
}

// markSockets makes pid the owner of the listeners whose socket it holds.
func markSockets(f *Facts, pid int, fdDir string) {
	d, err := os.Open(fdDir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		link, err := os.Readlink(fdDir + "/" + n)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		ino, err := strconv.ParseUint(strings.TrimSuffix(link[len("socket:["):], "]"), 10, 64)
		if err != nil {
			continue
		}
		for i := range f.Listeners {
			if l := &f.Listeners[i]; l.Inode == ino && (l.PID == 0 || l.Process != "systemd") {
				l.PID, l.Process = pid, "sshd"
			}
		}
	}
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
