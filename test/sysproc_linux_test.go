package e2e

import "syscall"

// processGroup puts a child in a process group of its own (so that stop
// reaches everything it starts) and kills it when the test binary dies.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
