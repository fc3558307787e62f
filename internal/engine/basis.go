package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// Basis is what a plan was computed from. Applying a plan passes its basis
// back (Options.Expect); the run re-reads everything under the lock and
// sends nothing when any of it differs, so that what is applied is exactly
// what the operator confirmed (another shell or replica may have rotated,
// retired or renewed in between).
type Basis struct {
	ClientID   string `json:"client_id"`
	RAT        string `json:"rat_fingerprint,omitempty"` // fingerprint, never the token; shown, not compared
	ActiveKID  string `json:"active_kid,omitempty"`
	PendingKID string `json:"pending_kid,omitempty"`
	// Read is whether the plan saw the registration; the rest is empty if not.
	Read      bool     `json:"read"`
	Published []string `json:"published_kids,omitempty"`
	// Metadata is a digest of the registration as read (secrets aside) and
	// of the metadata dcrctl means to send (from the configuration).
	Metadata string `json:"metadata_digest,omitempty"`
}

// localBasis is the part of the basis the state file holds.
func localBasis(st *state.State) Basis {
	b := Basis{ClientID: st.ClientID, ActiveKID: st.ActiveKID, PendingKID: st.PendingKID}
	if st.RegistrationAccessToken != "" {
		b.RAT = secret.Fingerprint(st.RegistrationAccessToken)
	}
	return b
}

// withRegistration adds what the read returned.
func (b Basis) withRegistration(reg *idp.Registration, intended idp.Metadata) Basis {
	b.Read = true
	b.Published = keys.KIDs(reg.JWKS)
	slices.Sort(b.Published)
	data, _ := json.Marshal(map[string]any{"registered": withoutSecrets(reg.Metadata), "intended": intended})
	sum := sha256.Sum256(data)
	b.Metadata = hex.EncodeToString(sum[:8])
	return b
}

// differences lists what changed from b to now; empty when nothing did.
// The remote part is compared only when both sides read the registration.
func (b Basis) differences(now Basis) []string {
	var out []string
	same := func(what, was, is string) {
		if was != is {
			out = append(out, fmt.Sprintf("%s was %s, is %s", what, orNone(was), orNone(is)))
		}
	}
	same("client_id", b.ClientID, now.ClientID)
	// Not the RAT: it is a credential, not part of the client, and an IdP
	// may rotate it on any read (RFC 7592 §3) between plan and apply.
	same("active key", b.ActiveKID, now.ActiveKID)
	same("next key", b.PendingKID, now.PendingKID)
	if b.Read && now.Read {
		same("published keys", kidList(b.Published), kidList(now.Published))
		same("client metadata (digest)", b.Metadata, now.Metadata)
	}
	return out
}

// StalePlanError: the client changed between the plan and its application,
// so nothing was sent. Exit 79; the operator sees the new plan.
type StalePlanError struct{ Differences []string }

func (e *StalePlanError) Error() string {
	return "the client changed since the plan was made, so nothing was applied: " + strings.Join(e.Differences, "; ") + "; review the new plan"
}
