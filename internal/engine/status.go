package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// RAT health values.
const (
	RATValid       = "valid"
	RATRejected    = "rejected"
	RATNotCached   = "not cached"
	RATUnreachable = "unreachable"
	RATClientGone  = "client unknown to the IdP"
	// RATUnchecked: not read, because the answer could not be saved.
	RATUnchecked = "not checked"
	// RATNone: the IdP registered the client without RFC 7592 management
	// (RFC 7591 §3.2.1: no RAT); a healthy registration, nothing to read.
	RATNone = "none (no RFC 7592 management)"
	// RATDocument: a Client ID Metadata Document client has no RAT.
	RATDocument = "none (client ID metadata document)"
)

// RATHealth is what the IdP made of the cached registration access token.
type RATHealth struct {
	Health      string `json:"health"`
	HTTPStatus  int    `json:"http_status,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Error       string `json:"error,omitempty"`
	// Note explains a rejection from the write-ahead note, when one is left.
	Note string `json:"note,omitempty"`
	// Next is what to do about it, for this configuration.
	Next string `json:"next_step,omitempty"`
}

// KeyStatus is one key as the operator sees it.
type KeyStatus struct {
	KID       string     `json:"kid"`
	Alg       string     `json:"alg,omitempty"`
	Use       string     `json:"use,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	AgeDays   *int       `json:"age_days,omitempty"`
	States    []string   `json:"states"`
	// SupersededAt: when it stopped signing. RetiresOn: when it is due to
	// be unpublished (retire-after from creation, and never before the
	// verification window from SupersededAt); not for the active or next key.
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
	RetiresOn    *time.Time `json:"retires_on,omitempty"`
	// PublishedAt and SignsFrom, for the next key: when it was published,
	// and when it becomes the signing key (DCRCTL_ACTIVATE_AFTER; for a
	// metadata document client, DCRCTL_DOC_CACHE).
	PublishedAt *time.Time `json:"published_at,omitempty"`
	SignsFrom   *time.Time `json:"signs_from,omitempty"`
	// Thumbprint (RFC 7638) and the public JWK as the IdP publishes it.
	Thumbprint string          `json:"thumbprint,omitempty"`
	JWK        json.RawMessage `json:"jwk,omitempty"`
}

