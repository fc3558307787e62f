package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Okta manages clients through its admin API (the Client Application API,
// "Authorization: SSWS {api_token}"), not RFC 7592: no RAT is ever issued.
// Proven against the Okta emulation on the real oidc-provider
// (test/idp/server.mjs, IDP_EMULATE=okta), kind and slowed.
func TestOktaAdminAPIPreset(t *testing.T) {
	for _, slow := range []bool{false, true} {
		name := "kind"
		if slow {
			name = "slowed"
		}
		t.Run(name, func(t *testing.T) {
			srv, idp := testenv.Okta(t)
			if slow {
				for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
					idp.Delay(t, m, 300*time.Millisecond)
				}
			}
			c := newServerClient(t, srv) // no DCR_IAT: the API token registers too
			delete(c.env, "BOOTSTRAP_ADMIN_TOKEN")

			// Without the API token: the setting is named, nothing is sent.
			res := c.mustRun(78, "bootstrap")
			if !strings.Contains(res.Stderr, "BOOTSTRAP_ADMIN_TOKEN") {
				t.Errorf("missing admin token must be named:\n%s", res.Stderr)
			}
			assertNoRegistration(t, srv)

			c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
			c.mustRun(0, "bootstrap")
			st := c.state()
			if st.Management != state.ManagementAdminAPI || st.RegistrationAccessToken != "" || !strings.HasSuffix(st.RegistrationClientURI, "/oauth2/v1/clients/"+st.ClientID) {
				t.Fatalf("registration: management %q, RAT held %v, client URI %q", st.Management, st.RegistrationAccessToken != "", st.RegistrationClientURI)
			}
			assertKeyMatchesState(t, c)
			assertTokenWorks(t, srv, c, c.activeKey())

			idp.ResetRequests(t)
			c.mustRun(0, "bootstrap")
			if got := methods(idp.Requests(t)); len(got) != 1 || got[0] != "GET /oauth2/v1/clients/"+st.ClientID {
				t.Errorf("no-change run: %v, want one GET on the admin API", got)
			}
			var status struct {
				Management string `json:"management"`
				RAT        struct {
					Health string `json:"health"`
					Next   string `json:"next_step"`
				} `json:"registration_access_token"`
			}
			if err := json.Unmarshal([]byte(c.mustRun(0, "status", "-o", "json").Stdout), &status); err != nil {
				t.Fatal(err)
			}
			if status.Management != "admin-api" || status.RAT.Health != "valid" || !strings.Contains(status.RAT.Next, "admin API") {
				t.Errorf("status: %+v", status)
			}

			if out := c.mustRun(0, "doctor").Stdout; !strings.Contains(out, "admin API token") {
				t.Errorf("doctor does not check the admin API token:\n%s", out)
			}

			// A due rotation is an update through the admin API.
			old := c.activeKey()
			c.age(31)
			c.mustRun(0, "bootstrap")
			assertKeyMatchesState(t, c)
			assertTokenWorks(t, srv, c, c.activeKey())
			if c.activeKey().kid == old.kid {
				t.Error("the due rotation did not happen")
			}
			if res := c.mustRun(64, "rat", "renew", "--yes"); !strings.Contains(res.Stderr, "admin API") {
				t.Errorf("rat renew at an admin-API IdP:\n%s", res.Stderr)
			}

			// A refused API token: exit 77 naming it, the state untouched.
			before := c.state()
			c.env["BOOTSTRAP_ADMIN_TOKEN"] = "not-the-api-token"
			c.secrets["not-the-api-token"] = true
			res = c.mustRun(77, "bootstrap")
			if !strings.Contains(res.Stderr, "BOOTSTRAP_ADMIN_TOKEN") || !strings.Contains(res.Stderr, "E0000011") {
				t.Errorf("refused API token:\n%s", res.Stderr)
			}
			if after := c.state(); after.ClientID != before.ClientID || after.ActiveKID != before.ActiveKID || after.InFlight != nil {
				t.Errorf("a refused token changed the state: %+v", after)
			}
			c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken

			// register --force: a new client, the old one deleted through the
			// admin API once the new one is registered (an IdP-assigned
			// client_id; DCR_CLIENT_ID would name the client being replaced).
			delete(c.env, "DCR_CLIENT_ID")
			first := c.state().ClientID
			idp.ResetRequests(t)
			c.mustRun(0, "register", "--force", "--yes")
			got := methods(idp.Requests(t))
			if st := c.state(); st.ClientID == first || len(st.AbandonedClients) != 0 {
				t.Errorf("register --force: client %s (was %s), abandoned %+v", st.ClientID, first, st.AbandonedClients)
			}
			if i, j := indexOf(got, "POST /oauth2/v1/clients"), indexOf(got, "DELETE /oauth2/v1/clients/"+first); i < 0 || j < i {
				t.Errorf("register --force requests: %v, want the registration, then the old client's DELETE", got)
			}
			if code := adminGet(t, idp.URL+"/oauth2/v1/clients/"+first); code != http.StatusNotFound {
				t.Errorf("the replaced client answers %d, want 404 (deleted)", code)
			}
			assertKeyMatchesState(t, c)
			assertTokenWorks(t, srv, c, c.activeKey())
		})
	}
}

func indexOf(list []string, want string) int {
	for i, s := range list {
		if s == want {
			return i
		}
	}
	return -1
}

// adminGet reads a client through the Okta emulation's admin API.
func adminGet(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "SSWS "+testenv.AdminToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
