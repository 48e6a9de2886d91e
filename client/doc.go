// Package client edits ssh_config and known_hosts so clients follow a moved
// port.
//
// It reads a client configuration (~/.ssh/config or /etc/ssh/ssh_config and
// the files it includes) the way ssh(1) does: lines split as
// misc.c's strdelim and argv_split split them (package sshcfg's syntax
// layer, which keeps every byte), blocks and key/value lines as the
// github.com/kevinburke/ssh_config library reads them, Host patterns with
// '*', '?' and '!' as match.c matches them, Includes relative to ~/.ssh (or
// /etc/ssh for the system file), and the first obtained value wins. Match
// blocks are not evaluated (the library knows only "Match host" and
// "Match all", and even those not as ssh does): a setting inside one is
// reported as possibly deciding, and callers refuse to guess.
//
// PlanPort finds the line that decides ssh's port for an alias and makes
// the smallest edit that sets it: the value of that Port line when its
// block is the alias's own, otherwise a new "Host ALIAS" block placed
// before the block that would win. PlanKnownHosts copies the host keys
// already trusted for the alias to the names ssh looks up on the new port.
// Both return whole-file changes; writing them is the caller's business.
package client
