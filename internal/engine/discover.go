package engine

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
)

// Where the registration lives: the registration endpoint (discovery) and
// the client's registration_client_uri.

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
