package idp

import (
	"context"
	"sync/atomic"
	"time"
)

// criticalKey marks a context made by Critical.
type criticalKey struct{}

// Critical is the context for a request that may rotate the registration
// access token (RFC 7592 §2.1 and §2.2 let a server return a new one on a
// read or an update, and the old one is then dead). Such a request is never
// abandoned half-way: its context ignores the cancellation of ctx (an
// operator's esc, SIGINT, SIGTERM) and ends only at timeout, so that its
// answer arrives to be saved. It is refused before anything is sent when
// ctx is already cancelled. The per-attempt DCRCTL_TIMEOUT of the HTTP
// client does not apply to it; timeout does.
func Critical(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	detached := context.WithValue(context.WithoutCancel(ctx), criticalKey{}, ctx)
	cctx, cancel := context.WithTimeout(detached, timeout)
	return cctx, cancel, nil
}

// isCritical reports whether ctx was made by Critical.
func isCritical(ctx context.Context) bool { return criticalParent(ctx) != nil }

// criticalParent is the context a Critical one was made from: its
// cancellation still stops retries and backoff, since a request not yet
// sent has no answer to wait for.
func criticalParent(ctx context.Context) context.Context {
	parent, _ := ctx.Value(criticalKey{}).(context.Context)
	return parent
}

// criticalInFlight counts the requests that may rotate the RAT being sent
// right now, so that a signal's message says whether one is awaited.
var criticalInFlight atomic.Int64

// CriticalInFlight reports whether a request that may rotate the RAT is on
// its way in this process.
func CriticalInFlight() bool { return criticalInFlight.Load() > 0 }
