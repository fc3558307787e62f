//go:build faultinject

package faults

import (
	"os"
	"syscall"
)

// Point kills the process with SIGKILL when DCRCTL_FAULT_KILL_AT names it:
// no deferred function, no flush, as in a crash or an OOM kill.
func Point(name string) {
	if os.Getenv("DCRCTL_FAULT_KILL_AT") == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is asynchronous; never return
	}
}
