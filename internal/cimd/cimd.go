// Package cimd checks Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25 and
// 2026-07-28): the client_id is an https URL, and the document served there
// describes the client, its keys included, in place of a registration. The
// checks are those an authorization server makes before it accepts one, so
// that an operator learns of a refusal before the AS does.
package cimd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxSize is how much of a document an AS reads: the draft lets it stop at
// about 5 KB, and oidc-provider refuses a larger one.
const MaxSize = 5 * 1024

// sharedSecretMethods are the token endpoint auth methods a document may
// not name (there is no secret to share with a document).
var sharedSecretMethods = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt"}

// privateMembers are JWK members that only a private key has (RFC 7518
// §6.2.2, §6.3.2, §6.4).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Problem is one reason an AS would refuse the document, naming the member
// (or the URL) at fault.
type Problem struct {
	Member string `json:"member"`
	Why    string `json:"why"`
}

func (p Problem) String() string { return p.Member + ": " + p.Why }

// CheckURL lists what makes raw unusable as a client_id: https, a host, a
// path other than "/", no userinfo, fragment or dot segments (the draft's
// §3; the URL is compared as a string, so https://h:443/x is another client).
func CheckURL(raw string) []Problem {
	bad := func(why string) []Problem { return []Problem{{Member: "client_id URL", Why: why}} }
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return bad(err.Error())
	case u.Scheme != "https":
		return bad("not https (an AS fetches only https client_ids)")
	case u.Host == "":
		return bad("no host")
	case u.User != nil:
		return bad("has userinfo")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("has a fragment")
	case u.Path == "" || u.Path == "/":
		return bad("has no path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return bad("has a dot segment")
		}
	}
	return nil
}

// Lint checks a document as the AS at clientIDURL would: size, JSON, the
// client_id equal to the URL exactly, no client secret or shared-secret
// method, jwks xor jwks_uri, public keys only.
func Lint(data []byte, clientIDURL string) []Problem {
	problems := CheckURL(clientIDURL)
	if len(data) > MaxSize {
		problems = append(problems, Problem{Member: "document", Why: fmt.Sprintf("%d bytes, over the %d an AS reads", len(data), MaxSize)})
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return append(problems, Problem{Member: "document", Why: "not a JSON object: " + err.Error()})
	}
	if id, _ := doc["client_id"].(string); id != clientIDURL {
		problems = append(problems, Problem{Member: "client_id", Why: fmt.Sprintf("%q is not the URL the document is served at, %q (compared as strings)", id, clientIDURL)})
	}
	for member := range doc {
		if strings.HasPrefix(member, "client_secret") {
			problems = append(problems, Problem{Member: member, Why: "a document holds no client secret"})
		}
	}
	if method, _ := doc["token_endpoint_auth_method"].(string); slices.Contains(sharedSecretMethods, method) {
		problems = append(problems, Problem{Member: "token_endpoint_auth_method", Why: method + " needs a shared secret, which a document cannot have"})
	}
	_, hasJWKS := doc["jwks"]
	_, hasURI := doc["jwks_uri"]
	switch {
	case hasJWKS && hasURI:
		problems = append(problems, Problem{Member: "jwks", Why: "jwks and jwks_uri are both present (RFC 7591 §2)"})
	case !hasJWKS && !hasURI && doc["token_endpoint_auth_method"] == "private_key_jwt":
		problems = append(problems, Problem{Member: "jwks", Why: "private_key_jwt needs jwks or jwks_uri"})
	}
	if set, ok := doc["jwks"].(map[string]any); ok {
		keys, _ := set["keys"].([]any)
		if len(keys) == 0 {
			problems = append(problems, Problem{Member: "jwks", Why: "no keys"})
		}
		for i, k := range keys {
			key, _ := k.(map[string]any)
			for _, m := range privateMembers {
				if _, private := key[m]; private {
					problems = append(problems, Problem{Member: fmt.Sprintf("jwks.keys[%d]", i), Why: fmt.Sprintf("holds %q: a private or symmetric key must never be published", m)})
				}
			}
		}
	}
	if uri, ok := doc["jwks_uri"].(string); ok {
		if u, err := url.Parse(uri); err != nil || u.Scheme != "https" {
			problems = append(problems, Problem{Member: "jwks_uri", Why: "not an https URL"})
		}
	}
	return problems
}

// MaxAge is the max-age of a Cache-Control header, and whether it has one.
func MaxAge(cacheControl string) (time.Duration, bool) {
	for _, directive := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if strings.EqualFold(name, "max-age") {
			if n, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && n >= 0 {
				return time.Duration(n) * time.Second, true
			}
		}
	}
	return 0, false
}

// Fetch gets the document at clientIDURL the way an AS does: one GET, 200
// only, never a redirect (the draft forbids following one), at most
// MaxSize+1 bytes read (so that an oversized document is seen as such).
func Fetch(ctx context.Context, client *http.Client, clientIDURL string) ([]byte, error) {
	data, _, err := FetchServed(ctx, client, clientIDURL)
	return data, err
}

// FetchServed is Fetch, with the Cache-Control header the host served it
// with (how long an AS may cache it).
func FetchServed(ctx context.Context, client *http.Client, clientIDURL string) ([]byte, string, error) {
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientIDURL, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("cimd: fetch %s: %w", clientIDURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		where := ""
		if loc := resp.Header.Get("Location"); loc != "" {
			where = " to " + loc + " (an AS follows no redirect: serve the document at the client_id URL itself)"
		}
		return nil, "", fmt.Errorf("cimd: fetch %s: HTTP %d%s; an AS accepts only 200", clientIDURL, resp.StatusCode, where)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	return data, resp.Header.Get("Cache-Control"), err
}
