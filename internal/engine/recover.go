package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// The RFC 7592 read, and what a rejected RAT leads to: renewal with the
// bootstrap admin token where the IdP offers a route, else the remedies.

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
	case r.st.Management == state.ManagementAdminAPI:
		return nil, r.adminAPIRejected(err)
	case !r.canRecover():
		return nil, r.ratRejected(err, nil)
	}
	if !r.renewPlanned {
		r.e.Log.Warn("registration access token rejected; recovering it with the bootstrap admin token", "client_id", r.st.ClientID, "rat", secret.Fingerprint(r.st.RegistrationAccessToken), "recovery", r.cfg.Recovery)
		if renewErr := r.renewRAT(ctx); renewErr != nil {
			return nil, r.ratRejected(err, renewErr)
		}
	}
	if r.renewPlanned {
		// Nothing more can be read without the renewal the plan proposes.
		r.apply(ctx, change{say: line("then read the client again and apply what is due")})
		return nil, errPlanEndsHere
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
		remedy = fmt.Sprintf("dcrctl knows no way to re-issue a registration access token at this IdP (DCRCTL_IDP_PRESET=%s, DCRCTL_RAT_RECOVERY=none); "+
			"if you hold its bootstrap admin token, name the route and run `dcrctl rat renew`: DCRCTL_IDP_PRESET=keycloak, gravitee or curity for those IdPs, "+
			"or DCRCTL_RAT_RECOVERY=admin-url with DCRCTL_ADMIN_RAT_URL (a URL template with {client_id}); otherwise ", r.cfg.Preset.Name) + remedy
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
	route, ok := recoveries[r.cfg.Recovery]
	if !ok {
		return r.ratRejected(errors.New("renewal requested"), fmt.Errorf("no recovery route %q", r.cfg.Recovery))
	}
	applied, err := r.apply(ctx, change{
		say: line("renew the registration access token with the bootstrap admin token (%s)", r.cfg.Recovery),
		effect: func(ctx context.Context) error {
			r.e.IdP.Redactor.Add(token)
			method, uri, err := route.route(ctx, r)
			if err != nil {
				return err
			}
			return r.critical(ctx, opRenew, method, uri, func(ctx context.Context) error {
				rat, err := route.renew(ctx, r, uri, token)
				if err != nil {
					return err
				}
				faults.Point("rat-renewed")
				return r.adoptRAT(rat)
			})
		}})
	if err != nil {
		return err
	}
	r.renewPlanned = !applied // a plan cannot read past a renewal it only proposes
	r.markUpdated()
	return nil
}
