package main

import (
	"errors"
	"fmt"

	"github.com/sshport/sshport/sshcfg"
)

// refusal words a configuration sshd would refuse: sshd's messages with
// file and line, then what it means and for which OpenSSH it was judged.
func refusal(cfg *sshcfg.Config, err error) error {
	var list sshcfg.ErrorList
	if !errors.As(err, &list) || cfg == nil {
		return err
	}
	return fmt.Errorf("%w\nsshd will not start with this file (judged for %s)", err, opensshNote(cfg.OpenSSH))
}

// opensshNote says which OpenSSH a config was judged for and why.
func opensshNote(o sshcfg.OpenSSH) string {
	switch {
	case o.Assumed():
		return fmt.Sprintf("OpenSSH %s, the newest sshport knows: no installed version found; use --openssh VERSION", o.Version)
	case o.Source == "--openssh":
		return fmt.Sprintf("OpenSSH %s, as --openssh says", o.Version)
	}
	return fmt.Sprintf("OpenSSH %s, from %s: %s", o.Version, o.Source, o.Found)
}