// Status is the client as the IdP and the local state see it.
type Status struct {
	IdP             string      `json:"idp"`
	ClientID        string      `json:"client_id,omitempty"`
	ClientName      string      `json:"client_name,omitempty"`
	AuthMethod      string      `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs    []string    `json:"redirect_uris"`
	ClientURI       string      `json:"registration_client_uri,omitempty"`
	RAT             RATHealth   `json:"registration_access_token"`
	ActiveKID       string      `json:"active_kid,omitempty"`
	RotateAfterDays int         `json:"rotate_after_days"`
	RetireAfterDays int         `json:"retire_after_days"`
	Keys            []KeyStatus `json:"keys"`
	CheckedAt       time.Time   `json:"checked_at"`
	// JWKSCurrent is false when the IdP could not be read: keys in state
	// "last-seen" were published when dcrctl last read the JWKS, at
	// JWKSSeenAt (unknown when empty), not necessarily now.
	JWKSCurrent bool       `json:"jwks_current"`
	JWKSSeenAt  *time.Time `json:"jwks_seen_at,omitempty"`
	// Drift: members where the configuration and the registration differ
	// (empty when they agree or the IdP could not be read).
	Drift    []Drift      `json:"drift"`
	Metadata idp.Metadata `json:"-"`
	// Management is how the IdP lets the client be managed: rfc7592, or
	// none (registration only). AbandonedClients were replaced and could
	// not be deleted: an administrator must remove them.
	Management       string                  `json:"management,omitempty"`
	AbandonedClients []state.AbandonedClient `json:"abandoned_clients,omitempty"`
}

// Status reads the registration (one GET, no change; a RAT the IdP rotates is
// saved) and reports every key's state. An IdP refusal is part of the
// status, not an error.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	var out *Status
	_, err := e.withRun(ctx, Options{DryRun: true, readOnly: true}, func(ctx context.Context, r *run) error {
		out = r.status(ctx)
		return nil
	})
	return out, err
}

func (r *run) status(ctx context.Context) *Status {
	st := &Status{
		IdP:             secret.MaskURL(firstNonEmpty(r.cfg.IdPBaseURL, r.cfg.RegistrationEndpoint)),
		ClientID:        r.st.ClientID,
		ClientURI:       r.st.RegistrationClientURI,
		ActiveKID:       r.st.ActiveKID,
		RotateAfterDays: keys.Days(r.cfg.RotateAfter),
		RetireAfterDays: keys.Days(r.cfg.RetireAfter),
		RedirectURIs:    []string{},
		CheckedAt:       r.now,
		Drift:           []Drift{},
	}
	for _, ab := range r.st.AbandonedClients {
		st.AbandonedClients = append(st.AbandonedClients, ab.Public())
	}
	if r.st.Registered() {
		st.Management = firstNonEmpty(r.st.Management, state.ManagementRFC7592)
	}
	var reg *idp.Registration
	switch {
	case r.st.Management == state.ManagementDocument:
		if r.pending != nil {
			r.readServedMaxAge(ctx) // when the next key signs depends on it
		}
		st.RAT.Health = RATDocument
		st.RAT.Next = "nothing to register: authorization servers fetch the document at the client_id URL (dcrctl cimd lint " + r.st.ClientID + " checks it as they do)"
		reg, _ = r.documentAsRegistration() // the document as written: what an AS fetches
	case r.st.Unmanaged():
		st.Management = state.ManagementNone
		st.RAT.Health = RATNone
		st.RAT.Next = "this IdP offers no RFC 7592 management: the registration cannot be read, and keys cannot be updated in place; a due rotation needs `dcrctl register --force` (a new client; the old one stays at the IdP and is listed here)"
	case !r.st.HasCredentials():
		st.RAT.Health = RATNotCached
	case r.st.Management == state.ManagementAdminAPI && r.adminToken() == "":
		st.RAT.Health = RATNotCached
		st.RAT.Next = "set BOOTSTRAP_ADMIN_TOKEN: this IdP manages clients through its admin API, not with a registration access token"
	default:
		st.RAT.Fingerprint = secret.Fingerprint(r.credential())
		uri, err := r.clientURI(ctx)
		if err == nil {
			reg, err = r.readClient(ctx, uri)
		}
		var unwritable *state.UnwritableError
		if errors.As(err, &unwritable) {
			// Nothing was sent: any read may carry a rotated RAT, and
			// its answer needs a state it can be saved in.
			reg = nil
			st.RAT = RATHealth{Health: RATUnchecked, Fingerprint: st.RAT.Fingerprint,
				Error: fmt.Sprintf("not checked: the IdP may answer a read with a new registration access token, which must be saved, and %v", err)}
		} else {
			// The RAT as saved now: a read may have rotated it.
			st.RAT = ratHealth(err, secret.Fingerprint(r.credential()))
		}
		r.explain(&st.RAT)
		st.ClientURI = r.st.RegistrationClientURI
	}
	st.JWKSCurrent = reg != nil
	if reg == nil {
		st.JWKSSeenAt = r.st.JWKSSeenAt
	}
	if reg != nil {
		st.Metadata = withoutSecrets(reg.Metadata)
		st.ClientName = reg.Metadata.String("client_name")
		st.AuthMethod = reg.Metadata.String("token_endpoint_auth_method")
		st.RedirectURIs = reg.Metadata.Strings("redirect_uris")
		if d := r.drift(reg.Metadata); d != nil {
			st.Drift = d
		}
	}
	st.Keys = r.keyStatuses(reg)
	return st
}

// explain adds the next step for a RAT that is not valid, as the
// incident runbook (README) has it for this configuration.
func (r *run) explain(h *RATHealth) {
	switch {
	case r.st.Management != state.ManagementAdminAPI:
	case h.Health == RATValid:
		h.Next = "no registration access token: the client is managed through the IdP's admin API with BOOTSTRAP_ADMIN_TOKEN (the fingerprint is the admin token's)"
		return
	case h.Health == RATRejected:
		h.Next = "the IdP's admin API refused BOOTSTRAP_ADMIN_TOKEN: set a token allowed to manage clients there; nothing was changed"
		return
	}
	switch h.Health {
	case RATRejected:
		h.Note = r.lostAnswer()
		switch {
		case r.canRecover():
			h.Next = fmt.Sprintf("renew it: dcrctl rat renew (recovery %s with BOOTSTRAP_ADMIN_TOKEN)", r.cfg.Recovery)
		case r.cfg.HasRecovery():
			h.Next = fmt.Sprintf("renew it: dcrctl rat renew (it asks for the bootstrap admin token; recovery %s); without an admin token: dcrctl register --force", r.cfg.Recovery)
		default:
			h.Next = fmt.Sprintf("the IdP (DCRCTL_IDP_PRESET=%s) offers no renewal: dcrctl register --force registers a new client", r.cfg.Preset.Name)
		}
	case RATClientGone:
		h.Next = "dcrctl bootstrap registers the client again (with the initial access token)"
	case RATUnreachable:
		h.Next = "check that the IdP answers at " + secret.MaskURL(firstNonEmpty(r.cfg.IdPBaseURL, r.cfg.RegistrationEndpoint)) + " (DCRCTL_CA_FILE for a private CA); nothing was changed"
	case RATUnchecked:
		h.Next = "run dcrctl status as the user that owns " + r.cfg.StatePath + " (BFF_CLIENT_CRED_PATH)"
	}
}

func ratHealth(err error, fp string) RATHealth {
	h := RATHealth{Health: RATValid, Fingerprint: fp}
	if err == nil {
		return h
	}
	h.Error = err.Error()
	var ie *idp.Error
	switch {
	case idp.IsRejected(err):
		h.Health = RATRejected
	case errors.As(err, &ie) && ie.Status == http.StatusNotFound:
		h.Health = RATClientGone
	default:
		h.Health = RATUnreachable
	}
	if errors.As(err, &ie) {
		h.HTTPStatus = ie.Status
	}
	return h
}

// keyStatuses merges the IdP's JWKS (when read) with the local records.
func (r *run) keyStatuses(reg *idp.Registration) []KeyStatus {
	policy := r.policy()
	byKID := map[string]*KeyStatus{}
	var order []string
	add := func(kid string) *KeyStatus {
		if ks, ok := byKID[kid]; ok {
			return ks
		}
		byKID[kid] = &KeyStatus{KID: kid}
		order = append(order, kid)
		return byKID[kid]
	}
	published := map[string]bool{}
	if reg != nil {
		for _, kid := range keys.KIDs(reg.JWKS) {
			published[kid] = true
			ks := add(kid)
			if k := keys.Find(reg.JWKS, kid); k != nil {
				ks.Use = k.KeyUsage()
				if k.Algorithm() != nil {
					ks.Alg = k.Algorithm().String()
				}
				ks.Thumbprint, _ = keys.ThumbprintOf(k)
				ks.JWK, _ = json.Marshal(k)
			}
		}
	}
	for _, rec := range r.st.Keys {
		// Records of keys that are neither published nor held here are history.
		if reg != nil && !published[rec.KID] && rec.KID != r.st.ActiveKID && rec.KID != r.st.PendingKID {
			continue
		}
		ks := add(rec.KID)
		ks.Alg = firstNonEmpty(ks.Alg, rec.Alg)
		ks.Thumbprint = firstNonEmpty(ks.Thumbprint, rec.Thumbprint)
		created := rec.CreatedAt
		ks.CreatedAt = &created
		age := keys.Days(r.now.Sub(created))
		ks.AgeDays = &age
		ks.SupersededAt = rec.SupersededAt
		if rec.KID == r.st.PendingKID && rec.PublishedAt != nil {
			from := rec.PublishedAt.Add(r.activateAfter())
			ks.PublishedAt, ks.SignsFrom = rec.PublishedAt, &from
		}
		if rec.KID != r.st.ActiveKID && rec.KID != r.st.PendingKID {
			if on, ok := policy.RetiresOn(info(rec)); ok {
				ks.RetiresOn = &on
			}
		}
	}
	out := make([]KeyStatus, 0, len(order))
	for _, kid := range order {
		ks := byKID[kid]
		facts := keys.Facts{Info: keys.Info{KID: kid}, Active: kid == r.st.ActiveKID, Next: kid == r.st.PendingKID}
		if rec := r.st.Key(kid); rec != nil {
			facts.Info, facts.Recorded = info(*rec), true
		}
		if reg != nil {
			facts.Published = published[kid]
		} else {
			// Not read now: what the records say of the last read.
			facts.LastSeen = facts.Recorded && (!facts.Next || r.st.Key(kid).PublishedAt != nil)
		}
		ks.States = policy.States(facts, r.now)
		out = append(out, *ks)
	}
	// Newest first, unknown ages last: the order the cap keeps them in.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].CreatedAt, out[j].CreatedAt
		if (a == nil) != (b == nil) {
			return a != nil
		}
		return a != nil && a.After(*b)
	})
	return out
}

// withoutSecrets is client metadata fit to show: no RAT, no client secret.
func withoutSecrets(md idp.Metadata) idp.Metadata {
	out := make(idp.Metadata, len(md))
	for k, v := range md {
		if k != "registration_access_token" && k != "client_secret" {
			out[k] = v
		}
	}
	return out
}
