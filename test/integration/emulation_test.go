package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// The presets of IdPs that cannot run here (Keycloak, Gravitee AM, Curity),
// each against the real oidc-provider switched into an emulation of the
// product's documented routes, status codes and RAT behaviour
// (test/idp/server.mjs). The README's interop table marks these cells
// "against an emulation".

// adminTokenFor is what an operator gives dcrctl as BOOTSTRAP_ADMIN_TOKEN:
// Keycloak an admin bearer token; Gravitee AM and Curity a client-credentials
// token with the management scope.
func adminTokenFor(t *testing.T, srv *testenv.Server) string {
	t.Helper()
	preset, _ := config.LookupPreset(srv.Name)
	scope := preset.ManagementScope
	if scope == "" {
		return testenv.AdminToken
	}
	cc := clientcredentials.Config{ClientID: testenv.IATClient, ClientSecret: testenv.IATSecret, TokenURL: srv.TokenEndpoint(t), Scopes: []string{scope}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("%s management token: %v", srv.Name, err)
	}
	return tok.AccessToken
}

func TestPresetEmulations(t *testing.T) {
	for _, e := range testenv.Emulations {
		t.Run(e.Name, func(t *testing.T) {
			srv := e.Start(t)
			c := newServerClient(t, srv)
			c.mustRun(0, "bootstrap")
			st := c.state()
			if st.ClientID != "bff-interop" || st.RegistrationAccessToken == "" {
				t.Fatalf("registration: %+v", st)
			}
			assertTokenWorks(t, srv, c, c.activeKey())
			wantPath := map[string]string{"keycloak": "/realms/test/clients-registrations/openid-connect/", "gravitee": "/test/oidc/register/", "curity": "/reg/"}[srv.Name]
			if !strings.Contains(st.RegistrationClientURI, wantPath) {
				t.Errorf("registration_client_uri %s: want the product's path %s", st.RegistrationClientURI, wantPath)
			}
			if srv.Name == "curity" {
				c.mustRun(0, "status")
				if c.state().RegistrationAccessToken == st.RegistrationAccessToken {
					t.Error("Curity rotates the RAT on every read: status must have saved a new one")
				}
			}

			srv.ResetRequests(t)
			c.mustRun(0, "bootstrap")
			if got := methods(srv.Requests(t)); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
				t.Errorf("no-change run: %v, want one GET", got)
			}

			c.age(31)
			c.mustRun(0, "bootstrap")
			assertKeyMatchesState(t, c)
			assertTokenWorks(t, srv, c, c.activeKey())

			// A dead RAT: without the admin token, exit 77 and the remedy.
			c.revokeRAT()
			res := c.mustRun(77, "bootstrap")
			if !strings.Contains(res.Stderr, "BOOTSTRAP_ADMIN_TOKEN") {
				t.Errorf("dead RAT must name BOOTSTRAP_ADMIN_TOKEN:\n%s", res.Stderr)
			}
			if srv.Name == "gravitee" && !strings.Contains(res.Stderr, "HTTP 403 registration_forbidden") {
				t.Errorf("Gravitee's dead RAT is 403 registration_forbidden:\n%s", res.Stderr)
			}
			assertNoRegistration(t, srv)

			admin := adminTokenFor(t, srv)
			c.secrets[admin] = true
			c.env["BOOTSTRAP_ADMIN_TOKEN"] = admin
			c.mustRun(0, "bootstrap")
			if got := c.state(); got.ClientID != st.ClientID || got.RegistrationAccessToken == revokedRAT {
				t.Fatalf("recovery: %+v", got)
			}
			var status struct {
				RAT struct{ Health string } `json:"registration_access_token"`
			}
			json.Unmarshal([]byte(c.mustRun(0, "status", "-o", "json").Stdout), &status)
			if status.RAT.Health != "valid" {
				t.Errorf("RAT after recovery: %q", status.RAT.Health)
			}
			before := c.state().RegistrationAccessToken
			out := c.mustRun(0, "rat", "renew", "--yes").Stdout
			if !strings.Contains(out, "renew the registration access token") || c.state().RegistrationAccessToken == before {
				t.Errorf("rat renew did not renew:\n%s", out)
			}
			assertKeyMatchesState(t, c)
			assertTokenWorks(t, srv, c, c.activeKey())
		})
	}
}
