package idp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NoRegistrationEndpointError: a discovery document exists but lists no
// registration_endpoint (Hydra's, unless configured; any IdP with dynamic
// registration switched off).
type NoRegistrationEndpointError struct{ DocumentURL string }

func (e *NoRegistrationEndpointError) Error() string {
	return fmt.Sprintf("the discovery document %s lists no registration_endpoint (dynamic client registration may be off at the IdP)", e.DocumentURL)
}

// NoDiscoveryError: none of the discovery locations has a document (each
// answered 404 or another 4xx).
type NoDiscoveryError struct{ Tried []string }

func (e *NoDiscoveryError) Error() string {
	return "no discovery document at " + strings.Join(e.Tried, ", ")
}

// DiscoveryURLs are the places a metadata document for baseURL may be, in
// the order tried: OpenID Connect Discovery 1.0 §4 ({issuer}/.well-known/
// openid-configuration, which works for issuers with a path such as
// Glewlwyd's /api/oidc or Keycloak's /realms/R), then RFC 8414 §3.1, which
// inserts the well-known segment between the origin and the issuer's path.
func DiscoveryURLs(baseURL string) []string {
	base := strings.TrimRight(baseURL, "/")
	urls := []string{base + "/.well-known/openid-configuration"}
	if u, err := url.Parse(base); err == nil {
		path := u.Path
		u.Path, u.RawPath = "/.well-known/oauth-authorization-server"+path, ""
		urls = append(urls, u.String())
	}
	return urls
}

// Discover finds the registration endpoint in the IdP's metadata. The
// document's issuer must be baseURL (OIDC Discovery §4.3, RFC 8414 §3.3): a
// document for another issuer is not trusted with the initial access token.
// A transport error, a timeout, a TLS failure or a 5xx stops discovery at
// once: only when every location says there is no document
// (NoDiscoveryError) may a caller fall back to a conventional path.
func (cl *Client) Discover(ctx context.Context, baseURL string) (string, error) {
	var doc struct {
		Issuer               string `json:"issuer"`
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	docURL, err := cl.firstDocument(ctx, "discovery", DiscoveryURLs(baseURL), &doc)
	if err != nil {
		return "", err
	}
	docURL = redactURL(docURL)
	// Userinfo in IDP_BASE_URL is a credential, not part of the issuer.
	if doc.Issuer != "" && strings.TrimRight(doc.Issuer, "/") != strings.TrimRight(redactURL(baseURL), "/") {
		return "", &BadResponseError{Op: "discovery", URL: docURL, Problem: fmt.Sprintf("issuer %q is not IDP_BASE_URL %q (OIDC Discovery §4.3): set IDP_BASE_URL to the issuer", doc.Issuer, redactURL(baseURL))}
	}
	if doc.RegistrationEndpoint == "" {
		return "", &NoRegistrationEndpointError{DocumentURL: docURL}
	}
	return doc.RegistrationEndpoint, nil
}

// firstDocument decodes into doc the first JSON metadata document found at
// urls, tried in order, and returns where it was found. A location that
// answers 4xx has no document (NoDiscoveryError when none has one);
// anything else (a transport error, a 5xx) stops the search at once, so
// that an outage is never taken for a missing document.
func (cl *Client) firstDocument(ctx context.Context, op string, urls []string, doc any) (string, error) {
	var tried []string
	for _, docURL := range urls {
		_, err := cl.do(ctx, call{op: op, method: http.MethodGet, url: docURL}, doc)
		var httpErr *Error
		switch {
		case errors.As(err, &httpErr) && httpErr.Status < 500:
			tried = append(tried, redactURL(docURL))
			if cl.Log != nil {
				cl.Log.Debug("no discovery document here", "url", redactURL(docURL), "status", httpErr.Status)
			}
			continue
		case err != nil:
			return "", err
		}
		return docURL, nil
	}
	return "", &NoDiscoveryError{Tried: tried}
}

// ServerDate is the Date header of the IdP's answer to a GET of url (one
// attempt, no retries): doctor compares it with the local clock.
func (cl *Client) ServerDate(ctx context.Context, url string) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	return http.ParseTime(resp.Header.Get("Date"))
}
