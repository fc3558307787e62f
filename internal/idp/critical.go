package idp

import (
	"context"
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
	detached := context.WithValue(context.WithoutCancel(ctx), criticalKey{}, true)
	cctx, cancel := context.WithTimeout(detached, timeout)
	return cctx, cancel, nil
}

// isCritical reports whether ctx was made by Critical.
func isCritical(ctx context.Context) bool {
	v, _ := ctx.Value(criticalKey{}).(bool)
	return v
}
