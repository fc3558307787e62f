package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// RFC 7591 registration, and replacing a registration (--force,
// DCR_FORCE_REPLACE).

// replaceOnce is DCR_FORCE_REPLACE: a flag that stays set in a deployment
// replaces the registration once; the client it made is then maintained
// like any other, with a WARN to unset the flag, and replaced again only if
// its RAT is rejected (the flag's purpose: a registration that cannot be
// managed any more).
func (r *run) replaceOnce(ctx context.Context) error {
	if !r.st.Registered() || r.st.ForceReplacedClientID != r.st.ClientID {
		if err := r.replace(ctx); err != nil {
			return err
		}
		r.st.ForceReplacedClientID = r.st.ClientID
		return r.save()
	}
	r.e.Log.Warn("DCR_FORCE_REPLACE is still set; the client it registered is healthy and kept: unset the flag", "client_id", r.st.ClientID)
	if r.st.Unmanaged() {
		return r.keepUnmanaged(ctx)
	}
	err := r.maintain(ctx)
	var rejected *RATRejectedError
	if errors.As(err, &rejected) {
		r.e.Log.Warn("the registration access token is rejected and DCR_FORCE_REPLACE is set; replacing the registration", "client_id", r.st.ClientID)
		r.st.ForceReplacedClientID = ""
		return r.replaceOnce(ctx)
	}
	return err
}

// replace registers the client again. The old client stays in use until
// the new one's answer is saved, recorded as abandoned in that same write,
// and is deleted once the new client is proven (deleteAbandoned) where its
// RAT or the admin API allows; otherwise it stays listed for an
// administrator. Only where DCR_CLIENT_ID names the very client being
// replaced, which an IdP that honours it cannot hold twice, is it deleted
// first.
func (r *run) replace(ctx context.Context) error {
	if !r.st.Registered() {
		return r.register(ctx, "forced re-registration", "re-registered")
	}
	if r.cfg.ClientID != "" && r.cfg.ClientID == r.st.ClientID && r.st.HasCredentials() {
		return r.replaceSameClientID(ctx)
	}
	why := "replaced by a forced re-registration"
	credentials := r.st.HasCredentials()
	if credentials {
		if _, err := r.clientURI(ctx); err != nil {
			return err
		}
	} else {
		why += "; the IdP offers no RFC 7592 management to delete it"
	}
	r.replacing = r.replaced(why, credentials)
	note := line("leave client %s at the IdP (it cannot be deleted without RFC 7592 management) and record it as abandoned", r.st.ClientID)
	if credentials {
		note = line("keep client %s until the new client is registered, then delete it", r.st.ClientID)
	}
	if _, err := r.apply(ctx, change{say: note}); err != nil {
		return err
	}
	return r.register(ctx, "forced re-registration", "re-registered")
}

// replaceSameClientID deletes the registration, then registers the same
// client_id again (DCR_CLIENT_ID). A refused deletion is recorded as an
// abandoned client with the new client's answer.
func (r *run) replaceSameClientID(ctx context.Context) error {
	uri, err := r.clientURI(ctx)
	if err != nil {
		return err
	}
	_, err = r.apply(ctx, change{
		say: line("delete the registration of client %s", r.st.ClientID),
		effect: func(ctx context.Context) error {
			if err := r.claimForRAT(); err != nil {
				return err
			}
			err := r.e.IdP.Delete(ctx, uri, r.credential())
			switch {
			case err == nil:
				faults.Point("client-deleted")
				return nil
			case !idp.IsRejected(err) && !idp.IsNotFound(err) && !idp.HasStatus(err, http.StatusMethodNotAllowed):
				return err
			}
			r.e.Log.Warn("could not delete the old registration; registering anew anyway", "client_id", r.st.ClientID, "err", err)
			if !idp.IsNotFound(err) {
				r.replacing = r.replaced("replaced; its deletion was refused: "+err.Error(), false)
			}
			return errNotApplied
		}})
	if err != nil {
		return err
	}
	return r.register(ctx, "forced re-registration", "re-registered")
}

