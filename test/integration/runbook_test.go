package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// unpublish removes kid from the IdP's JWKS behind dcrctl's back (an
// operator at the IdP's console), with the client's own RAT; the RAT the
// update rotates is saved.
func (c *client) unpublish(kid string) {
	c.t.Helper()
	md := c.registration()
	for _, k := range []string{"registration_access_token", "registration_client_uri", "client_secret", "client_secret_expires_at", "client_id_issued_at"} {
		delete(md, k)
	}
	jwks := md["jwks"].(map[string]any)
	var kept []any
	for _, k := range jwks["keys"].([]any) {
		if k.(map[string]any)["kid"] != kid {
			kept = append(kept, k)
		}
	}
	jwks["keys"] = kept
	body, _ := json.Marshal(md)
	st := c.state()
	req, _ := http.NewRequest(http.MethodPut, st.RegistrationClientURI, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.RegistrationAccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("PUT: HTTP %d %v", resp.StatusCode, out)
	}
	if rat, _ := out["registration_access_token"].(string); rat != "" {
		st.RegistrationAccessToken = rat
		c.writeState(st)
		c.secrets[rat] = true
	}
}

// Each step of the README's "Incident: 401/403 from the IdP" runbook, end to
// end against the real test IdP, as an operator follows it: every failure
// on the way names the next step.
func TestIncidentRunbook(t *testing.T) {
	idp := testenv.StartIdP(t, 0)

	t.Run("1 status names what is wrong and what to do", func(t *testing.T) {
		c := newClient(t, idp.URL)
		c.mustRun(0, "bootstrap")
		c.revokeRAT()
		out := c.mustRun(0, "status").Stdout
		for _, want := range []string{"rejected (HTTP 401)", "next: renew it: dcrctl rat renew (it asks for the bootstrap admin token", "dcrctl register --force"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		c.env["DCRCTL_IDP_PRESET"], c.env["DCRCTL_RAT_RECOVERY"] = "hydra", "none"
		if out := c.mustRun(0, "status").Stdout; !strings.Contains(out, "next: the IdP (DCRCTL_IDP_PRESET=hydra) offers no renewal: dcrctl register --force") {
			t.Errorf("status at an IdP with no renewal:\n%s", out)
		}
	})

	t.Run("2 rat renew with the admin token", func(t *testing.T) {
		c := newClient(t, idp.URL)
		c.mustRun(0, "bootstrap")
		c.revokeRAT()
		if res := c.mustRun(78, "rat", "renew", "--yes"); !strings.Contains(res.Stderr, "BOOTSTRAP_ADMIN_TOKEN") {
			t.Errorf("renew without the admin token must name it:\n%s", res.Stderr)
		}
		c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
		c.mustRun(0, "rat", "renew", "--yes")
		if h := ratHealth(t, c); h != "valid" {
			t.Errorf("after rat renew: %s", h)
		}
		// Where the IdP offers no renewal, dcrctl says so and names step 3.
		c.revokeRAT()
		c.env["DCRCTL_RAT_RECOVERY"] = "none"
		if res := c.mustRun(77, "rat", "renew", "--yes"); !strings.Contains(res.Stderr, "register --force") {
			t.Errorf("no renewal path: the message must name step 3:\n%s", res.Stderr)
		}
	})

	t.Run("3 register --force with a dead RAT and DCR_CLIENT_ID taken", func(t *testing.T) {
		c := newClient(t, idp.URL)
		c.env["DCR_CLIENT_ID"] = "bff-runbook"
		c.mustRun(0, "bootstrap")
		c.revokeRAT()
		before := c.state()
		// The delete is refused (dead RAT) and the id is still taken: the
		// IdP refuses the registration; the message says what to do.
		res := c.mustRun(65, "register", "--force", "--yes")
		for _, want := range []string{"bff-runbook (DCR_CLIENT_ID)", "dcrctl rat renew", "administrator delete client bff-runbook", "unset DCR_CLIENT_ID"} {
			if !strings.Contains(res.Stderr, want) {
				t.Errorf("refused re-registration: stderr lacks %q:\n%s", want, res.Stderr)
			}
		}
		if st := c.state(); st.ClientID != before.ClientID || st.RegistrationAccessToken != before.RegistrationAccessToken {
			t.Error("a refused registration changed the state")
		}
		// Following the message: unset DCR_CLIENT_ID.
		delete(c.env, "DCR_CLIENT_ID")
		c.mustRun(0, "register", "--force", "--yes")
		if st := c.state(); st.ClientID == before.ClientID || st.ClientID == "" {
			t.Fatalf("not re-registered: %q", st.ClientID)
		}
		if h := ratHealth(t, c); h != "valid" {
			t.Errorf("after re-registration: %s", h)
		}
		assertKeyMatchesState(t, c)
	})

	t.Run("4 active key not published", func(t *testing.T) {
		c := newClient(t, idp.URL)
		c.mustRun(0, "bootstrap")
		c.mustRun(0, "keys", "rotate", "--yes")
		active := c.state().ActiveKID
		c.unpublish(active)
		if out := c.mustRun(0, "keys", "list").Stdout; !strings.Contains(out, "active,local-only") {
			t.Errorf("keys list must show the active key local-only:\n%s", out)
		}
		if out := c.mustRun(0, "jwks").Stdout; strings.Contains(out, active) {
			t.Errorf("jwks shows the unpublished key:\n%s", out)
		}
		c.mustRun(0, "bootstrap")
		if !slices.Contains(c.publishedKIDs(), active) {
			t.Error("bootstrap did not publish the active key")
		}
		assertKeyMatchesState(t, c)
	})

	t.Run("5 containers recover on the next start", func(t *testing.T) {
		c := newClient(t, idp.URL)
		c.mustRun(0, "bootstrap")
		c.revokeRAT()
		c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
		c.mustRun(0, "bootstrap")
		if h := ratHealth(t, c); h != "valid" {
			t.Errorf("renewed on start: %s", h)
		}
		delete(c.env, "BOOTSTRAP_ADMIN_TOKEN")
		c.revokeRAT()
		id := c.state().ClientID
		c.env["DCR_FORCE_REPLACE"] = "true"
		c.mustRun(0, "bootstrap")
		if c.state().ClientID == id || ratHealth(t, c) != "valid" {
			t.Error("DCR_FORCE_REPLACE did not register a working client")
		}
	})
}
