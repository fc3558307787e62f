// Package idp is dcrctl's HTTP side: OIDC/RFC 8414 discovery, RFC 7591
// registration, RFC 7592 read/update/delete, the admin renewal of a
// registration access token, and the sources of an initial access token.
// It knows nothing of files; every call takes a context first.
package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// String values of metadata, for display.
func (m Metadata) String(name string) string {
	s, _ := m[name].(string)
	return s
}

// Strings is a list-valued member, for display.
func (m Metadata) Strings(name string) []string {
	list, _ := m[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// forbiddenInUpdate must not be sent in an RFC 7592 §2.2 update; client_secret
// is left out too, since some IdPs reject it and the IdP keeps it anyway.
var forbiddenInUpdate = []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at", "client_secret"}

// UpdateBody is the RFC 7592 §2.2 PUT body: all metadata as last returned,
// with client_id, with jwks replaced, without the fields the RFC forbids.
func UpdateBody(current Metadata, clientID string, jwks jwk.Set) Metadata {
	body := make(Metadata, len(current)+1)
	for k, v := range current {
		body[k] = v
	}
	for _, f := range forbiddenInUpdate {
		delete(body, f)
	}
	body["client_id"] = clientID
	body["jwks"] = jwks
	delete(body, "jwks_uri") // RFC 7591 §2: never both
	return body
}

// Discover finds the registration endpoint: OIDC Discovery, then RFC 8414,
// then the conventional {base}/api/oidc/register.
func (cl *Client) Discover(ctx context.Context, baseURL string) (string, error) {
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		var doc struct {
			RegistrationEndpoint string `json:"registration_endpoint"`
		}
		_, err := cl.do(ctx, call{op: "discovery", method: http.MethodGet, url: baseURL + path}, &doc)
		if err == nil && doc.RegistrationEndpoint != "" {
			return doc.RegistrationEndpoint, nil
		}
		if _, unreachable := err.(*UnreachableError); unreachable {
			return "", err
		}
		if err != nil && cl.Log != nil {
			cl.Log.Debug("discovery document not usable", "url", baseURL+path, "err", err)
		}
	}
	return baseURL + "/api/oidc/register", nil
}

// Register sends an RFC 7591 registration request with the initial access token.
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

// RenewRAT asks the IdP's admin endpoint for a fresh registration access
// token: POST with the bootstrap admin token, the token read from the JSON
// answer's registration_access_token.
func (cl *Client) RenewRAT(ctx context.Context, adminURL, adminToken string) (string, error) {
	var out struct {
		RAT string `json:"registration_access_token"`
	}
	if _, err := cl.do(ctx, call{op: "renew RAT", method: http.MethodPost, url: adminURL, bearer: adminToken}, &out); err != nil {
		return "", err
	}
	if out.RAT == "" {
		return "", &BadResponseError{Op: "renew RAT", URL: redactURL(adminURL), Problem: "no registration_access_token in the answer"}
	}
	return out.RAT, nil
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
