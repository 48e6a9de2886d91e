// Package hostenv reads what surrounds sshd on a system, the things that
// decide whether a new SSH port is reachable once sshd listens on it: the
// service manager and sshd's units (socket activation, the Ubuntu socket
// generator, -p and -f in ExecStart), the firewall in use, SELinux, and
// fail2ban's jails.
//
// Everything is read through an fs.FS rooted at the system's "/" (names like
// "etc/ufw/ufw.conf"), so an offline image and the live system are read by
// the same code; the few facts only a running system has (the live nftables
// ruleset, SELinux's port types) come from a Runner, asked only when Live.
// Like checker and sshcfg, it imports nothing of the project.
package hostenv
