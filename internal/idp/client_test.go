package idp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/secret"
)

func TestUpdateBodyFollowsRFC7592(t *testing.T) {
	current := Metadata{
		"client_id": "bff", "redirect_uris": []any{"https://a/cb"}, "client_secret": "s",
		"registration_access_token": "rat", "registration_client_uri": "https://idp/reg/bff",
		"client_secret_expires_at": 0, "client_id_issued_at": 1, "jwks_uri": "https://x", "token_endpoint_auth_method": "private_key_jwt",
	}
	body := UpdateBody(current, nil, "bff", jwk.NewSet())
	for _, f := range []string{"client_secret", "registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at", "jwks_uri"} {
		if _, ok := body[f]; ok {
			t.Errorf("%s sent in an update", f)
		}
	}
	if body["client_id"] != "bff" || body["token_endpoint_auth_method"] != "private_key_jwt" || body["redirect_uris"] == nil || body["jwks"] == nil {
		t.Errorf("update body lost metadata: %v", body)
	}
	if _, ok := current["jwks"]; ok {
		t.Error("UpdateBody changed its input")
	}
}

// Glewlwyd returns token_endpoint_auth_method as a one-element array and
// refuses it back in that shape; Hydra returns "metadata" and refuses it.
func TestUpdateBodySendsSingleValuedMembersAsStringsAndLaysIntentOver(t *testing.T) {
	var current Metadata
	json.Unmarshal([]byte(`{"client_id":"c","token_endpoint_auth_method":["private_key_jwt"],"client_name":["bff"],
		"redirect_uris":["https://old/cb"],"grant_types":["authorization_code"],"contacts":["a@b"],"metadata":{},"description":""}`), &current)
	intended := Metadata{"redirect_uris": []string{"https://new/cb"}, "grant_types": []string{"authorization_code", "client_credentials"}}
	body := UpdateBody(current, intended, "c", jwk.NewSet())
	if body["token_endpoint_auth_method"] != "private_key_jwt" || body["client_name"] != "bff" {
		t.Errorf("single-valued members not sent as strings: %#v %#v", body["token_endpoint_auth_method"], body["client_name"])
	}
	if got, ok := body["contacts"].([]any); !ok || len(got) != 1 {
		t.Errorf("a list member (contacts) must stay a list: %#v", body["contacts"])
	}
	if _, ok := body["metadata"]; ok {
		t.Error("Hydra's metadata member sent back")
	}
	if got, _ := body["redirect_uris"].([]string); len(got) != 1 || got[0] != "https://new/cb" {
		t.Errorf("intended redirect_uris not laid over: %#v", body["redirect_uris"])
	}
	if body["description"] != "" {
		t.Errorf("unknown members must be kept: %#v", body["description"])
	}
}

func TestMetadataReadsEitherShape(t *testing.T) {
	md := Metadata{"a": []any{"x"}, "b": "y", "c": []any{"x", "z"}}
	if md.String("a") != "x" || md.String("b") != "y" || md.String("c") != "" || md.String("missing") != "" {
		t.Errorf("String: %q %q %q", md.String("a"), md.String("b"), md.String("c"))
	}
	if got := md.Strings("c"); len(got) != 2 {
		t.Errorf("Strings: %v", got)
	}
}

func TestDiscoveryURLsForIssuersWithAndWithoutPath(t *testing.T) {
	cases := map[string][]string{
		"https://idp.test":              {"https://idp.test/.well-known/openid-configuration", "https://idp.test/.well-known/oauth-authorization-server"},
		"https://idp.test/api/oidc/":    {"https://idp.test/api/oidc/.well-known/openid-configuration", "https://idp.test/.well-known/oauth-authorization-server/api/oidc"},
		"https://kc.test/realms/bff-rm": {"https://kc.test/realms/bff-rm/.well-known/openid-configuration", "https://kc.test/.well-known/oauth-authorization-server/realms/bff-rm"},
	}
	for base, want := range cases {
		got := DiscoveryURLs(base)
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("DiscoveryURLs(%q) = %v, want %v", base, got, want)
		}
	}
}

func TestDecodeRegistration(t *testing.T) {
	var md Metadata
	json.Unmarshal([]byte(`{"client_id":"c","registration_access_token":"r","registration_client_uri":"u","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"k1"}]}}`), &md)
	reg, err := decodeRegistration("read", "u", md)
	if err != nil || reg.ClientID != "c" || reg.RAT != "r" || reg.JWKS.Len() != 1 {
		t.Fatalf("%+v %v", reg, err)
	}
	if _, err := decodeRegistration("read", "u", Metadata{"registration_access_token": "r"}); err == nil {
		t.Error("missing client_id accepted")
	}
}

func TestBackoffHonoursRetryAfterAndCaps(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3"}}}
	if got := backoff(100*time.Millisecond, time.Second, 1, resp); got != 3*time.Second {
		t.Errorf("Retry-After 3: waited %v", got)
	}
	for attempt := 0; attempt < 40; attempt++ {
		if got := backoff(100*time.Millisecond, time.Second, attempt, nil); got < 50*time.Millisecond || got > 1050*time.Millisecond {
			t.Errorf("attempt %d: %v outside [min/2, max+min/2]", attempt, got)
		}
	}
}

// A RAT echoed past the 512-byte cut must not leave its first part behind:
// redaction runs on the whole body, then it is cut.
func TestErrorBodyIsRedactedBeforeItIsCut(t *testing.T) {
	rat := "rat-0123456789abcdefghijklmnopqrstuvwxyz"
	red := &secret.Redactor{}
	red.Add(rat)
	cl := &Client{Redactor: red}
	body := strings.Repeat("x", maxErrorBody-10) + rat + " trailing"
	e := cl.httpError(call{op: "read", url: "https://idp.test/reg/c"}, 400, []byte(body))
	if strings.Contains(e.Body, rat[:8]) || strings.Contains(e.Error(), rat[:8]) {
		t.Errorf("part of the RAT survived: %q", e.Body[len(e.Body)-40:])
	}
}

// Okta's admin API takes its API token as "SSWS {token}", not as a bearer
// token (RFC 6750); the scheme is the client's, the default Bearer.
func TestAuthSchemeIsTheClients(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, scheme := range []string{"", "SSWS"} {
		cl := &Client{HTTP: srv.Client(), RetryDeadline: time.Second, Redactor: &secret.Redactor{}, AuthScheme: scheme}
		if err := cl.Delete(context.Background(), srv.URL+"/oauth2/v1/clients/c", "api-token"); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "Bearer api-token" || got[1] != "SSWS api-token" {
		t.Errorf("Authorization headers: %q", got)
	}
}
