package cimd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const docURL = "https://bff.example.test/oauth/client.json"

func doc(t *testing.T, change func(map[string]any)) []byte {
	d := map[string]any{"client_id": docURL, "client_name": "BFF", "redirect_uris": []string{"https://bff.example.test/cb"},
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks":                       map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1"}}}}
	if change != nil {
		change(d)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The refusals an AS makes (oidc-provider's, as the CIMD issue lists them),
// each found by the lint, naming the member at fault; a good document has
// none.
func TestLintFindsWhatAnASRefuses(t *testing.T) {
	if problems := Lint(doc(t, nil), docURL); len(problems) != 0 {
		t.Fatalf("a good document: %v", problems)
	}
	for _, tc := range []struct {
		name, member string
		url          string
		change       func(map[string]any)
	}{
		{"mismatched client_id", "client_id", docURL, func(d map[string]any) { d["client_id"] = "https://bff.example.test:443/oauth/client.json" }},
		{"client_secret_basic", "token_endpoint_auth_method", docURL, func(d map[string]any) { d["token_endpoint_auth_method"] = "client_secret_basic" }},
		{"a client secret", "client_secret", docURL, func(d map[string]any) { d["client_secret"] = "s" }},
		{"jwks and jwks_uri", "jwks", docURL, func(d map[string]any) { d["jwks_uri"] = "https://bff.example.test/jwks.json" }},
		{"a private key", "jwks.keys[0]", docURL, func(d map[string]any) {
			d["jwks"] = map[string]any{"keys": []any{map[string]any{"kty": "EC", "d": "secret", "kid": "k1"}}}
		}},
		{"over 5 KB", "document", docURL, func(d map[string]any) { d["client_name"] = strings.Repeat("x", MaxSize) }},
		{"http URL", "client_id URL", "http://bff.example.test/oauth/client.json", func(d map[string]any) { d["client_id"] = "http://bff.example.test/oauth/client.json" }},
		{"no path", "client_id URL", "https://bff.example.test/", func(d map[string]any) { d["client_id"] = "https://bff.example.test/" }},
		{"a fragment", "client_id URL", "https://bff.example.test/c.json#x", func(d map[string]any) { d["client_id"] = "https://bff.example.test/c.json#x" }},
		{"userinfo", "client_id URL", "https://u:p@bff.example.test/c.json", func(d map[string]any) { d["client_id"] = "https://u:p@bff.example.test/c.json" }},
		{"a dot segment", "client_id URL", "https://bff.example.test/a/../c.json", func(d map[string]any) { d["client_id"] = "https://bff.example.test/a/../c.json" }},
	} {
		problems := Lint(doc(t, tc.change), tc.url)
		found := false
		for _, p := range problems {
			found = found || p.Member == tc.member
		}
		if !found {
			t.Errorf("%s: %v, want a problem with %s", tc.name, problems, tc.member)
		}
	}
}

func TestMaxAge(t *testing.T) {
	for header, want := range map[string]time.Duration{"max-age=300": 5 * time.Minute, "public, max-age=60, must-revalidate": time.Minute, `Max-Age="5"`: 5 * time.Second} {
		if got, ok := MaxAge(header); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", header, got, ok, want)
		}
	}
	for _, header := range []string{"", "no-store", "max-age=-1", "s-maxage=60"} {
		if _, ok := MaxAge(header); ok {
			t.Errorf("%q has no max-age", header)
		}
	}
}
