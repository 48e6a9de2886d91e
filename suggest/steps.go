package suggest

import (
	"fmt"
	"io/fs"
)

// StepFacts is what NextSteps needs to know about a suggestion and the
// system (or image) it is for.
type StepFacts struct {
	Port       int   // the new port
	Ports      []int // every port sshd will listen on (more than one with --keep-old)
	Changed    bool  // the configuration changes
	Applied    bool  // the change was written
	Compromise bool  // the port gives something up (see the Why)
	Forced     bool  // --port with --force
	Image      bool  // an offline image (--root), not the running system
	// Command runs sshport again on the same configuration, e.g.
	// "sshport --root /img -f /etc/ssh/other_config".
	Command string
	// PatchDir is the directory `patch -p1` applies the diff in.
	PatchDir string
	Traits   Traits
}

// Traits are the parts of the system that decide how to open a port.
type Traits struct {
	UFW       bool // /usr/sbin/ufw
	Firewalld bool // /usr/bin/firewall-cmd
	SELinux   bool // /etc/selinux/config
	SSHSocket bool // an ssh.socket unit (socket activation)
}

// ReadTraits looks for Traits in fsys, the system's "/" (names such as
// "usr/sbin/ufw").
func ReadTraits(fsys fs.FS) Traits {
	has := func(name string) bool {
		_, err := fs.Stat(fsys, name)
		return err == nil
	}
	return Traits{
		UFW:       has("usr/sbin/ufw"),
		Firewalld: has("usr/bin/firewall-cmd"),
		SELinux:   has("etc/selinux/config"),
		SSHSocket: has("lib/systemd/system/ssh.socket") || has("usr/lib/systemd/system/ssh.socket") || has("etc/systemd/system/ssh.socket"),
	}
}

// NextSteps lists what to do so that moving the port does not lock anyone
// out, tailored to f. Nothing to do when nothing changes.
func NextSteps(f StepFacts) []string {
	if !f.Changed {
		return []string{}
	}
	n := f.Port
	var s []string
	if !f.Applied {
		flags := ""
		if len(f.Ports) > 1 {
			flags = " --keep-old"
		}
		if f.Compromise || f.Forced {
			flags += " --force"
		}
		s = append(s, fmt.Sprintf("review the diff, then apply it: %s suggest --port %d%s --apply  (or: patch -d %s -p1 < port.diff)", f.Command, n, flags, f.PatchDir))
	}
	s = append(s, "keep this session open until a new login on the new port works")
	fw := fmt.Sprintf("open %d/tcp in the firewall BEFORE reloading sshd", n)
	switch {
	case f.Traits.UFW:
		fw += fmt.Sprintf(": ufw allow %d/tcp", n)
	case f.Traits.Firewalld:
		fw += fmt.Sprintf(": firewall-cmd --permanent --add-port=%d/tcp && firewall-cmd --reload", n)
	default:
		fw += fmt.Sprintf(" (nftables: nft add rule inet filter input tcp dport %d accept), and in any cloud security group", n)
	}
	s = append(s, fw)
	if f.Traits.SELinux {
		s = append(s, fmt.Sprintf("SELinux: allow sshd to bind it: semanage port -a -t ssh_port_t -p tcp %d", n))
	}
	if f.Traits.SSHSocket {
		s = append(s, "systemd socket activation (ssh.socket): the socket, not sshd, holds the port: systemctl daemon-reload && systemctl restart ssh.socket (Ubuntu 22.10+ regenerates ListenStream from sshd_config; elsewhere edit ListenStream in a drop-in: systemctl edit ssh.socket)")
	}
	if f.Image {
		return append(s, "the image's sshd takes the new port when it next starts; validate there first: sshd -t",
			fmt.Sprintf("after booting it, log in with: ssh -p %d USER@HOST", n))
	}
	s = append(s, "validate: sshd -t", "reload sshd (this does not drop open sessions): systemctl reload ssh  (RHEL/Fedora: systemctl reload sshd)")
	return append(s, fmt.Sprintf("test from another terminal: ssh -p %d USER@HOST; then close the old port in the firewall", n))
}
