// Package sshcfg reads and edits OpenSSH server configuration (sshd_config)
// the way sshd reads it.
//
// It has two layers. The syntax layer (File, Line) keeps every byte of every
// file, so that printing a parsed file gives back its input exactly and an
// edit rewrites only the Port lines it must. The meaning layer (Load, Config)
// follows Include, Match and Port accumulation as sshd does and points each
// effective setting back to the file and line it came from.
package sshcfg
