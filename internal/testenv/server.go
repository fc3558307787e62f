package testenv

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one real IdP the interop scenario suite runs against.
type Server struct {
	Name    string
	BaseURL string // IDP_BASE_URL: the issuer
	// Env is what a dcrctl client of this IdP sets beyond its own files:
	// preset, IAT source. An empty value unsets the variable.
	Env map[string]string
	// TokenScope is the scope a client_credentials request asks for
	// (Glewlwyd grants registered clients "api" and needs it named).
	TokenScope string
	// Recovery is true where a rejected RAT can be renewed (only the
	// oidc-provider test IdP's admin route among the real servers).
	Recovery bool
	// KeepsClientID is true where the requested client_id is honoured.
	KeepsClientID bool

	// Logs is the server's own output so far, for failure messages.
	Logs func() string

	counter interface {
		Requests(testing.TB) []Request
		ResetRequests(testing.TB)
	}
}

// Requests are the requests the IdP saw since the last reset.
func (s *Server) Requests(t testing.TB) []Request { return s.counter.Requests(t) }

// ResetRequests forgets them.
func (s *Server) ResetRequests(t testing.TB) { s.counter.ResetRequests(t) }

// ServerLogs is the server's output, or a note that it keeps none here.
func (s *Server) ServerLogs() string {
	if s.Logs == nil {
		return "(no server log)"
	}
	return s.Logs()
}

// TokenEndpoint reads the token endpoint from the IdP's discovery document.
func (s *Server) TokenEndpoint(t testing.TB) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(strings.TrimRight(s.BaseURL, "/") + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.TokenEndpoint == "" {
		t.Fatalf("%s discovery: no token_endpoint (%v)", s.Name, err)
	}
	return doc.TokenEndpoint
}

// OIDCProvider is the node oidc-provider test IdP as a Server.
func OIDCProvider(t testing.TB) *Server {
	idp := StartIdP(t, 0)
	return &Server{
		Name:    "oidc-provider",
		BaseURL: idp.URL,
		Env: map[string]string{
			"DCRCTL_IDP_PRESET":    "oidc-provider",
			"DCRCTL_ADMIN_RAT_URL": idp.URL + "/admin/clients/{client_id}/registration-access-token",
		},
		Recovery:      true,
		KeepsClientID: true,
		counter:       idp,
	}
}

// RegisterOnly is the test IdP as an RFC 7591-only server: oidc-provider
// with registrationManagement off (no RAT, no client configuration
// endpoint, requested client_ids ignored).
func RegisterOnly(t testing.TB) *Server {
	idp := StartRegisterOnlyIdP(t)
	return &Server{
		Name:    "oidc-provider (RFC 7591 only)",
		BaseURL: idp.URL,
		Env:     map[string]string{"DCRCTL_IDP_PRESET": "oidc-provider", "DCRCTL_ADMIN_RAT_URL": ""},
		counter: idp,
	}
}

// Okta is the Okta emulation (IDP_EMULATE=okta: its Client Application API,
// an SSWS API token, no RAT) as a Server, and the IdP underneath for its
// request log and delays.
func Okta(t testing.TB) (*Server, *IdP) {
	idp := StartEmulation(t, "okta")
	return &Server{
		Name:          "okta",
		BaseURL:       idp.URL,
		Env:           map[string]string{"DCRCTL_IDP_PRESET": "okta", "DCR_IAT": "", "BOOTSTRAP_ADMIN_TOKEN": AdminToken},
		KeepsClientID: true,
		counter:       idp,
	}, idp
}

// Servers are the real IdPs every interop scenario runs against.
var Servers = []struct {
	Name  string
	Start func(testing.TB) *Server
}{
	{"oidc-provider", OIDCProvider},
	{"glewlwyd", StartGlewlwyd},
	{"hydra", StartHydra},
}

// cachedTool runs a build script once per test process and returns the
// path it prints (scripts/build-hydra.sh caches the binary by version).
type cachedTool struct {
	once   sync.Once
	script string
	path   string
	err    error
	output string
}

func (c *cachedTool) get(t testing.TB) string {
	t.Helper()
	c.once.Do(func() {
		cmd := exec.Command("bash", filepath.Join(RepoRoot(), "scripts", c.script))
		cmd.Dir = RepoRoot()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		c.path, c.err, c.output = strings.TrimSpace(string(out)), err, stderr.String()
		if err == nil {
			if _, statErr := os.Stat(c.path); statErr != nil {
				c.err = statErr
			}
		}
	})
	if c.err != nil {
		t.Fatalf("scripts/%s: %v\n%s", c.script, c.err, c.output)
	}
	return c.path
}

// Emulations of IdPs that cannot run here, each built on the real
// oidc-provider (test/idp/server.mjs, IDP_EMULATE) with the product's
// documented routes, status codes and RAT behaviour.
var Emulations = []struct {
	Name  string
	Start func(testing.TB) *Server
}{
	{"keycloak", emulation("keycloak", func(url string) map[string]string {
		// The admin token is an admin bearer token for Keycloak's admin REST API.
		return map[string]string{"DCRCTL_ADMIN_RAT_URL": url + "/admin/realms/test"}
	})},
	{"gravitee", emulation("gravitee", nil)},
	{"curity", emulation("curity", nil)},
}

func emulation(product string, env func(url string) map[string]string) func(testing.TB) *Server {
	return func(t testing.TB) *Server {
		idp := StartEmulation(t, product)
		srv := &Server{
			Name:          product,
			BaseURL:       idp.URL,
			Env:           map[string]string{"DCRCTL_IDP_PRESET": product},
			Recovery:      true,
			KeepsClientID: true,
			counter:       idp,
		}
		if env != nil {
			for k, v := range env(idp.URL) {
				srv.Env[k] = v
			}
		}
		return srv
	}
}
