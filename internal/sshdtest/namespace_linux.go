package sshdtest

import "syscall"

// privateMounts gives sshd's shell a mount namespace of its own, so the
// binds made by mountScript never reach the rest of the system.
func privateMounts() (*syscall.SysProcAttr, error) {
	return &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}, nil
}

const namespacesMissing = ""
