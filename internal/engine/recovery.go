package engine

import (
	"context"
	"net/http"

	"github.com/dcrctl/dcrctl/internal/config"
)

// recovery is one way an IdP re-issues a registration access token with the
// bootstrap admin token. Which one applies is the preset's data
// (DCRCTL_RAT_RECOVERY); the engine asks the route and sends, and never
// branches on the IdP's name.
type recovery interface {
	// route is where the renewal goes, and with which method, for the
	// write-ahead note and the audit trail.
	route(ctx context.Context, r *run) (method, uri string, err error)
	// renew sends it and returns the new RAT.
	renew(ctx context.Context, r *run, uri, adminToken string) (string, error)
}

// recoveries are the routes by DCRCTL_RAT_RECOVERY ("none" has none).
var recoveries = map[string]recovery{
	config.RecoveryAdminURL:        adminURLRecovery{},
	config.RecoveryKeycloak:        keycloakRecovery{},
	config.RecoveryManagementToken: managementTokenRecovery{},
}

// adminURLRecovery POSTs the admin token to DCRCTL_ADMIN_RAT_URL, a template
// with {client_id} the operator named (dcrctl sends the token nowhere else).
type adminURLRecovery struct{}

func (adminURLRecovery) route(_ context.Context, r *run) (string, string, error) {
	return http.MethodPost, r.cfg.AdminRATURLFor(r.st.ClientID), nil
}

func (adminURLRecovery) renew(ctx context.Context, r *run, uri, token string) (string, error) {
	return r.e.IdP.RenewRAT(ctx, uri, token)
}

// keycloakRecovery is Keycloak's admin REST API, as `kcreg update-token`
// uses it: look up the client's internal id, then POST
// /clients/{id}/registration-access-token.
type keycloakRecovery struct{}

func (keycloakRecovery) route(_ context.Context, r *run) (string, string, error) {
	return http.MethodPost, r.cfg.AdminRATURL, nil
}

func (keycloakRecovery) renew(ctx context.Context, r *run, uri, token string) (string, error) {
	return r.e.IdP.RenewRATKeycloak(ctx, uri, r.st.ClientID, token)
}

// managementTokenRecovery presents a management-scoped token (Gravitee AM's
// dcr_admin, Curity's dcrm) on the client's own URI: an update that the IdP
// answers with a new RAT.
type managementTokenRecovery struct{}

func (managementTokenRecovery) route(ctx context.Context, r *run) (string, string, error) {
	uri, err := r.clientURI(ctx)
	return http.MethodPut, uri, err
}

func (managementTokenRecovery) renew(ctx context.Context, r *run, uri, token string) (string, error) {
	return r.e.IdP.RenewRATWithManagementToken(ctx, uri, token, r.intendedMetadata())
}
