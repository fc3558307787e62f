// Package idp is dcrctl's HTTP side: OIDC/RFC 8414 discovery, RFC 7591
// registration, RFC 7592 read/update/delete, the admin renewal of a
// registration access token, and the sources of an initial access token.
// It knows nothing of files; every call takes a context first.
package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/keys"
)

// Metadata is client metadata as the IdP returned it, kept whole so that an
// RFC 7592 update can send back everything it was given.
type Metadata map[string]any

// Registration is the IdP's view of the client.
type Registration struct {
	Metadata  Metadata
	ClientID  string
	RAT       string // empty when the response carried none (e.g. Hydra's GET)
	ClientURI string
	JWKS      jwk.Set // nil when the client uses jwks_uri or has no keys
}

// String is a single-valued member, for display and comparison. A
// one-element array counts as its element (Glewlwyd returns
// token_endpoint_auth_method as ["private_key_jwt"]).
func (m Metadata) String(name string) string {
	switch v := m[name].(type) {
	case string:
		return v
	case []any:
		if len(v) == 1 {
			s, _ := v[0].(string)
			return s
		}
	case []string:
		if len(v) == 1 {
			return v[0]
		}
	}
	return ""
}

// Strings is a list-valued member, for display.
func (m Metadata) Strings(name string) []string {
	switch v := m[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return []string{}
}

// notEchoed are members a read returns but an update must not carry:
// RFC 7592 §2.2's four; client_secret, which Hydra refuses even when it
// matches (403) and every IdP keeps anyway; and Hydra's "metadata", which
// its answers carry but its registration endpoint refuses (400).
var notEchoed = []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at", "client_secret", "metadata"}

// singleValued are the RFC 7591 §2 (and OIDC Registration §2) members that
// are single strings. A server that returned one as a one-element array gets
// it back as a string: Glewlwyd answers 400 invalid_client_metadata otherwise.
var singleValued = []string{
	"token_endpoint_auth_method", "client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri",
	"jwks_uri", "software_id", "software_version", "application_type", "scope", "sector_identifier_uri",
	"subject_type", "id_token_signed_response_alg", "userinfo_signed_response_alg",
	"request_object_signing_alg", "token_endpoint_auth_signing_alg", "initiate_login_uri", "client_profile",
}

// UpdateBody is the RFC 7592 §2.2 PUT body: all metadata as last returned,
// with dcrctl's own intended values laid over it, client_id, the new jwks,
// and without the members an update must not (or, in practice, cannot) carry.
func UpdateBody(current, intended Metadata, clientID string, jwks jwk.Set) Metadata {
	body := make(Metadata, len(current)+len(intended)+2)
	for k, v := range current {
		body[k] = v
	}
	for _, f := range notEchoed {
		delete(body, f)
	}
	for _, f := range singleValued {
		if list, ok := body[f].([]any); ok && len(list) == 1 {
			body[f] = list[0]
		}
	}
	for k, v := range intended {
		body[k] = v
	}
	body["client_id"] = clientID
	body["jwks"] = jwks
	delete(body, "jwks_uri") // RFC 7591 §2: never both
	return body
}

// Register sends an RFC 7591 registration request, with the initial access
// token as bearer, or with no Authorization header when iat is empty (open
// registration). Any 2xx carrying a client_id is a success (Glewlwyd answers 200).
func (cl *Client) Register(ctx context.Context, endpoint, iat string, md Metadata) (*Registration, error) {
	if err := checkPublic(md); err != nil {
		return nil, err
	}
	var raw Metadata
	if _, err := cl.do(ctx, call{op: "register", method: http.MethodPost, url: endpoint, bearer: iat, body: md}, &raw); err != nil {
		return nil, err
	}
	return decodeRegistration("register", endpoint, raw)
}

// Read is the RFC 7592 §2.1 read.
func (cl *Client) Read(ctx context.Context, clientURI, rat string) (*Registration, error) {
	var raw Metadata
	if _, err := cl.do(ctx, call{op: "read", method: http.MethodGet, url: clientURI, bearer: rat}, &raw); err != nil {
		return nil, err
	}
	return decodeRegistration("read", clientURI, raw)
}

// Update is the RFC 7592 §2.2 full-metadata PUT; body comes from UpdateBody.
func (cl *Client) Update(ctx context.Context, clientURI, rat string, body Metadata) (*Registration, error) {
	return cl.write(ctx, "update", http.MethodPut, clientURI, rat, body)
}

// Patch is the partial-update dialect some IdPs offer (Gravitee AM): only the
// members given change.
func (cl *Client) Patch(ctx context.Context, clientURI, rat string, partial Metadata) (*Registration, error) {
	return cl.write(ctx, "update", http.MethodPatch, clientURI, rat, partial)
}

func (cl *Client) write(ctx context.Context, op, method, clientURI, rat string, body Metadata) (*Registration, error) {
	if err := checkPublic(body); err != nil {
		return nil, err
	}
	var raw Metadata
	if _, err := cl.do(ctx, call{op: op, method: method, url: clientURI, bearer: rat, body: body}, &raw); err != nil {
		return nil, err
	}
	return decodeRegistration(op, clientURI, raw)
}

// Delete is the RFC 7592 §2.3 delete.
func (cl *Client) Delete(ctx context.Context, clientURI, rat string) error {
	_, err := cl.do(ctx, call{op: "delete", method: http.MethodDelete, url: clientURI, bearer: rat}, nil)
	return err
}

// RenewRAT asks the admin renewal URL for a fresh registration access
// token: POST with the admin token, the token read from the JSON answer's
// registration_access_token. A 404 or 405 there means the URL offers no
// renewal (RenewalUnavailableError), never that the client is gone: only the
// client's own registration_client_uri can say that.
func (cl *Client) RenewRAT(ctx context.Context, adminURL, adminToken string) (string, error) {
	var out struct {
		RAT string `json:"registration_access_token"`
	}
	if _, err := cl.do(ctx, call{op: "renew RAT", method: http.MethodPost, url: adminURL, bearer: adminToken}, &out); err != nil {
		return "", renewalError(err)
	}
	if out.RAT == "" {
		return "", &BadResponseError{Op: "renew RAT", URL: redactURL(adminURL), Problem: "no registration_access_token in the answer"}
	}
	return out.RAT, nil
}

// RenewRATKeycloak is what `kcreg update-token` does with Keycloak's admin
// REST API: GET {admin}/clients?clientId=… for the internal id, then POST
// {admin}/clients/{id}/registration-access-token; the answer is a client
// representation whose registrationAccessToken is the new RAT.
func (cl *Client) RenewRATKeycloak(ctx context.Context, adminBase, clientID, adminToken string) (string, error) {
	adminBase = strings.TrimRight(adminBase, "/")
	var found []struct {
		ID       string `json:"id"`
		ClientID string `json:"clientId"`
	}
	lookup := adminBase + "/clients?clientId=" + url.QueryEscape(clientID)
	if _, err := cl.do(ctx, call{op: "renew RAT (find client)", method: http.MethodGet, url: lookup, bearer: adminToken}, &found); err != nil {
		return "", renewalError(err)
	}
	id := ""
	for _, c := range found {
		if c.ClientID == clientID {
			id = c.ID
		}
	}
	if id == "" {
		return "", &Error{Op: "renew RAT (find client)", URL: redactURL(lookup), Status: http.StatusNotFound, Description: "Keycloak's admin API knows no client with clientId " + clientID}
	}
	var out struct {
		RAT string `json:"registrationAccessToken"`
	}
	renew := adminBase + "/clients/" + url.PathEscape(id) + "/registration-access-token"
	if _, err := cl.do(ctx, call{op: "renew RAT", method: http.MethodPost, url: renew, bearer: adminToken}, &out); err != nil {
		return "", renewalError(err)
	}
	if out.RAT == "" {
		return "", &BadResponseError{Op: "renew RAT", URL: redactURL(renew), Problem: "no registrationAccessToken in the answer"}
	}
	return out.RAT, nil
}

// RenewRATWithManagementToken uses a token that manages any client
// (Gravitee AM's dcr_admin, Curity's dcrm scope) on the client's own URI: a
// read, which returns a fresh RAT where reads rotate it (Curity), else a
// no-change update, which returns one where updates rotate it (Gravitee).
func (cl *Client) RenewRATWithManagementToken(ctx context.Context, clientURI, token string, intended Metadata) (string, error) {
	reg, err := cl.Read(ctx, clientURI, token)
	if err != nil {
		return "", err
	}
	if reg.RAT != "" && reg.RAT != token {
		return reg.RAT, nil
	}
	updated, err := cl.Update(ctx, clientURI, token, UpdateBody(reg.Metadata, intended, reg.ClientID, reg.JWKS))
	if err != nil {
		return "", err
	}
	if updated.RAT == "" || updated.RAT == token {
		return "", &BadResponseError{Op: "renew RAT", URL: redactURL(clientURI), Problem: "the IdP accepted the management token but issued no registration_access_token"}
	}
	return updated.RAT, nil
}

// RenewalUnavailableError: the renewal URL answered 404 or 405: there is no
// renewal there. Exit 77 with the remedies, never a re-registration.
type RenewalUnavailableError struct{ Cause *Error }

func (e *RenewalUnavailableError) Error() string {
	return fmt.Sprintf("no registration access token renewal is available at %s (HTTP %d)", e.Cause.URL, e.Cause.Status)
}

func (e *RenewalUnavailableError) Unwrap() error { return e.Cause }

func renewalError(err error) error {
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed) {
		return &RenewalUnavailableError{Cause: e}
	}
	return err
}

// checkPublic refuses to send any private key member (RFC 7517 §9.2).
func checkPublic(md Metadata) error {
	jwks, ok := md["jwks"]
	if !ok {
		return nil
	}
	data, err := json.Marshal(jwks)
	if err != nil {
		return fmt.Errorf("idp: encode jwks: %w", err)
	}
	if err := keys.PublicOnly(data); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	return nil
}

func decodeRegistration(op, url string, raw Metadata) (*Registration, error) {
	bad := func(problem string) error {
		return &BadResponseError{Op: op, URL: redactURL(url), Problem: problem}
	}
	if raw == nil {
		return nil, bad("empty body")
	}
	reg := &Registration{Metadata: raw}
	reg.ClientID = raw.String("client_id")
	if strings.TrimSpace(reg.ClientID) == "" {
		return nil, bad("no client_id")
	}
	reg.RAT = raw.String("registration_access_token")
	reg.ClientURI = raw.String("registration_client_uri")
	if v, ok := raw["jwks"]; ok && v != nil {
		data, _ := json.Marshal(v)
		set, err := keys.ParseJWKS(data)
		if err != nil {
			return nil, bad(err.Error())
		}
		reg.JWKS = set
	}
	return reg, nil
}
