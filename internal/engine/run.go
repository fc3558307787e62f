package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// One operation's run: under the store's lock on a fresh read of the state,
// started again when another replica changed it; its audit line.

// run is one operation under the state lock.
type run struct {
	e       *Engine
	cfg     *config.Config
	opts    Options
	now     time.Time
	st      *state.State
	active  localKey
	pending *localKey
	report  *Report

	basis     Basis           // what this run's plan is computed from
	ctx       context.Context // the operation's: waiting for the lock honours it
	claimed   bool            // the store's lock is held and the state checked since Load
	docMaxAge time.Duration   // a document client's document as served: its Cache-Control max-age
	withNext  bool            // register with the next key too (rotation by re-registration)
	// replacing is the client a registration replaces, recorded as
	// abandoned with its answer.
	replacing    *state.AbandonedClient
	renewPlanned bool   // a dry run has already planned a RAT renewal
	noRotation   bool   // this run discards the pending key: make no new one
	endpoint     string // the registration endpoint, once found
}

// maxConflictRetries bounds how often a run starts again after another
// replica changed the shared state under it.
const maxConflictRetries = 3

// withRun runs fn under the lock on a fresh read of the state. When the
// shared state changed under it (state.ErrConflict, raised before anything
// planned from the old state is sent), the run starts again: re-read,
// re-plan.
func (e *Engine) withRun(ctx context.Context, opts Options, fn func(context.Context, *run) error) (*Report, error) {
	if err := e.Cfg.RequireLocal(); err != nil {
		return nil, err
	}
	// Every run that may change anything (a dry run too: it saves a RAT the
	// IdP rotates) needs to write the state; found out before any request.
	// The lock spans the attempts: a run that starts again after a conflict
	// keeps the Lease it claimed, so it does not queue for it again.
	var unwritable *state.UnwritableError
	store := e.store()
	unlock, err := store.Lock(ctx, e.Cfg.LockTimeout)
	switch {
	case errors.As(err, &unwritable) && opts.readOnly:
		// status on a read-only state: it still shows what it can, and
		// sends nothing whose answer it would have to save.
		unlock = func() {}
	case err != nil:
		return nil, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		report, err := e.runOnce(ctx, opts, fn)
		if !errors.Is(err, state.ErrConflict) || attempt >= maxConflictRetries || ctx.Err() != nil {
			return report, err
		}
		e.Log.Warn("another replica changed the state during this run; reading it again and planning afresh", "attempt", attempt)
	}
}

// runOnce validates, locks the state, loads state and keys, and runs fn.
func (e *Engine) runOnce(ctx context.Context, opts Options, fn func(context.Context, *run) error) (*Report, error) {
	cfg := e.Cfg
	store := e.store()
	if !opts.readOnly {
		if err := store.CheckWritable(ctx); err != nil {
			return nil, err
		}
	}
	st, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	// A store of files says when one holding the RAT is readable by others.
	if x, ok := store.(interface{ Exposed() string }); ok {
		if why := x.Exposed(); why != "" {
			e.Log.Warn("file holding a secret is readable by others", "store", store.Where(), "variable", "BFF_CLIENT_CRED_PATH", "why", why)
		}
	}
	e.IdP.Redactor.Add(st.RegistrationAccessToken)
	for _, ab := range st.AbandonedClients {
		e.IdP.Redactor.Add(ab.RegistrationAccessToken)
	}
	switch {
	case opts.acts() && !st.Registered() && cfg.ClientIDURL == "":
		return nil, &NotRegisteredError{StatePath: cfg.StatePath}
	case opts.acts() && st.Unmanaged():
		return nil, &UnmanagedError{ClientID: st.ClientID}
	case opts.RenewRAT && st.Management == state.ManagementAdminAPI:
		return nil, &RefusedError{Problem: fmt.Sprintf("client %s is managed through the IdP's admin API with BOOTSTRAP_ADMIN_TOKEN: there is no registration access token to renew", st.ClientID)}
	}
	basis := localBasis(st)
	if opts.Expect != nil {
		if diff := opts.Expect.differences(basis); len(diff) > 0 {
			return nil, &StalePlanError{Differences: diff}
		}
	}
	// Registration with no way to get an IAT fails here, before any request.
	if !opts.readOnly && cfg.ClientIDURL == "" && (!st.Registered() || opts.Force || cfg.ForceReplace) && e.IAT == nil && !cfg.OpenRegistration && !cfg.AdminAPI {
		reason := "no cached credentials"
		if st.Registered() {
			reason = "forced re-registration"
		}
		return nil, &MissingIATError{Reason: reason}
	}
	r := &run{e: e, cfg: cfg, opts: opts, ctx: ctx, now: e.Now().UTC(), st: st, basis: basis,
		report: &Report{Outcome: "unchanged", DryRun: opts.DryRun}}
	if err := r.loadKeys(); err != nil {
		return nil, err
	}
	before := snapshot(r.st)
	err = fn(ctx, r)
	r.report.ClientID = r.st.ClientID
	r.report.ActiveKID = r.st.ActiveKID
	r.audit(before, err)
	switch {
	case opts.DryRun: // its state holds the plan's model, not what was saved
	case err == nil:
		e.last.Store(r.st)
	default:
		// A failed run may hold changes it never saved: the metrics take
		// the state as stored.
		if saved, loadErr := store.Load(context.WithoutCancel(ctx)); loadErr == nil {
			e.last.Store(saved)
		}
	}
	// The RAT as the next run will find it (a read may have rotated it).
	if r.st.RegistrationAccessToken != "" && r.st.ClientID == r.basis.ClientID {
		r.basis.RAT = secret.Fingerprint(r.st.RegistrationAccessToken)
	}
	r.report.Basis = &r.basis
	return r.report, err
}

func snapshot(st *state.State) audit.Snapshot {
	s := audit.Snapshot{ClientID: st.ClientID, ActiveKID: st.ActiveKID}
	if st.RegistrationAccessToken != "" {
		s.RAT = secret.Fingerprint(st.RegistrationAccessToken)
	}
	return s
}

// audit appends the change this run applied, if any, to the audit trail: a
// failure there is logged, never fatal (the change is made and saved).
func (r *run) audit(before audit.Snapshot, runErr error) {
	after := snapshot(r.st)
	// A RAT the IdP rotated on a read is no change of the client: an
	// unchanged bootstrap adds no line, however the IdP treats its RAT.
	sameClient := before.ClientID == after.ClientID && before.ActiveKID == after.ActiveKID
	if r.opts.DryRun || (len(r.report.Steps) == 0 && sameClient && runErr == nil) || (len(r.report.Steps) == 0 && before == after) {
		return
	}
	e := audit.Entry{Command: firstNonEmpty(r.opts.Command, "dcrctl"), Outcome: r.report.Outcome,
		Steps: r.report.Steps, Before: before, After: after}
	if runErr != nil {
		e.Outcome, e.Error = "failed", r.e.IdP.Redactor.Redact(runErr.Error())
	}
	if j := r.report.JWKS; j != nil && runErr == nil {
		e.KIDsAdded = j.Add
		for _, d := range j.Drop {
			e.KIDsDropped = append(e.KIDsDropped, d.KID)
		}
	}
	e.Stamp(r.e.Now())
	if err := audit.Append(r.cfg.AuditPath(), e); err != nil {
		r.e.Log.Warn("could not write the audit trail", "err", err)
	}
}
