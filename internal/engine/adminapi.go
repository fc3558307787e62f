package engine

import (
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// IdPs that manage clients through an admin API of their own instead of
// RFC 7592 (Okta's Client Application API): the same register, read,
// update and delete on {registration endpoint}/{client_id}, authorised by
// the admin token (BOOTSTRAP_ADMIN_TOKEN, with the preset's Authorization
// scheme), and no registration access token to keep or rotate.

// credential is the token that manages the registration: its RAT (RFC
// 7592), or at an admin-API IdP the admin token.
func (r *run) credential() string {
	if r.st.Management == state.ManagementAdminAPI {
		return r.adminToken()
	}
	return r.st.RegistrationAccessToken
}

// needAdminToken is the error for an admin-API request without the token.
func (r *run) needAdminToken() error {
	if r.adminToken() != "" {
		return nil
	}
	return &config.Error{Name: "BOOTSTRAP_ADMIN_TOKEN", Problem: "is required: this IdP manages clients through its admin API (management admin-api, DCRCTL_IDP_PRESET=" + r.cfg.Preset.Name + "), not with a registration access token"}
}

// adminAPIRejected is the error for a refused admin token.
func (r *run) adminAPIRejected(cause error) error {
	return &AdminAPIRejectedError{ClientID: r.st.ClientID, Fingerprint: secret.Fingerprint(r.adminToken()), Cause: cause}
}
