// Package checker classifies SSH port candidates: IANA range and assignment,
// the operating system's ephemeral range, addresses already in use, and
// duplicates. Host facts are gathered once by a [Prober] (netlink sock_diag,
// /proc or sysctl, a bind probe) and judged by the pure [Check] and [Screen].
//
// [ReadService] reads, from a system's files (an fs.FS rooted at its "/"),
// how sshd is started: systemd units and drop-ins, the socket unit and its
// generator, the sshd options of ExecStart or rc.conf ([ServiceFacts]).
// [Live] tells this configuration's sshd from another among the running
// daemons ([Facts.SSHD]); [RunningFindings] and [FamilyFindings] judge the
// live picture.
//
// Everything about sockets is per network namespace: a prober sees only the
// listeners of the namespace it runs in, and a bind probe binds in that
// namespace too.
package checker

//go:generate go run ./internal/gen -in ../../shared/data/iana/service-names-port-numbers.xml -out iana_table.go
