package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/idp"
)

// interruption is what a SIGINT or SIGTERM did to this run: it cancels the
// command's context, which stops dcrctl between requests; a request that may
// rotate the RAT is not cancelled (idp.Critical) and its answer is saved
// first. The exit code is then 128 + the signal's number, as a shell reports.
type interruption struct {
	mu     sync.Mutex
	signal syscall.Signal // 0 until one arrives
	report *engine.Report // what the interrupted operation completed
}

// catchSignals returns a context cancelled by the first SIGINT or SIGTERM.
// Later ones are reported and otherwise ignored: the request in flight is
// bounded by DCRCTL_UPDATE_TIMEOUT, and SIGKILL remains for the impatient.
func (a *App) catchSignals(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				s := sig.(syscall.Signal)
				a.interrupt.mu.Lock()
				first := a.interrupt.signal == 0
				if first {
					a.interrupt.signal = s
				}
				a.interrupt.mu.Unlock()
				switch {
				case first && idp.CriticalInFlight():
					fmt.Fprintf(a.Stderr, "dcrctl: %s received: finishing the request in flight so that its answer is saved (DCRCTL_UPDATE_TIMEOUT at most), then exiting\n", signalName(s))
					cancel()
				case first:
					fmt.Fprintf(a.Stderr, "dcrctl: %s received: stopping (no request that may rotate the RAT is in flight)\n", signalName(s))
					cancel()
				default:
					fmt.Fprintf(a.Stderr, "dcrctl: %s received again: still waiting for the request in flight (SIGKILL would lose its answer)\n", signalName(s))
				}
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

// completed records the report of the operation that ran, for the line an
// interrupted run ends with.
func (a *App) completed(r *engine.Report) {
	a.interrupt.mu.Lock()
	defer a.interrupt.mu.Unlock()
	a.interrupt.report = r
}

// interrupted is the exit code and final line when a signal stopped the run.
func (a *App) interrupted() (code int, line string, ok bool) {
	a.interrupt.mu.Lock()
	defer a.interrupt.mu.Unlock()
	s := a.interrupt.signal
	if s == 0 {
		return 0, "", false
	}
	done := "nothing was changed"
	if r := a.interrupt.report; r != nil && len(r.Steps) > 0 && !r.DryRun {
		done = "completed and saved: " + strings.Join(r.Steps, "; ")
	}
	return 128 + int(s), fmt.Sprintf("interrupted by %s; %s", signalName(s), done), true
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
