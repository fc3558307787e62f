// Package engine plans and applies the changes that keep one OAuth client
// registered and its keys fresh: registration, the RFC 7592 read, key
// rotation and retirement, RAT renewal and forced re-registration. It knows
// nothing of terminals: `dcrctl bootstrap`, the operator commands and the TUI
// are faces on it. Every change is a Plan first; a dry run stops there.
package engine

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
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
}

// store is where the state lives.
func (e *Engine) store() state.Store {
	if e.Store != nil {
		return e.Store
	}
	return state.FileStore{Path: e.Cfg.StatePath}
}

// Options change how one operation runs.
type Options struct {
	DryRun bool // plan only: no write to the IdP or to disk (a RAT the IdP rotates is still saved)
	Force  bool // delete the registration (when the RAT works) and register again

	// Operator actions, done on top of what bootstrap would do anyway (the
	// plan shows everything).
	Rotate     bool   // rotate now, whatever the active key's age
	Retire     string // unpublish this kid
	RenewRAT   bool   // renew the RAT with the admin token now
	AdminToken string // overrides BOOTSTRAP_ADMIN_TOKEN (the TUI asks for it; never saved)

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

// Report says what an operation did, or with DryRun would do.
type Report struct {
	Outcome  string `json:"outcome"` // unchanged, registered, re-registered, updated
	DryRun   bool   `json:"dry_run"`
	ClientID string `json:"client_id,omitempty"`
	// RequestedClientID is DCR_CLIENT_ID when the IdP assigned another id
	// (Hydra and Glewlwyd ignore the requested one).
	RequestedClientID string         `json:"requested_client_id,omitempty"`
	ActiveKID         string         `json:"active_kid,omitempty"`
	Steps             []string       `json:"steps"`
	JWKS              *keys.JWKSPlan `json:"jwks,omitempty"`
	// Drift is where the configuration and the registration differed; the
	// update brings them in line unless DCRCTL_RECONCILE=false.
	Drift []Drift `json:"drift,omitempty"`
	// Basis is what the plan was computed from (see Options.Expect).
	Basis *Basis `json:"basis,omitempty"`
	// VerifiedAt is set when the read was skipped: the registration was
	// verified at the IdP then (by this or another replica), within
	// DCRCTL_FRESH_FOR.
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
}

func (r *Report) step(format string, args ...any) {
	r.Steps = append(r.Steps, fmt.Sprintf(format, args...))
}

// String renders the report as a plan an operator reads.
func (r *Report) String() string {
	var b strings.Builder
	verb := "did"
	if r.DryRun {
		verb = "would do (dry run, nothing changed)"
	}
	fmt.Fprintf(&b, "client %s: %s\n", orNone(r.ClientID), r.Outcome)
	if r.RequestedClientID != "" {
		fmt.Fprintf(&b, "note: the IdP assigned client_id %s, not the requested %s (DCR_CLIENT_ID)\n", r.ClientID, r.RequestedClientID)
	}
	if len(r.Steps) > 0 {
		fmt.Fprintf(&b, "dcrctl %s:\n", verb)
		for _, s := range r.Steps {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	if r.VerifiedAt != nil {
		fmt.Fprintf(&b, "verified at the IdP at %s (within DCRCTL_FRESH_FOR): not read again\n", r.VerifiedAt.Format(time.RFC3339))
	}
	for _, d := range r.Drift {
		fmt.Fprintf(&b, "drift: %s\n", d)
	}
	if r.JWKS != nil {
		fmt.Fprintf(&b, "JWKS before: %s\nJWKS after:  %s\n", kidList(r.JWKS.Before), kidList(r.JWKS.After))
		for _, d := range r.JWKS.Drop {
			fmt.Fprintf(&b, "  drop %s: %s\n", d.KID, d.Reason)
		}
	}
	return b.String()
}

func kidList(k []string) string {
	if len(k) == 0 {
		return "(none)"
	}
	return strings.Join(k, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// localKey is a private key on disk and its record.
type localKey struct {
	signer crypto.Signer
	rec    state.Key
}

func (k localKey) info() keys.Info { return keys.Info{KID: k.rec.KID, CreatedAt: k.rec.CreatedAt} }

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

	basis        Basis           // what this run's plan is computed from
	ctx          context.Context // the operation's: waiting for the lock honours it
	claimed      bool            // the store's lock is held and the state checked since Load
	renewPlanned bool            // a dry run has already planned a RAT renewal
	noRotation   bool            // this run discards the pending key: make no new one
	endpoint     string          // the registration endpoint, once found
}

// PendingPath is where a key generated for rotation waits, private half on
// disk before the IdP hears of it, until it is promoted.
func PendingPath(signingKeyPath string) string { return signingKeyPath + ".next" }

// Bootstrap brings the client to a good state: registered, RAT working, the
// active key published, rotation and retirement applied. Safe on every start;
// the no-change path makes exactly one request.
func (e *Engine) Bootstrap(ctx context.Context, opts Options) (*Report, error) {
	return e.withRun(ctx, opts, func(ctx context.Context, r *run) error {
		switch {
		case opts.Force:
			return r.replace(ctx)
		case r.cfg.ForceReplace && !opts.acts():
			return r.replaceOnce(ctx)
		case !r.st.HasCredentials():
			return r.register(ctx, "no cached credentials", "registered")
		case r.verifiedRecently():
			r.report.VerifiedAt = r.st.VerifiedAt
			r.e.Log.Info("the registration was verified at the IdP recently and nothing is due; not reading it again",
				"client_id", r.st.ClientID, "verified_at", r.st.VerifiedAt.Format(time.RFC3339), "fresh_for", r.freshFor().String())
			return nil
		}
		return r.maintain(ctx)
	})
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
	warnIfReadable(e.Log, cfg.StatePath, "BFF_CLIENT_CRED_PATH")
	e.IdP.Redactor.Add(st.RegistrationAccessToken)
	if opts.acts() && !st.HasCredentials() {
		return nil, &NotRegisteredError{StatePath: cfg.StatePath}
	}
	basis := localBasis(st)
	if opts.Expect != nil {
		if diff := opts.Expect.differences(basis); len(diff) > 0 {
			return nil, &StalePlanError{Differences: diff}
		}
	}
	// Registration with no way to get an IAT fails here, before any request.
	if !opts.readOnly && (!st.HasCredentials() || opts.Force || cfg.ForceReplace) && e.IAT == nil && !cfg.OpenRegistration {
		reason := "no cached credentials"
		if st.HasCredentials() {
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

// sawRegistration records the read in the basis and, when applying a plan,
// stops before any change if the registration is not what the plan saw.
func (r *run) sawRegistration(reg *idp.Registration) error {
	r.basis = r.basis.withRegistration(reg, r.intendedMetadata())
	seen := r.now.Truncate(time.Second)
	r.st.JWKSSeenAt = &seen // saved with the next write, if any
	if r.opts.Expect == nil {
		return nil
	}
	if diff := r.opts.Expect.differences(r.basis); len(diff) > 0 {
		return &StalePlanError{Differences: diff}
	}
	return nil
}

// loadKeys reads (or creates) the signing key and the pending key, and
// finishes a promotion that a crash interrupted.
func (r *run) loadKeys() error {
	path := r.cfg.SigningKeyPath
	signer, err := keys.LoadPEM(path)
	if errors.Is(err, fs.ErrNotExist) {
		if r.opts.readOnly {
			return nil
		}
		return r.generateActive()
	}
	if err != nil {
		return err
	}
	warnIfReadable(r.e.Log, path, "BFF_JWT_SIGNING_KEY")
	tp, err := keys.Thumbprint(signer)
	if err != nil {
		return fmt.Errorf("signing key %s: %w", path, err)
	}
	switch rec := r.st.KeyByThumbprint(tp); {
	case rec != nil && rec.KID == r.st.PendingKID:
		// The pending PEM was renamed into place but the state not yet written.
		r.e.Log.Info("completing an interrupted key promotion", "kid", rec.KID)
		r.st.ActiveKID, r.st.PendingKID = rec.KID, ""
		r.active = localKey{signer: signer, rec: *rec}
		if err := r.save(); err != nil {
			return err
		}
	case rec != nil:
		if rec.KID != r.st.ActiveKID {
			r.e.Log.Warn("the signing key on disk is a known older key; treating it as active", "kid", rec.KID, "state_active_kid", r.st.ActiveKID)
			r.st.ActiveKID = rec.KID
		}
		r.active = localKey{signer: signer, rec: *rec}
	default:
		if known := r.st.Key(r.st.ActiveKID); known != nil && known.Thumbprint != "" {
			return &KeyMismatchError{Problem: fmt.Sprintf("signing key %s (BFF_JWT_SIGNING_KEY) is not the key recorded for active_kid %q in %s; restore the matching PEM, or remove that key from the state file's keys to adopt this one", path, r.st.ActiveKID, r.cfg.StatePath)}
		}
		// A key the state does not know yet (the old helper's, or one placed
		// by hand): adopt it, aged by the file's modification time, unless
		// it is too weak to sign with.
		if err := r.checkStrength(signer, path); err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		kid := firstNonEmpty(r.st.ActiveKID, r.cfg.KID, tp)
		rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, r.cfg.KeyAlg), CreatedAt: fi.ModTime().UTC().Truncate(time.Second), Thumbprint: tp}
		r.st.PutKey(rec)
		r.st.ActiveKID = kid
		r.active = localKey{signer: signer, rec: rec}
		r.report.step("adopt the key in %s as %q (created %s, from the file's modification time)", path, kid, rec.CreatedAt.Format(time.RFC3339))
	}
	return r.loadPending()
}

// generateActive creates the first signing key (or replaces a lost one).
func (r *run) generateActive() error {
	if r.st.ActiveKID != "" && r.st.HasCredentials() {
		r.e.Log.Warn("signing key file missing; generating a new key (the old one cannot be recovered)", "path", r.cfg.SigningKeyPath, "lost_kid", r.st.ActiveKID)
	}
	signer, tp, err := keys.GenerateWithKID(r.cfg.KeyAlg)
	if err != nil {
		return err
	}
	kid := r.cfg.KID
	if kid == "" || r.st.Key(kid) != nil {
		kid = tp // never reuse a kid for a different key: verifiers cache by kid
	}
	rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, r.cfg.KeyAlg), CreatedAt: r.now.Truncate(time.Second), Thumbprint: tp}
	r.report.step("generate a %s signing key with kid %q in %s", rec.Alg, kid, r.cfg.SigningKeyPath)
	r.active = localKey{signer: signer, rec: rec}
	r.st.PutKey(rec)
	r.st.ActiveKID = kid
	if r.opts.DryRun {
		return nil
	}
	if err := keys.WritePEM(r.cfg.SigningKeyPath, signer); err != nil {
		return err
	}
	faults.Point("active-key-written")
	return r.save()
}

// loadPending reads the key waiting for promotion, if the state names one.
func (r *run) loadPending() error {
	kid := r.st.PendingKID
	if kid == "" {
		return nil
	}
	rec := r.st.Key(kid)
	signer, err := keys.LoadPEM(PendingPath(r.cfg.SigningKeyPath))
	var tp string
	if err == nil {
		tp, err = keys.Thumbprint(signer)
	}
	if err != nil || rec == nil || tp != rec.Thumbprint {
		// Lost before it was promoted: forget it; a new one is made when due.
		r.e.Log.Warn("pending key unusable; discarding it", "kid", kid, "err", err)
		r.st.PendingKID = ""
		return r.save()
	}
	r.pending = &localKey{signer: signer, rec: *rec}
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// warnIfReadable warns about a secret file others can read.
func warnIfReadable(log *slog.Logger, path, name string) {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("file holding a secret is readable by others; fix with chmod 600", "file", path, "variable", name, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
}

// clientURI is where the registration is managed: the URI the IdP returned,
// else {registration_endpoint}/{client_id} (state from the old helper).
func (r *run) clientURI(ctx context.Context) (string, error) {
	if uri := r.st.RegistrationClientURI; uri != "" {
		if !r.cfg.TrustsHost(uri) {
			return "", &idp.BadResponseError{Op: "read", URL: uri, Problem: "registration_client_uri is on a host other than the IdP's; refusing to send the registration access token there (list the host in DCRCTL_TRUSTED_HOSTS if it is the IdP's)"}
		}
		return uri, nil
	}
	endpoint, err := r.registrationEndpoint(ctx)
	if err != nil {
		return "", err
	}
	r.st.RegistrationClientURI = strings.TrimRight(endpoint, "/") + "/" + url.PathEscape(r.st.ClientID)
	// Saved so that later runs need no discovery.
	return r.st.RegistrationClientURI, r.save()
}

// registrationEndpoint is DCRCTL_REGISTRATION_ENDPOINT, else what discovery
// finds. Where the IdP publishes no endpoint, the preset's path (Hydra's
// /oauth2/register) is used; without a preset a document that lists none is
// a configuration error, and the old helper's {IDP_BASE_URL}/api/oidc/register
// is tried only when no document exists at all (never after a network
// error, a timeout or a 5xx, which Discover returns as they are).
func (r *run) registrationEndpoint(ctx context.Context) (string, error) {
	if r.cfg.RegistrationEndpoint != "" {
		return r.cfg.RegistrationEndpoint, nil
	}
	if r.endpoint != "" {
		return r.endpoint, nil
	}
	endpoint, err := r.e.IdP.Discover(ctx, r.cfg.IdPBaseURL)
	var noEndpoint *idp.NoRegistrationEndpointError
	var noDoc *idp.NoDiscoveryError
	switch {
	case err == nil:
	case (errors.As(err, &noEndpoint) || errors.As(err, &noDoc)) && r.cfg.Preset.RegistrationPath != "":
		endpoint = r.cfg.IdPBaseURL + r.cfg.Preset.RegistrationPath
		r.e.Log.Info("discovery names no registration endpoint; using the preset's", "preset", r.cfg.Preset.Name, "url", endpoint)
	case errors.As(err, &noEndpoint):
		return "", &config.Error{Name: "DCRCTL_REGISTRATION_ENDPOINT", Problem: "is not set and " + err.Error() + ": set it to the IdP's registration URL, or choose the IdP's DCRCTL_IDP_PRESET"}
	case errors.As(err, &noDoc):
		endpoint = r.cfg.IdPBaseURL + "/api/oidc/register"
		r.e.Log.Warn("no discovery document; falling back to the old helper's registration path (set DCRCTL_REGISTRATION_ENDPOINT to choose)", "url", endpoint, "tried", err.Error())
	default:
		return "", err
	}
	r.endpoint = endpoint
	return endpoint, nil
}

// read is the RFC 7592 read, recovering a rejected RAT with the admin token.
func (r *run) read(ctx context.Context) (*idp.Registration, error) {
	uri, err := r.clientURI(ctx)
	if err != nil {
		return nil, err
	}
	reg, err := r.readClient(ctx, uri)
	switch {
	case err == nil:
		return reg, nil
	case idp.IsNotFound(err):
		return nil, errClientGone
	case !idp.IsRejected(err):
		return nil, err
	case !r.canRecover():
		return nil, r.ratRejected(err, nil)
	}
	if r.opts.DryRun {
		// Nothing more can be read without the renewal the plan proposes.
		if !r.renewPlanned {
			r.renewRAT(ctx)
		}
		r.report.step("then read the client again and apply what is due")
		return nil, errPlanEndsHere
	}
	r.e.Log.Warn("registration access token rejected; recovering it with the bootstrap admin token", "client_id", r.st.ClientID, "rat", secret.Fingerprint(r.st.RegistrationAccessToken), "recovery", r.cfg.Recovery)
	if renewErr := r.renewRAT(ctx); renewErr != nil {
		return nil, r.ratRejected(err, renewErr)
	}
	reg, err = r.readClient(ctx, uri)
	if idp.IsRejected(err) {
		return nil, r.ratRejected(err, errors.New("the renewed token was rejected too"))
	}
	return reg, err
}

// canRecover reports whether a rejected RAT can be recovered here: a
// recovery path and an admin token to use on it.
func (r *run) canRecover() bool { return r.cfg.HasRecovery() && r.adminToken() != "" }

// ratRejected is the error for a RAT that stays rejected, with the remedy
// that fits this configuration.
func (r *run) ratRejected(cause, renewal error) error {
	remedy := "set DCR_FORCE_REPLACE=true (or run `dcrctl register --force`) to register the client again; the old registration stays at the IdP until an administrator removes it"
	switch {
	case !r.cfg.HasRecovery():
		remedy = fmt.Sprintf("the IdP (DCRCTL_IDP_PRESET=%s) offers dcrctl no way to re-issue a registration access token (DCRCTL_RAT_RECOVERY=none); ", r.cfg.Preset.Name) + remedy
	case renewal == nil:
		remedy = fmt.Sprintf("set BOOTSTRAP_ADMIN_TOKEN to recover it (DCRCTL_RAT_RECOVERY=%s), or ", r.cfg.Recovery) + remedy
	}
	return &RATRejectedError{ClientID: r.st.ClientID, Fingerprint: secret.Fingerprint(r.st.RegistrationAccessToken), Cause: cause, Renewal: renewal, Remedy: remedy, Note: r.lostAnswer()}
}

func (r *run) adminToken() string { return firstNonEmpty(r.opts.AdminToken, r.cfg.AdminToken) }

// renewRAT gets a fresh RAT by the configured recovery and saves it. The
// report names the step only once it succeeded (or, in a dry run, as a plan).
func (r *run) renewRAT(ctx context.Context) error {
	token := r.adminToken()
	switch {
	case !r.cfg.HasRecovery():
		return r.ratRejected(errors.New("renewal requested"), fmt.Errorf("no recovery path is configured"))
	case token == "":
		return &config.Error{Name: "BOOTSTRAP_ADMIN_TOKEN", Problem: "is required to renew the registration access token"}
	}
	const step = "renew the registration access token with the bootstrap admin token (%s)"
	if r.opts.DryRun {
		r.report.step(step, r.cfg.Recovery)
		r.renewPlanned = true
		r.markUpdated()
		return nil
	}
	r.e.IdP.Redactor.Add(token)
	method, uri := http.MethodPost, r.cfg.AdminRATURLFor(r.st.ClientID)
	var send func(ctx context.Context) (string, error)
	switch r.cfg.Recovery {
	case config.RecoveryKeycloak:
		uri = r.cfg.AdminRATURL
		send = func(ctx context.Context) (string, error) {
			return r.e.IdP.RenewRATKeycloak(ctx, r.cfg.AdminRATURL, r.st.ClientID, token)
		}
	case config.RecoveryManagementToken:
		var err error
		if uri, err = r.clientURI(ctx); err != nil {
			return err
		}
		method = http.MethodPut
		send = func(ctx context.Context) (string, error) {
			return r.e.IdP.RenewRATWithManagementToken(ctx, uri, token, r.intendedMetadata())
		}
	default:
		send = func(ctx context.Context) (string, error) { return r.e.IdP.RenewRAT(ctx, uri, token) }
	}
	err := r.critical(ctx, opRenew, method, uri, func(ctx context.Context) error {
		rat, err := send(ctx)
		if err != nil {
			return err
		}
		faults.Point("rat-renewed")
		return r.adoptRAT(rat)
	})
	if err != nil {
		return err
	}
	r.report.step(step, r.cfg.Recovery)
	r.markUpdated()
	return nil
}

func (r *run) markUpdated() {
	if r.report.Outcome == "unchanged" {
		r.report.Outcome = "updated"
	}
}

// maintain reads the registration and applies what is due.
func (r *run) maintain(ctx context.Context) error {
	if r.opts.RenewRAT && r.opts.Expect != nil && r.opts.Expect.Read {
		// The plan read the registration before its renewal: check that it
		// is still what the plan saw before renewing anything.
		uri, err := r.clientURI(ctx)
		if err != nil {
			return err
		}
		reg, err := r.readClient(ctx, uri)
		if err != nil {
			return &StalePlanError{Differences: []string{"the registration could not be read as the plan read it: " + err.Error()}}
		}
		if err := r.sawRegistration(reg); err != nil {
			return err
		}
	}
	if r.opts.RenewRAT {
		if err := r.renewRAT(ctx); err != nil {
			var cfgErr *config.Error
			var rejected *RATRejectedError
			if errors.As(err, &cfgErr) || errors.As(err, &rejected) {
				return err
			}
			return r.ratRejected(errors.New("renewal requested"), err)
		}
	}
	reg, err := r.read(ctx)
	if errors.Is(err, errPlanEndsHere) {
		return nil
	}
	if errors.Is(err, errClientGone) && r.opts.acts() {
		return fmt.Errorf("the IdP no longer knows client %s (HTTP 404 on its registration_client_uri); nothing was changed; `dcrctl bootstrap` or `dcrctl register` registers it again", r.st.ClientID)
	}
	if errors.Is(err, errClientGone) {
		r.e.Log.Warn("the IdP no longer knows this client (HTTP 404); registering it again with the initial access token", "client_id", r.st.ClientID)
		if r.e.IAT == nil {
			return &MissingIATError{Reason: "the IdP answered 404 for client " + r.st.ClientID}
		}
		return r.register(ctx, "the IdP answered 404 for client "+r.st.ClientID, "re-registered")
	}
	if err != nil {
		return err
	}
	if err := r.sawRegistration(reg); err != nil {
		return err
	}
	if pub := keys.Find(reg.JWKS, r.active.rec.KID); pub != nil && !keys.SameKey(pub, r.active.signer) {
		return &KeyMismatchError{Problem: fmt.Sprintf("the IdP publishes kid %q with a different public key than %s (BFF_JWT_SIGNING_KEY); nothing was changed", r.active.rec.KID, r.cfg.SigningKeyPath)}
	}
	if err := r.prune(reg.JWKS); err != nil {
		return err
	}
	policy := r.policy()
	if r.opts.Retire != "" {
		if err := r.checkRetire(reg.JWKS); err != nil {
			return err
		}
		if r.pending != nil && r.opts.Retire == r.pending.rec.KID {
			if err := r.discardPending(); err != nil {
				return err
			}
		}
		if keys.Find(reg.JWKS, r.opts.Retire) != nil {
			policy.Retire = []string{r.opts.Retire}
		}
	}
	if !r.noRotation && (policy.RotationDue(r.active.info(), r.pending != nil, r.now) || (r.opts.Rotate && r.pending == nil)) {
		if err := r.generatePending(reg.JWKS); err != nil {
			return err
		}
	}
	var pendingInfo *keys.Info
	if r.pending != nil {
		info := r.pending.info()
		pendingInfo = &info
	}
	plan := policy.PlanJWKS(r.publishedInfo(reg.JWKS), r.active.info(), pendingInfo, r.now)
	drift := r.drift(reg.Metadata)
	r.report.Drift = drift
	reconcile := len(drift) > 0 && r.cfg.Reconcile
	if len(drift) > 0 && !r.cfg.Reconcile {
		r.e.Log.Warn("the registration differs from the configuration; DCRCTL_RECONCILE=false: only reported", "drift", fmt.Sprint(drift))
	}
	if plan.Changes() {
		r.report.JWKS = &plan
	}
	if plan.Changes() || reconcile {
		r.report.Outcome = "updated"
		if r.opts.DryRun {
			for _, d := range drift {
				r.report.step("bring %s in line with the configuration", d.Member)
			}
		} else if reg, err = r.publish(ctx, reg, plan, drift); err != nil {
			return err
		}
	}
	if err := r.promoteIfReady(reg); err != nil {
		return err
	}
	return r.recordVerified()
}

// checkRetire refuses to retire a key that is not published or still
// needed. The next key may be retired: that discards it (the way out when
// an IdP keeps refusing the update that would publish it).
func (r *run) checkRetire(published jwk.Set) error {
	kid := r.opts.Retire
	switch {
	case r.pending != nil && kid == r.pending.rec.KID:
		return nil
	case kid == r.active.rec.KID:
		return &RefusedError{Problem: fmt.Sprintf("key %q is the active signing key; rotate first, then retire it", kid)}
	case keys.Find(published, kid) == nil:
		return &RefusedError{Problem: fmt.Sprintf("key %q is not published by the IdP; published: %s", kid, kidList(keys.KIDs(published)))}
	}
	return nil
}

// discardPending forgets the next key: its record, its PEM, and no new one
// is made in this run. The state is written first, so a crash between the
// two leaves an orphan .next file that loadPending never reads.
func (r *run) discardPending() error {
	kid := r.pending.rec.KID
	r.report.step("discard the next key %q (never signed with)", kid)
	r.markUpdated()
	r.noRotation = true
	r.st.PendingKID, r.pending = "", nil
	if r.opts.DryRun {
		return nil
	}
	r.forget([]keys.Drop{{KID: kid}})
	if err := r.save(); err != nil {
		return err
	}
	if err := os.Remove(PendingPath(r.cfg.SigningKeyPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discard pending key: %w", err)
	}
	return nil
}

func (r *run) policy() keys.Policy {
	return keys.Policy{RotateAfter: r.cfg.RotateAfter, RetireAfter: r.cfg.RetireAfter, LastSuperseded: r.lastSuperseded()}
}

// lastSuperseded is the kid that signed until the latest rotation, if known.
func (r *run) lastSuperseded() string {
	var kid string
	var at time.Time
	for _, k := range r.st.Keys {
		if k.SupersededAt != nil && k.KID != r.st.ActiveKID && k.SupersededAt.After(at) {
			kid, at = k.KID, *k.SupersededAt
		}
	}
	return kid
}

// info is what planning knows of a recorded key.
func info(rec state.Key) keys.Info {
	i := keys.Info{KID: rec.KID, CreatedAt: rec.CreatedAt}
	if rec.SupersededAt != nil {
		i.SupersededAt = *rec.SupersededAt
	}
	return i
}

// publishedInfo pairs the IdP's kids with what this state knows of them.
func (r *run) publishedInfo(set jwk.Set) []keys.Info {
	var out []keys.Info
	for _, kid := range keys.KIDs(set) {
		i := keys.Info{KID: kid}
		if rec := r.st.Key(kid); rec != nil {
			i = info(*rec)
		}
		out = append(out, i)
	}
	return out
}

// prune forgets the records of keys that are neither published (as just
// read) nor the active or next key: history from re-registrations and
// retirements done elsewhere. Saved at once only when something was pruned.
func (r *run) prune(published jwk.Set) error {
	kept := r.st.Keys[:0:0]
	for _, k := range r.st.Keys {
		if k.KID == r.st.ActiveKID || k.KID == r.st.PendingKID || keys.Find(published, k.KID) != nil {
			kept = append(kept, k)
		}
	}
	if len(kept) == len(r.st.Keys) {
		return nil
	}
	r.e.Log.Info("forgetting records of keys the IdP no longer publishes", "records", len(r.st.Keys), "kept", len(kept))
	r.st.Keys = kept
	return r.save()
}

// rotationAlg is the algorithm of the next key: the one the operator chose
// (BFF_JWK_ALG, DCRCTL_KEY_ALG), else the key in use's, so that an adopted
// EC key is not silently replaced by an RSA one.
func (r *run) rotationAlg() string {
	if !r.cfg.KeyAlgChosen && keys.ValidAlg(r.active.rec.Alg) {
		return r.active.rec.Alg
	}
	return r.cfg.KeyAlg
}

// generatePending makes the next key and writes its private half to the
// pending file, and the state, before the IdP is told of it: a crash then
// leaves a key the next run publishes, never a published key with no private half.
func (r *run) generatePending(published jwk.Set) error {
	why := fmt.Sprintf("active key %q is %d days old, rotate after %d", r.active.rec.KID, keys.Days(r.now.Sub(r.active.rec.CreatedAt)), keys.Days(r.cfg.RotateAfter))
	if r.opts.Rotate {
		why = "rotation requested"
	}
	if r.opts.DryRun {
		r.report.step("generate a new %s key (%s)", r.rotationAlg(), why)
		r.pending = &localKey{rec: state.Key{KID: "(new key)", CreatedAt: r.now}}
		return nil
	}
	alg := r.rotationAlg()
	signer, kid, err := keys.GenerateWithKID(alg)
	if err != nil {
		return err
	}
	if r.st.Key(kid) != nil || keys.Find(published, kid) != nil {
		return fmt.Errorf("generated key's kid %q is already in use; refusing to reuse a kid", kid)
	}
	rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, alg), CreatedAt: r.now.Truncate(time.Second), Thumbprint: kid}
	if err := keys.WritePEM(PendingPath(r.cfg.SigningKeyPath), signer); err != nil {
		return err
	}
	faults.Point("pending-key-written")
	r.st.PutKey(rec)
	r.st.PendingKID = kid
	if err := r.save(); err != nil {
		return err
	}
	faults.Point("pending-key-recorded")
	r.pending = &localKey{signer: signer, rec: rec}
	r.report.step("generate a new %s key %q (%s)", rec.Alg, kid, why)
	return nil
}

// publish sends the planned JWKS: an RFC 7592 §2.2 full PUT, or a PATCH
// of jwks alone for IdPs that offer it.
func (r *run) publish(ctx context.Context, reg *idp.Registration, plan keys.JWKSPlan, drift []Drift) (*idp.Registration, error) {
	set, err := r.buildJWKS(reg.JWKS, plan.After)
	if err != nil {
		return nil, err
	}
	uri := r.st.RegistrationClientURI
	var updated *idp.Registration
	method := http.MethodPut
	if r.cfg.UpdateMethod == "patch" {
		method = http.MethodPatch
	}
	err = r.critical(ctx, opUpdate, method, uri, func(ctx context.Context) error {
		var err error
		if method == http.MethodPatch {
			partial := idp.Metadata{"jwks": set}
			intended := r.intendedMetadata()
			for _, d := range drift {
				partial[d.Member] = intended[d.Member]
			}
			updated, err = r.e.IdP.Patch(ctx, uri, r.st.RegistrationAccessToken, partial)
		} else {
			updated, err = r.e.IdP.Update(ctx, uri, r.st.RegistrationAccessToken, idp.UpdateBody(reg.Metadata, r.intendedMetadata(), r.st.ClientID, set))
		}
		if err != nil {
			return err
		}
		faults.Point("jwks-accepted") // the IdP rotated the RAT; it is not saved yet
		return r.adoptRAT(updated.RAT)
	})
	var refused *idp.Error
	switch {
	case idp.IsRejected(err):
		return nil, r.ratRejected(err, nil)
	case errors.As(err, &refused):
		pending := ""
		if r.pending != nil {
			pending = r.pending.rec.KID
		}
		return nil, &UpdateRefusedError{Cause: err, PendingKID: pending}
	case err != nil:
		return nil, err
	}
	// Reported once done: an interrupted run lists only what it completed.
	for _, kid := range plan.Add {
		r.report.step("publish key %q", kid)
	}
	for _, d := range plan.Drop {
		r.report.step("drop key %q (%s)", d.KID, d.Reason)
	}
	for _, d := range drift {
		r.report.step("bring %s in line with the configuration", d.Member)
	}
	if still := r.drift(updated.Metadata); len(still) > 0 {
		r.e.Log.Warn("the IdP accepted the update but still returns values that differ from the configuration; it may normalise them", "drift", fmt.Sprint(still))
	}
	for _, kid := range plan.Add {
		if keys.Find(updated.JWKS, kid) == nil {
			return nil, &idp.BadResponseError{Op: "update", URL: uri, Problem: fmt.Sprintf("the IdP accepted the update but does not publish kid %q", kid)}
		}
	}
	r.markPublished(plan.Add)
	r.forget(plan.Drop)
	if err := r.save(); err != nil {
		return nil, err
	}
	faults.Point("jwks-recorded")
	return updated, nil
}

func (r *run) markPublished(kids []string) {
	now := r.now.Truncate(time.Second)
	for _, kid := range kids {
		if rec := r.st.Key(kid); rec != nil && rec.PublishedAt == nil {
			rec.PublishedAt = &now
			if r.pending != nil && r.pending.rec.KID == kid {
				r.pending.rec.PublishedAt = &now
			}
		}
	}
}

// forget removes the records of dropped keys, so the state stays small.
func (r *run) forget(dropped []keys.Drop) {
	gone := map[string]bool{}
	for _, d := range dropped {
		gone[d.KID] = true
	}
	kept := r.st.Keys[:0]
	for _, k := range r.st.Keys {
		if !gone[k.KID] || k.KID == r.st.ActiveKID || k.KID == r.st.PendingKID {
			kept = append(kept, k)
		}
	}
	r.st.Keys = kept
}

// buildJWKS assembles the set to publish: keys the IdP has, as it has them,
// and the public halves of the active and pending keys.
func (r *run) buildJWKS(current jwk.Set, kids []string) (jwk.Set, error) {
	set := jwk.NewSet()
	for _, kid := range kids {
		var k jwk.Key
		switch {
		case kid == r.active.rec.KID:
			pub, err := keys.PublicJWK(r.active.signer, kid, r.active.rec.Alg)
			if err != nil {
				return nil, err
			}
			k = pub
		case r.pending != nil && kid == r.pending.rec.KID:
			pub, err := keys.PublicJWK(r.pending.signer, kid, r.pending.rec.Alg)
			if err != nil {
				return nil, err
			}
			k = pub
		default:
			k = keys.Find(current, kid)
		}
		if k == nil {
			return nil, fmt.Errorf("no public key for kid %q", kid)
		}
		if err := set.AddKey(k); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// promoteIfReady makes the pending key the signing key once the IdP publishes
// it and DCRCTL_ACTIVATE_AFTER has passed since: rename the PEM into place
// (atomic), then record the new active kid. A crash between the two is
// finished by loadKeys on the next run.
func (r *run) promoteIfReady(reg *idp.Registration) error {
	p := r.pending
	if p == nil || keys.Find(reg.JWKS, p.rec.KID) == nil && !r.opts.DryRun {
		return nil
	}
	if p.rec.PublishedAt == nil {
		// Published by a run that crashed before saving: start the wait now.
		r.markPublished([]string{p.rec.KID})
		if err := r.save(); err != nil {
			return err
		}
	}
	if p.rec.PublishedAt != nil {
		if wait := r.cfg.ActivateAfter - r.now.Sub(*p.rec.PublishedAt); wait > 0 {
			r.report.step("key %q is published; it becomes the signing key in %s (DCRCTL_ACTIVATE_AFTER)", p.rec.KID, wait.Round(time.Second))
			return nil
		}
	}
	r.report.step("promote key %q to signing key (BFF_JWT_SIGNING_KEY, active_kid)", p.rec.KID)
	r.report.Outcome = "updated"
	if r.opts.DryRun {
		return nil
	}
	if err := atomicfile.Rename(PendingPath(r.cfg.SigningKeyPath), r.cfg.SigningKeyPath); err != nil {
		return fmt.Errorf("promote pending key: %w", err)
	}
	faults.Point("pending-key-renamed")
	if old := r.st.Key(r.st.ActiveKID); old != nil && old.KID != p.rec.KID {
		// It stops signing now: the verification window starts.
		now := r.now.Truncate(time.Second)
		old.SupersededAt = &now
	}
	r.st.ActiveKID, r.st.PendingKID = p.rec.KID, ""
	r.active, r.pending = *p, nil
	return r.save()
}

// replaceOnce is DCR_FORCE_REPLACE: a flag that stays set in a deployment
// replaces the registration once; the client it made is then maintained
// like any other, with a WARN to unset the flag, and replaced again only if
// its RAT is rejected (the flag's purpose: a registration that cannot be
// managed any more).
func (r *run) replaceOnce(ctx context.Context) error {
	if !r.st.HasCredentials() || r.st.ForceReplacedClientID != r.st.ClientID {
		if err := r.replace(ctx); err != nil {
			return err
		}
		r.st.ForceReplacedClientID = r.st.ClientID
		return r.save()
	}
	r.e.Log.Warn("DCR_FORCE_REPLACE is still set; the client it registered is healthy and kept: unset the flag", "client_id", r.st.ClientID)
	err := r.maintain(ctx)
	var rejected *RATRejectedError
	if errors.As(err, &rejected) {
		r.e.Log.Warn("the registration access token is rejected and DCR_FORCE_REPLACE is set; replacing the registration", "client_id", r.st.ClientID)
		r.st.ForceReplacedClientID = ""
		return r.replaceOnce(ctx)
	}
	return err
}

// replace deletes the registration (when the RAT still works) and registers again.
func (r *run) replace(ctx context.Context) error {
	if r.st.HasCredentials() {
		uri, err := r.clientURI(ctx)
		if err != nil {
			return err
		}
		if r.opts.DryRun {
			r.report.step("delete the registration of client %s", r.st.ClientID)
		} else if err := r.claimForRAT(); err != nil {
			return err
		} else if err := r.e.IdP.Delete(ctx, uri, r.st.RegistrationAccessToken); err != nil {
			if !idp.IsRejected(err) && !idp.IsNotFound(err) && !idp.HasStatus(err, http.StatusMethodNotAllowed) {
				return err
			}
			r.e.Log.Warn("could not delete the old registration; registering anew anyway", "client_id", r.st.ClientID, "err", err)
		} else {
			r.report.step("delete the registration of client %s", r.st.ClientID)
			faults.Point("client-deleted")
		}
	}
	return r.register(ctx, "forced re-registration", "re-registered")
}

// register is the RFC 7591 registration with the initial access token.
func (r *run) register(ctx context.Context, reason, outcome string) error {
	r.report.Outcome = outcome
	if r.pending != nil {
		// A fresh registration starts with the active key alone.
		r.st.PendingKID, r.pending = "", nil
	}
	md := r.intendedMetadata()
	for k, v := range map[string]string{"client_id": r.cfg.ClientID, "client_profile": r.cfg.ClientProfile, "client_name": r.cfg.ClientName} {
		if v != "" {
			md[k] = v
		}
	}
	const step = "register a client (%s) with key %q"
	if r.opts.DryRun {
		r.report.step(step, reason, r.active.rec.KID)
		return nil
	}
	pub, err := keys.PublicJWK(r.active.signer, r.active.rec.KID, r.active.rec.Alg)
	if err != nil {
		return err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return err
	}
	md["jwks"] = set
	endpoint, err := r.registrationEndpoint(ctx)
	if err != nil {
		return err
	}
	iat := "" // open registration: no Authorization header
	if r.e.IAT != nil {
		if iat, err = r.e.IAT.IAT(ctx); err != nil {
			return err
		}
		r.e.IdP.Redactor.Add(iat)
	}
	var reg *idp.Registration
	err = r.critical(ctx, opRegister, http.MethodPost, endpoint, func(ctx context.Context) error {
		var err error
		if reg, err = r.e.IdP.Register(ctx, endpoint, iat, md); err != nil {
			return err
		}
		faults.Point("client-registered") // the IdP has the client; the state does not
		r.e.IdP.Redactor.Add(reg.RAT)
		r.st.ClientID = reg.ClientID
		r.st.RegistrationAccessToken = reg.RAT
		r.st.RegistrationClientURI = firstNonEmpty(reg.ClientURI, strings.TrimRight(endpoint, "/")+"/"+url.PathEscape(reg.ClientID))
		// A clean record: an earlier client's keys are not this one's.
		fresh := r.active.rec
		fresh.PublishedAt, fresh.SupersededAt = nil, nil
		r.st.Keys, r.st.JWKSSeenAt = []state.Key{fresh}, nil
		r.markPublished([]string{r.active.rec.KID})
		// The IdP's answer verifies what it registered (see fresh.go).
		now := r.now.Truncate(time.Second)
		r.st.VerifiedAt, r.st.VerifiedConfig = &now, r.verificationDigest()
		return r.saveAnswer()
	})
	var refused *idp.Error
	switch {
	case idp.IsRejected(err):
		return &IATRejectedError{Cause: err, Open: iat == ""}
	case errors.As(err, &refused) && refused.Status == http.StatusNotFound:
		setting := "IDP_BASE_URL"
		if r.cfg.RegistrationEndpoint != "" {
			setting = "DCRCTL_REGISTRATION_ENDPOINT"
		}
		return &config.Error{Name: setting, Problem: fmt.Sprintf("the registration endpoint %s answered 404 (%v): check the base URL's path, or set DCRCTL_REGISTRATION_ENDPOINT or the IdP's DCRCTL_IDP_PRESET", secret.MaskURL(endpoint), err)}
	case errors.As(err, &refused) && refused.Status >= 400 && refused.Status < 500:
		return &RegistrationRefusedError{Cause: err, ClientID: r.cfg.ClientID}
	case err != nil:
		return err
	}
	r.report.step(step, reason, r.active.rec.KID)
	if reg.RAT == "" {
		return &idp.BadResponseError{Op: "register", URL: endpoint, Problem: "no registration_access_token (RFC 7592 §3 requires one); the client_id was saved, the client cannot be managed"}
	}
	r.e.Log.Info("client registered", "client_id", reg.ClientID, "kid", r.active.rec.KID, "rat", secret.Fingerprint(reg.RAT))
	if r.cfg.ClientID != "" && reg.ClientID != r.cfg.ClientID {
		r.report.RequestedClientID = r.cfg.ClientID
		r.e.Log.Warn("the IdP assigned its own client_id, not DCR_CLIENT_ID; the state file holds the assigned one", "client_id", reg.ClientID, "requested", r.cfg.ClientID)
	}
	return nil
}

// intendedMetadata is what dcrctl itself means the registration to say,
// laid over whatever the IdP returned in every update: the auth method,
// grant types, response types and (when configured) redirect URIs.
func (r *run) intendedMetadata() idp.Metadata {
	md := idp.Metadata{
		"token_endpoint_auth_method": "private_key_jwt",
		"grant_types":                r.cfg.GrantTypes,
	}
	if len(r.cfg.RedirectURIs) > 0 {
		md["redirect_uris"] = r.cfg.RedirectURIs
	}
	if r.cfg.ClientName != "" {
		md["client_name"] = r.cfg.ClientName
	}
	if r.cfg.ClientProfile != "" {
		md["client_profile"] = r.cfg.ClientProfile
	}
	if slices.Contains(r.cfg.GrantTypes, "authorization_code") {
		md["response_types"] = []string{"code"}
	}
	return md
}

// minRSABits is the smallest RSA key dcrctl signs with unless told to: NIST
// SP 800-131A disallows less than 2048 bits for signatures, and RFC 7518
// §3.3 requires at least 2048 for RS256.
const minRSABits = 2048

// checkStrength refuses an adopted RSA key under minRSABits, or warns when
// DCRCTL_ALLOW_WEAK_KEY allows it.
func (r *run) checkStrength(signer crypto.Signer, path string) error {
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok || pub.N.BitLen() >= minRSABits {
		return nil
	}
	if !r.cfg.AllowWeakKey && !r.opts.readOnly {
		return &keys.PEMError{Path: path, Problem: fmt.Sprintf("an RSA key of %d bits is too weak to sign with (at least %d; RFC 7518 §3.3): replace it, or set DCRCTL_ALLOW_WEAK_KEY=true to use it until the next rotation", pub.N.BitLen(), minRSABits)}
	}
	r.e.Log.Warn("the signing key is a weak RSA key, used because DCRCTL_ALLOW_WEAK_KEY=true; rotate it soon (dcrctl keys rotate)", "path", path, "bits", pub.N.BitLen())
	return nil
}
