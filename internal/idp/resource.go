package idp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ResourceReport is what MCP-style discovery found for a protected
// resource: RFC 9728 protected resource metadata, then each authorization
// server's RFC 8414 / OpenID Connect metadata, and what each offers a
// private_key_jwt client.
type ResourceReport struct {
	Resource string `json:"resource"`
	// MetadataURL is where the protected resource metadata was found, and
	// How says how (the 401's WWW-Authenticate resource_metadata, or a
	// well-known location).
	MetadataURL          string                `json:"resource_metadata_url"`
	How                  string                `json:"found_by"`
	AuthorizationServers []AuthorizationServer `json:"authorization_servers"`
}

// AuthorizationServer is one AS the resource names, as its metadata says.
type AuthorizationServer struct {
	Issuer      string `json:"issuer"`
	MetadataURL string `json:"metadata_url,omitempty"`
	// CIMD: client_id_metadata_document_supported (Client ID Metadata
	// Documents); Registration: an RFC 7591 registration_endpoint;
	// PrivateKeyJWT: token_endpoint_auth_methods_supported lists it (RFC
	// 8414 §2: absent means client_secret_basic alone).
	CIMD                 bool   `json:"client_id_metadata_document_supported"`
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
	PrivateKeyJWT        bool   `json:"private_key_jwt"`
	TokenEndpoint        string `json:"token_endpoint,omitempty"`
	// Choice is how dcrctl would give a client to this AS, and Why.
	Choice string `json:"choice"`
	Why    string `json:"why"`
	Error  string `json:"error,omitempty"`
}

// resourceMetadataParam is the WWW-Authenticate parameter of RFC 9728 §5.1.
var resourceMetadataParam = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// DiscoverResource follows the MCP authorization discovery: the resource's
// 401 WWW-Authenticate resource_metadata, else RFC 9728 §3.1's well-known
// locations (path-inserted first); then each authorization server's
// metadata. It sends no credential anywhere.
func (cl *Client) DiscoverResource(ctx context.Context, resource string) (*ResourceReport, error) {
	rep := &ResourceReport{Resource: resource}
	candidates := []string{}
	how := map[string]string{}
	if hinted := cl.resourceMetadataHint(ctx, resource); hinted != "" {
		candidates = append(candidates, hinted)
		how[hinted] = "the 401's WWW-Authenticate resource_metadata (RFC 9728 §5.1)"
	}
	for _, u := range wellKnown(resource, "oauth-protected-resource") {
		if _, hinted := how[u]; !hinted {
			candidates = append(candidates, u)
			how[u] = "the well-known location (RFC 9728 §3.1)"
		}
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	found, err := cl.firstDocument(ctx, "protected resource metadata", candidates, &prm)
	if err != nil {
		return nil, err
	}
	rep.MetadataURL, rep.How = redactURL(found), how[found]
	if len(prm.AuthorizationServers) == 0 {
		return nil, &BadResponseError{Op: "protected resource metadata", URL: rep.MetadataURL, Problem: "no authorization_servers"}
	}
	for _, issuer := range prm.AuthorizationServers {
		rep.AuthorizationServers = append(rep.AuthorizationServers, cl.authorizationServer(ctx, issuer))
	}
	return rep, nil
}

// resourceMetadataHint asks the resource without a token: a 401 names its
// metadata in WWW-Authenticate (one attempt; no answer is no hint).
func (cl *Client) resourceMetadataHint(ctx context.Context, resource string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, resource, nil)
	if err != nil {
		return ""
	}
	cl.sent.Add(1)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return ""
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return ""
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if m := resourceMetadataParam.FindStringSubmatch(h); m != nil {
			if u, err := url.Parse(m[1]); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
				return m[1]
			}
		}
	}
	return ""
}

// wellKnown are the metadata locations for a URL with a path: the
// well-known segment inserted between the origin and the path (RFC 8414
// §3.1, RFC 9728 §3.1), then at the root.
func wellKnown(raw, name string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	path := strings.TrimRight(u.Path, "/")
	root := *u
	root.Path, root.RawPath, root.RawQuery, root.Fragment = "/.well-known/"+name, "", "", ""
	if path == "" {
		return []string{root.String()}
	}
	inserted := root
	inserted.Path = "/.well-known/" + name + path
	return []string{inserted.String(), root.String()}
}

// asMetadataURLs are where an AS's metadata may be, for an issuer with a
// path in the order MCP's authorization specification tries them.
func asMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	path := strings.TrimRight(u.Path, "/")
	base := *u
	base.Path, base.RawPath = "", ""
	if path == "" {
		return []string{base.String() + "/.well-known/oauth-authorization-server", base.String() + "/.well-known/openid-configuration"}
	}
	return []string{base.String() + "/.well-known/oauth-authorization-server" + path,
		base.String() + "/.well-known/openid-configuration" + path,
		base.String() + path + "/.well-known/openid-configuration"}
}

// authorizationServer reads one AS's metadata and decides how a
// private_key_jwt client would be given to it.
func (cl *Client) authorizationServer(ctx context.Context, issuer string) AuthorizationServer {
	as := AuthorizationServer{Issuer: issuer, Choice: "none"}
	var doc struct {
		Issuer                 string   `json:"issuer"`
		RegistrationEndpoint   string   `json:"registration_endpoint"`
		TokenEndpoint          string   `json:"token_endpoint"`
		AuthMethods            []string `json:"token_endpoint_auth_methods_supported"`
		ClientIDMetadataDocSup bool     `json:"client_id_metadata_document_supported"`
	}
	found, err := cl.firstDocument(ctx, "authorization server metadata", asMetadataURLs(issuer), &doc)
	var none *NoDiscoveryError
	switch {
	case errors.As(err, &none):
		as.Error, as.Why = "no metadata document", "no metadata at "+strings.Join(none.Tried, ", ")
		return as
	case err != nil:
		as.Error, as.Why = err.Error(), "its metadata could not be read"
		return as
	}
	as.MetadataURL = redactURL(found)
	if strings.TrimRight(doc.Issuer, "/") != strings.TrimRight(issuer, "/") {
		// RFC 8414 §3.3: a document for another issuer is not this AS's.
		as.Error, as.Why = fmt.Sprintf("the metadata names issuer %q", doc.Issuer), "its metadata is another issuer's (RFC 8414 §3.3): not trusted"
		return as
	}
	as.CIMD, as.RegistrationEndpoint, as.TokenEndpoint = doc.ClientIDMetadataDocSup, doc.RegistrationEndpoint, doc.TokenEndpoint
	as.PrivateKeyJWT = slices.Contains(doc.AuthMethods, "private_key_jwt")
	switch {
	case !as.PrivateKeyJWT:
		as.Why = "it does not list private_key_jwt in token_endpoint_auth_methods_supported"
	case as.CIMD:
		as.Choice, as.Why = "client-id-metadata-document", "it supports Client ID Metadata Documents, which MCP prefers: nothing to register, no RAT to lose"
	case as.RegistrationEndpoint != "":
		as.Choice, as.Why = "dynamic-registration", "no Client ID Metadata Document support; it offers RFC 7591 registration"
	default:
		as.Why = "neither Client ID Metadata Documents nor a registration_endpoint: the client must be created by an administrator"
	}
	return as
}
