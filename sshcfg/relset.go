package sshcfg

//go:generate sh -c "go run ./internal/genalgs -git \"${OPENSSH_PORTABLE_GIT:?set OPENSSH_PORTABLE_GIT to a clone of openssh-portable}\" -o algorithms_table.go"

// relSet is a set of OpenSSH releases: bit i stands for releaseNames[i].
type relSet uint64
