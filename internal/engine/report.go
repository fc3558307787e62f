package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/internal/keys"
)

// What an operation did, or with DryRun would do, as an operator reads it.

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
	// Warnings are what an operator should weigh before confirming.
	Warnings []string `json:"warnings,omitempty"`
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
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
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
