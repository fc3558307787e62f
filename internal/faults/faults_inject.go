//go:build faultinject

package faults

import (
	"os"
	"syscall"
	"time"
)

// Point kills the process with SIGKILL when DCRCTL_FAULT_KILL_AT names it:
// no deferred function, no flush, as in a crash or an OOM kill. When
// DCRCTL_FAULT_PAUSE_AT names it, the process writes DCRCTL_FAULT_PAUSE_FILE
// + ".reached" and waits (at most a minute) until DCRCTL_FAULT_PAUSE_FILE
// exists: a test acts on the world while dcrctl stands at this step.
func Point(name string) {
	if os.Getenv("DCRCTL_FAULT_KILL_AT") == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is asynchronous; never return
	}
	if os.Getenv("DCRCTL_FAULT_PAUSE_AT") == name {
		gate := os.Getenv("DCRCTL_FAULT_PAUSE_FILE")
		os.WriteFile(gate+".reached", nil, 0o600)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(gate); err == nil {
				return
			}
		}
	}
}
