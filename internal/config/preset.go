package config

import (
	"net/url"
	"slices"
	"strings"
)

// Ways a rejected registration access token can be recovered (DCRCTL_RAT_RECOVERY).
const (
	// RecoveryAdminURL: POST the admin token to DCRCTL_ADMIN_RAT_URL; the
	// answer's registration_access_token is the new RAT.
	RecoveryAdminURL = "admin-url"
	// RecoveryKeycloak: Keycloak's admin REST API, as `kcreg update-token`
	// does: resolve the clientId to the internal id, then POST
	// …/clients/{id}/registration-access-token (answer: registrationAccessToken).
	RecoveryKeycloak = "keycloak"
	// RecoveryManagementToken: the admin token itself manages any client on
	// its registration_client_uri (Gravitee AM scope dcr_admin, Curity scope
	// dcrm); a read or a no-change update with it returns a fresh RAT.
	RecoveryManagementToken = "management-token"
	// RecoveryNone: the IdP has no way to re-issue a RAT (Hydra, Glewlwyd);
	// only DCR_FORCE_REPLACE helps.
	RecoveryNone = "none"
)

// Recoveries lists the DCRCTL_RAT_RECOVERY values.
var Recoveries = []string{RecoveryAdminURL, RecoveryKeycloak, RecoveryManagementToken, RecoveryNone}

// Preset is what a user would otherwise look up about one IdP product.
// Facts from each product's public documentation and source
// (../shared/REFERENCES.md); the README's interop table says which were
// proven against the real server and which against an emulation.
type Preset struct {
	Name string
	// RegistrationPath is appended to IDP_BASE_URL when discovery lists no
	// registration_endpoint (Hydra does not unless configured).
	RegistrationPath string
	UpdateMethod     string // put (RFC 7592 §2.2) or patch
	OpenRegistration bool   // registration needs no initial access token
	Recovery         string // how a rejected RAT is recovered
	// ReadKeepsRAT: the IdP is known never to rotate the RAT on a plain GET
	// of the client. RFC 7592 §2.1 lets any server do so (Curity does), so
	// where this is false a read is handled like an update: never
	// abandoned, and never sent unless its answer can be saved. Only set
	// for servers the test suite runs (oidc-provider rotates in its PUT
	// handler alone, lib/actions/registration.js; Glewlwyd never rotates;
	// Hydra rotates on update).
	ReadKeepsRAT bool
	// ManagementScope is the scope of a token that manages any client, for
	// RecoveryManagementToken.
	ManagementScope string
	// AdminAPI: clients are managed through the IdP's admin API with an
	// admin token on {registration endpoint}/{client_id}; registration
	// answers carry no RAT.
	AdminAPI bool
	// AuthScheme is the Authorization scheme of its admin token, when not
	// RFC 6750's Bearer.
	AuthScheme string
}

// Presets are the DCRCTL_IDP_PRESET values.
var Presets = []Preset{
	{Name: "generic", UpdateMethod: "put", Recovery: RecoveryNone},
	// oidc-provider has no renewal route of its own: server code mints one
	// (new provider.RegistrationAccessToken({clientId}).save()) and exposes
	// it where the operator chooses, so DCRCTL_ADMIN_RAT_URL names it.
	{Name: "oidc-provider", UpdateMethod: "put", Recovery: RecoveryNone, ReadKeepsRAT: true},
	{Name: "glewlwyd", UpdateMethod: "put", Recovery: RecoveryNone, ReadKeepsRAT: true},
	{Name: "hydra", RegistrationPath: "/oauth2/register", UpdateMethod: "put", OpenRegistration: true, Recovery: RecoveryNone, ReadKeepsRAT: true},
	{Name: "keycloak", RegistrationPath: "/clients-registrations/openid-connect", UpdateMethod: "put", Recovery: RecoveryKeycloak},
	{Name: "gravitee", RegistrationPath: "/oidc/register", UpdateMethod: "patch", Recovery: RecoveryManagementToken, ManagementScope: "dcr_admin"},
	{Name: "curity", UpdateMethod: "put", Recovery: RecoveryManagementToken, ManagementScope: "dcrm"},
	// Okta's Client Application API (developer.okta.com "OAuth 2.0 Clients
	// API"; it "largely follows RFC 7591"): POST /oauth2/v1/clients, GET, PUT
	// (all settings: "partial updates are not supported") and DELETE (204) on
	// /oauth2/v1/clients/{clientId}, every call with "Authorization: SSWS
	// {api_token}"; no registration access token. Discovery of the org
	// authorization server lists that path as registration_endpoint.
	{Name: "okta", RegistrationPath: "/oauth2/v1/clients", UpdateMethod: "put", Recovery: RecoveryNone, ReadKeepsRAT: true, AdminAPI: true, AuthScheme: "SSWS"},
}

// PresetNames lists the preset names in order.
func PresetNames() []string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return names
}

// LookupPreset returns the named preset.
func LookupPreset(name string) (Preset, bool) {
	i := slices.IndexFunc(Presets, func(p Preset) bool { return p.Name == name })
	if i < 0 {
		return Preset{}, false
	}
	return Presets[i], true
}

// keycloakAdminBase derives Keycloak's admin REST base from a realm URL:
// https://kc/realms/R (the issuer) → https://kc/admin/realms/R.
func keycloakAdminBase(realmURL string) string {
	u, err := url.Parse(realmURL)
	if err != nil {
		return ""
	}
	prefix, realm, found := strings.Cut(u.Path, "/realms/")
	if !found || realm == "" || strings.Contains(realm, "/") {
		return ""
	}
	u.Path = prefix + "/admin/realms/" + realm
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
