// Package engine plans and applies the changes that keep one OAuth client
// registered and its keys fresh: registration, the RFC 7592 read, key
// rotation and retirement, RAT renewal and forced re-registration. It knows
// nothing of terminals: `dcrctl bootstrap`, the operator commands and the TUI
// are faces on it. Every change is a Plan first; a dry run stops there.
package engine

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/vault"
)

// Engine holds what every operation needs.
type Engine struct {
	Cfg *config.Config
	IdP *idp.Client
	IAT idp.IATSource // nil when none is configured
	Log *slog.Logger
	Now func() time.Time
	// Store keeps the state; nil is the file at BFF_CLIENT_CRED_PATH.
	Store state.Store
	// Keys holds the signing keys; nil is the PEM at BFF_JWT_SIGNING_KEY
	// and the next key beside it.
	Keys vault.Vault

	auditCounts auditCounts                 // for the metrics (metrics.go)
	last        atomic.Pointer[state.State] // the state as the last run left it, for the metrics
}

// store is where the state lives.
func (e *Engine) store() state.Store {
	if e.Store != nil {
		return e.Store
	}
	return state.FileStore{Path: e.Cfg.StatePath}
}

// vault is where the signing keys live.
func (e *Engine) vault() vault.Vault {
	if e.Keys != nil {
		return e.Keys
	}
	return vault.Files{Path: e.Cfg.SigningKeyPath}
}

// Options change how one operation runs.
type Options struct {
	DryRun bool // plan only: no write to the IdP or to disk (a RAT the IdP rotates is still saved)
	Force  bool // delete the registration (when the RAT works) and register again

	// Operator actions, done on top of what bootstrap would do anyway (the
	// plan shows everything).
	Rotate   bool   // rotate now, whatever the active key's age
	Retire   string // unpublish this kid
	RenewRAT bool   // renew the RAT with the admin token now
	// MigrateToDocument moves a registered client to a Client ID Metadata
	// Document (DCRCTL_CLIENT_ID_URL): publish, prove, delete, switch.
	MigrateToDocument bool
	AdminToken        string // overrides BOOTSTRAP_ADMIN_TOKEN (the TUI asks for it; never saved)

	// Expect is the basis of the plan being applied: when the client is
	// no longer what the plan saw, nothing is sent (StalePlanError).
	Expect *Basis

	// FreshFor lengthens DCRCTL_FRESH_FOR for this run (`dcrctl run`'s
	// maintenance across a fleet: one replica reads per interval).
	FreshFor time.Duration

	// Command names what asked for the change, for the audit trail
	// ("bootstrap", "keys rotate", "tui: rotate").
	Command string

	readOnly bool // status: never generate a key, never require an IAT
}

// acts reports whether the options ask for an operator action on an existing
// client (rotate, retire, renew). Such an action never registers: only
// bootstrap and register do what their names say.
func (o Options) acts() bool { return o.Rotate || o.Retire != "" || o.RenewRAT }

// Bootstrap brings the client to a good state: registered, RAT working, the
// active key published, rotation and retirement applied. Safe on every start;
// the no-change path makes exactly one request.
func (e *Engine) Bootstrap(ctx context.Context, opts Options) (*Report, error) {
	return e.withRun(ctx, opts, func(ctx context.Context, r *run) error {
		if err := r.bootstrap(ctx); err != nil {
			return err
		}
		return r.deleteAbandoned(ctx)
	})
}

// bootstrap chooses what this run does to the client.
func (r *run) bootstrap(ctx context.Context) error {
	opts := r.opts
	switch {
	case opts.MigrateToDocument:
		return r.migrateToDocument(ctx)
	case r.cfg.ClientIDURL != "":
		return r.maintainDocument(ctx)
	case opts.Force:
		return r.replace(ctx)
	case r.cfg.ForceReplace && !opts.acts():
		return r.replaceOnce(ctx)
	case !r.st.Registered():
		return r.register(ctx, "no cached credentials", "registered")
	case r.st.Unmanaged():
		return r.keepUnmanaged(ctx)
	case r.verifiedRecently():
		r.report.VerifiedAt = r.st.VerifiedAt
		r.e.Log.Info("the registration was verified at the IdP recently and nothing is due; not reading it again",
			"client_id", r.st.ClientID, "verified_at", r.st.VerifiedAt.Format(time.RFC3339), "fresh_for", r.freshFor().String())
		return nil
	}
	return r.maintain(ctx)
}

// RequestsSent counts the requests sent to the IdP so far (retries
// included): a screen shows progress while the IdP does not answer.
func (e *Engine) RequestsSent() int64 { return e.IdP.Sent() }

// History is the audit trail's last n entries (all when n <= 0), oldest
// first. It reads the file alone: no lock, no request.
func (e *Engine) History(n int) ([]audit.Entry, error) {
	entries, skipped, err := audit.Read(e.Cfg.AuditPath(), n)
	if skipped > 0 {
		e.Log.Warn("audit trail lines that are not entries were skipped", "file", e.Cfg.AuditPath(), "lines", skipped)
	}
	return entries, err
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
