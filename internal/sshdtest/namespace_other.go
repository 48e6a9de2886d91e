//go:build !linux

package sshdtest

import (
	"errors"
	"syscall"
)

// privateMounts: other systems have no unshare(CLONE_NEWNS), so the oracle
// cannot bind a tree over /etc/ssh there.
func privateMounts() (*syscall.SysProcAttr, error) {
	return nil, errors.New("sshdtest: " + namespacesMissing)
}

const namespacesMissing = "running sshd in a private mount namespace needs Linux"
