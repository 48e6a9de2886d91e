package sshcfg

//go:generate go run ./internal/genalgs -git $OPENSSH_PORTABLE_GIT -o algorithms_table.go

// relSet is a set of OpenSSH releases: bit i stands for releaseNames[i].
type relSet uint64
