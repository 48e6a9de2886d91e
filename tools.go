//go:build tools

// Package main pins the project's planned dependencies in go.mod while the
// packages that use them are being written. Removed once they are imported.
package main

import (
	_ "github.com/google/renameio/v2"
	_ "github.com/kevinburke/ssh_config"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)