// register is the RFC 7591 registration with the initial access token.
func (r *run) register(ctx context.Context, reason, outcome string) error {
	if r.pending != nil && !r.withNext {
		// A fresh registration starts with the active key alone.
		r.st.PendingKID, r.pending = "", nil
	}
	md := r.intendedMetadata()
	for k, v := range map[string]string{"client_id": r.cfg.ClientID, "client_profile": r.cfg.ClientProfile, "client_name": r.cfg.ClientName} {
		if v != "" {
			md[k] = v
		}
	}
	_, err := r.apply(ctx, change{
		say:     line("register a client (%s) with key %q", reason, r.active.rec.KID),
		outcome: outcome,
		planned: "would " + strings.TrimSuffix(outcome, "ed"), // never "registered" for what was not
		effect:  func(ctx context.Context) error { return r.sendRegistration(ctx, md) },
	})
	return err
}

// sendRegistration sends the registration and saves its answer before
// anything else: the client, its RAT (if any) and the keys it holds.
func (r *run) sendRegistration(ctx context.Context, md idp.Metadata) error {
	// The fence first: a replica that planned this registration from a
	// stale read learns it here, before it spends a discovery request or an
	// initial access token (which may be one-time, as Curity's are).
	if err := r.claim(false); err != nil {
		return err
	}
	pub, err := keys.PublicJWK(r.active.signer, r.active.rec.KID, r.active.rec.Alg)
	if err != nil {
		return err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return err
	}
	if r.withNext && r.pending != nil {
		next, err := keys.PublicJWK(r.pending.signer, r.pending.rec.KID, r.pending.rec.Alg)
		if err != nil {
			return err
		}
		if err := set.AddKey(next); err != nil {
			return err
		}
	}
	md["jwks"] = set
	endpoint, err := r.registrationEndpoint(ctx)
	if err != nil {
		return err
	}
	iat := "" // open registration: no Authorization header
	if r.cfg.AdminAPI {
		// The admin API registers with the admin token, as it manages.
		if err := r.needAdminToken(); err != nil {
			return err
		}
		iat = r.adminToken()
		r.e.IdP.Redactor.Add(iat)
	} else if r.e.IAT != nil {
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
		// The client this one replaces is recorded with the answer, in
		// the same write.
		r.abandon(r.replacing)
		r.replacing = nil
		r.st.ClientID = reg.ClientID
		r.st.RegistrationAccessToken = reg.RAT
		// RFC 7591 §3.2.1: the RAT and the client URI are RFC 7592's, and
		// optional. With a RAT and no URI, {endpoint}/{client_id} (the old
		// helper's); without a RAT there is nothing to manage, and no URI
		// is invented.
		r.st.Management, r.st.RegistrationClientURI = state.ManagementNone, ""
		switch {
		case reg.RAT != "":
			r.st.Management = state.ManagementRFC7592
		case r.cfg.AdminAPI:
			r.st.Management = state.ManagementAdminAPI
		}
		if r.st.Management != state.ManagementNone {
			r.st.RegistrationClientURI = firstNonEmpty(reg.ClientURI, strings.TrimRight(endpoint, "/")+"/"+url.PathEscape(reg.ClientID))
		}
		// A clean record: an earlier client's keys are not this one's.
		fresh := r.active.rec
		fresh.PublishedAt, fresh.SupersededAt = nil, nil
		r.st.Keys = []state.Key{fresh}
		r.markPublished([]string{r.active.rec.KID})
		if r.withNext && r.pending != nil {
			next := r.pending.rec
			next.PublishedAt, next.SupersededAt = nil, nil
			r.st.PutKey(next)
			r.markPublished([]string{next.KID})
		}
		// The IdP's answer verifies what it registered (see fresh.go), and
		// is the JWKS as last seen.
		now := r.now.Truncate(time.Second)
		r.st.VerifiedAt, r.st.VerifiedConfig, r.st.JWKSSeenAt = &now, r.verificationDigest(), &now
		return r.saveAnswer()
	})
	var refused *idp.Error
	switch {
	case idp.IsRejected(err) && r.cfg.AdminAPI:
		return r.adminAPIRejected(err)
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
	if reg.RAT == "" && r.cfg.AdminAPI {
		r.e.Log.Info("client registered; it is managed through the IdP's admin API with the admin token", "client_id", reg.ClientID, "kid", r.active.rec.KID)
	} else if reg.RAT == "" {
		r.e.Log.Info("client registered; the IdP offers no RFC 7592 management (no registration access token): it is kept as registered, never registered again by bootstrap, and its keys cannot be updated in place", "client_id", reg.ClientID, "kid", r.active.rec.KID)
	} else {
		r.e.Log.Info("client registered", "client_id", reg.ClientID, "kid", r.active.rec.KID, "rat", secret.Fingerprint(reg.RAT))
	}
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

// keepUnmanaged is bootstrap at an IdP without RFC 7592 management: the
// client is kept as registered and nothing is sent (there is nothing to
// read). A due rotation cannot be published in place: it is said, never a
// reason to register again (which would leave a client behind per start).
func (r *run) keepUnmanaged(ctx context.Context) error {
	if r.cfg.Rotation == config.RotationReregister && (r.pending != nil || r.policy().RotationDue(r.active.info(), false, r.now)) {
		return r.rotateByReregistration(ctx)
	}
	if r.cfg.VerifyToken {
		if err := r.proveKey(ctx); err != nil {
			return err
		}
	} else {
		r.e.Log.Info("client registered without RFC 7592 management; nothing to read at the IdP (DCRCTL_VERIFY=token proves the key with a token request)", "client_id", r.st.ClientID)
	}
	if r.policy().RotationDue(r.active.info(), false, r.now) {
		r.e.Log.Warn("the signing key is due for rotation, but this IdP offers no RFC 7592 management: keys cannot be updated in place; "+
			"DCRCTL_ROTATION=reregister rotates by registering a new client with both keys, `dcrctl register --force` registers a new client with a new key (the old one stays at the IdP, recorded), or rotate at the IdP's console",
			"client_id", r.st.ClientID, "kid", r.active.rec.KID, "age_days", keys.Days(r.now.Sub(r.active.rec.CreatedAt)))
	}
	return nil
}

// proveKey asks the IdP's token endpoint for a client-credentials token,
// authenticated with the active key (RFC 7523): where the registration
// cannot be read, the one proof that the IdP accepts the key.
func (r *run) proveKey(ctx context.Context) error {
	endpoint, err := r.e.IdP.TokenEndpoint(ctx, r.cfg.IdPBaseURL)
	if err != nil {
		return err
	}
	if err := r.e.IdP.ProveKey(ctx, endpoint, r.st.ClientID, r.active.signer, r.active.rec.KID, r.active.rec.Alg); err != nil {
		return err
	}
	r.e.Log.Info("the IdP accepted the key: a private_key_jwt token request succeeded (DCRCTL_VERIFY=token)", "client_id", r.st.ClientID, "kid", r.active.rec.KID, "token_endpoint", secret.MaskURL(endpoint))
	return nil
}

// rotateByReregistration is a key rotation at an IdP that cannot update a
// client's keys (DCRCTL_ROTATION=reregister). The new client is registered
// with both keys, the one in use and the next: so whichever of the two
// files the application reads first (the state's client_id, the PEM), the
// pair it holds always works. The answer switches the state to the new
// client in one write, the old client recorded as abandoned (it cannot be
// deleted); the next key then signs as any promotion does. A crash before
// the answer is saved leaves the old client in use and a note that warns
// of a possible unrecorded client.
func (r *run) rotateByReregistration(ctx context.Context) error {
	if r.e.IAT == nil && !r.cfg.OpenRegistration {
		return &MissingIATError{Reason: "rotation by re-registration (DCRCTL_ROTATION=reregister)"}
	}
	if r.pending == nil {
		if err := r.generatePending(nil); err != nil {
			return err
		}
	}
	if r.pending.rec.PublishedAt == nil || r.st.Key(r.pending.rec.KID).PublishedAt == nil {
		r.withNext = true
		r.replacing = r.replaced("replaced by rotation by re-registration (DCRCTL_ROTATION=reregister)", false)
		if err := r.register(ctx, "rotation by re-registration: this IdP cannot update keys in place", "re-registered"); err != nil {
			return err
		}
	}
	// The new client was registered with both keys.
	return r.promoteIfReady([]string{r.active.rec.KID, r.pending.rec.KID})
}
