//go:build !linux

package checker

// sshdSeeds knows no process table outside Linux.
type sshdSeeds struct{}

func readSSHDSeeds([]string) *sshdSeeds { return nil }

func (*sshdSeeds) daemons() []int { return nil }

// findSSHD knows no process table outside Linux: Facts.SSHD stays empty and
// every sshd listener counts as this configuration's.
func findSSHD(*Facts, *sshdSeeds) {}
