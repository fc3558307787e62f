package ui

import (
	"context"
	"sync"
	"time"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/engine"
)

// fakeBackend stands in for the engine in model tests: it returns canned
// results and records what the UI asked for. The real engine against the
// real IdP is driven by the tmux end-to-end test.
type fakeBackend struct {
	mu       sync.Mutex
	status   *engine.Status
	statusFn func() (*engine.Status, error)
	report   *engine.Report
	err      error
	calls    []engine.Options
	block    chan struct{} // when set, Bootstrap waits for it or ctx
	// critical: Bootstrap waits for block whatever ctx says, as the engine
	// does for a request that may rotate the RAT.
	critical bool
	// stale: the next apply of a plan (Expect set) is refused as stale.
	stale bool
}

func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeBackend) Status(ctx context.Context) (*engine.Status, error) {
	if f.statusFn != nil {
		return f.statusFn()
	}
	return f.status, nil
}

func (f *fakeBackend) Bootstrap(ctx context.Context, opts engine.Options) (*engine.Report, error) {
	f.mu.Lock()
	f.calls = append(f.calls, opts)
	f.mu.Unlock()
	if f.block != nil && f.critical {
		<-f.block
	} else if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.stale && opts.Expect != nil {
		f.stale = false
		return nil, &engine.StalePlanError{Differences: []string{"active key was k-2026-11, is k-2026-12"}}
	}
	r := *f.report
	if opts.Force {
		r = engine.Report{Outcome: "re-registered", ClientID: "bff-orders", ActiveKID: "k-2026-11",
			Steps: []string{"delete the registration of client bff-orders", `register a client (forced re-registration) with key "k-2026-11"`}}
	}
	r.DryRun = opts.DryRun
	r.Basis = &engine.Basis{ClientID: "bff-orders", ActiveKID: "k-2026-11"}
	return &r, nil
}

var fixedNow = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func daysAgo(d int) *time.Time {
	t := fixedNow.Add(-time.Duration(d) * 24 * time.Hour)
	return &t
}

func intp(i int) *int { return &i }

// sampleStatus is a client with an active key, a published older one, and
// optionally a due active key and an expired one.
func sampleStatus(variant string) *engine.Status {
	st := &engine.Status{
		IdP:             "http://127.0.0.1:4000",
		ClientID:        "bff-orders",
		AuthMethod:      "private_key_jwt",
		RedirectURIs:    []string{"https://bff.example.test/callback"},
		ClientURI:       "http://127.0.0.1:4000/reg/bff-orders",
		RAT:             engine.RATHealth{Health: engine.RATValid, Fingerprint: "sha256:1a2b3c4d"},
		ActiveKID:       "k-2026-11",
		RotateAfterDays: 30,
		RetireAfterDays: 60,
		CheckedAt:       fixedNow,
		JWKSCurrent:     true,
		Metadata:        map[string]any{"client_id": "bff-orders", "token_endpoint_auth_method": "private_key_jwt"},
		Keys: []engine.KeyStatus{
			{KID: "k-2026-11", Alg: "RS256", Use: "sig", CreatedAt: daysAgo(3), AgeDays: intp(3), States: []string{"active"}, Thumbprint: "tp-active", JWK: []byte(`{"kty":"RSA","kid":"k-2026-11","n":"AQAB","e":"AQAB"}`)},
			{KID: "k-2026-10", Alg: "RS256", Use: "sig", CreatedAt: daysAgo(33), AgeDays: intp(33), States: []string{"published"},
				SupersededAt: daysAgo(3), RetiresOn: daysAgo(-27)},
		},
	}
	switch variant {
	case "due":
		st.Keys[0].CreatedAt, st.Keys[0].AgeDays, st.Keys[0].States = daysAgo(41), intp(41), []string{"active", "due"}
		st.Keys[1].CreatedAt, st.Keys[1].AgeDays, st.Keys[1].States = daysAgo(71), intp(71), []string{"published", "expired"}
		st.Keys[1].SupersededAt, st.Keys[1].RetiresOn = daysAgo(41), daysAgo(11)
		st.Keys = append(st.Keys, engine.KeyStatus{KID: "imported-by-hand", Use: "sig", States: []string{"published", "remote-only"}})
	case "rejected":
		st.RAT = engine.RATHealth{Health: engine.RATRejected, HTTPStatus: 401, Fingerprint: "sha256:1a2b3c4d", Error: "idp: read http://127.0.0.1:4000/reg/bff-orders: HTTP 401 invalid_token"}
		st.Metadata = nil
		st.JWKSCurrent, st.JWKSSeenAt = false, daysAgo(1)
		st.Keys[1].States = []string{"last-seen"}
	}
	return st
}

func sampleReport() *engine.Report {
	return &engine.Report{
		Outcome: "updated", ClientID: "bff-orders", ActiveKID: "k-2026-11",
		Steps: []string{`generate a new RS256 key (rotation requested)`, `promote key "(new key)" to signing key (BFF_JWT_SIGNING_KEY, active_kid)`},
	}
}

func (f *fakeBackend) History(n int) ([]audit.Entry, error) {
	return []audit.Entry{{Time: fixedNow, Command: "tui: rotate", Outcome: "updated", User: "ops", Host: "bastion",
		Steps: []string{`publish key "k-2026-12"`}, Before: audit.Snapshot{RAT: "sha256:aaaa"}, After: audit.Snapshot{RAT: "sha256:bbbb"}}}, nil
}

func (f *fakeBackend) Doctor(context.Context) []engine.Check {
	return []engine.Check{
		{Name: "configuration", OK: true, Found: "valid"},
		{Name: "clock against the IdP", Found: "local clock 2m0s from the IdP's Date header", Fix: "synchronise this host's clock (NTP)"},
		{Name: "registration access token", OK: true, Skipped: true, Found: "not read"},
	}
}
