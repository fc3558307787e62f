package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

type keyJSON struct {
	KID       string   `json:"kid"`
	Alg       string   `json:"alg"`
	Use       string   `json:"use"`
	CreatedAt string   `json:"created_at"`
	AgeDays   *int     `json:"age_days"`
	States    []string `json:"states"`
}

func keysList(t *testing.T, c *client) []keyJSON {
	t.Helper()
	res := c.mustRun(0, "keys", "list", "-o", "json")
	var out []keyJSON
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("keys list -o json: %v\n%s", err, res.Stdout)
	}
	return out
}

func TestStatusJSONFieldByField(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31)
	res := c.mustRun(0, "status", "-o", "json")
	var st struct {
		IdP          string   `json:"idp"`
		ClientID     string   `json:"client_id"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		RedirectURIs []string `json:"redirect_uris"`
		ClientURI    string   `json:"registration_client_uri"`
		RAT          struct {
			Health      string `json:"health"`
			Fingerprint string `json:"fingerprint"`
		} `json:"registration_access_token"`
		ActiveKID       string    `json:"active_kid"`
		RotateAfterDays int       `json:"rotate_after_days"`
		RetireAfterDays int       `json:"retire_after_days"`
		Keys            []keyJSON `json:"keys"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		t.Fatalf("%v\n%s", err, res.Stdout)
	}
	state := c.state()
	if st.IdP != idp.URL || st.ClientID != state.ClientID || st.AuthMethod != "private_key_jwt" || st.ClientURI != state.RegistrationClientURI {
		t.Errorf("client fields: %+v", st)
	}
	if !slices.Equal(st.RedirectURIs, []string{"https://bff.example.test/callback", "https://bff.example.test/alt"}) {
		t.Errorf("redirect_uris %v", st.RedirectURIs)
	}
	if st.RAT.Health != "valid" || !strings.HasPrefix(st.RAT.Fingerprint, "sha256:") || st.RotateAfterDays != 30 || st.RetireAfterDays != 60 {
		t.Errorf("rat/thresholds: %+v", st)
	}
	if len(st.Keys) != 1 {
		t.Fatalf("keys %+v", st.Keys)
	}
	k := st.Keys[0]
	if k.KID != "bff-initial" || k.Alg != "RS256" || k.Use != "sig" || k.AgeDays == nil || *k.AgeDays != 31 || !slices.Equal(k.States, []string{"active", "due"}) {
		t.Errorf("key %+v (age %v)", k, k.AgeDays)
	}

	// A rejected RAT is part of the status, not a failure.
	c.revokeRAT()
	res = c.mustRun(0, "status", "-o", "json")
	if !strings.Contains(res.Stdout, `"health": "rejected"`) || !strings.Contains(res.Stdout, `"http_status": 401`) {
		t.Errorf("rejected RAT status:\n%s", res.Stdout)
	}
}

func TestKeysRotateRetireAndJWKS(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")

	// Not a terminal and no --yes: refuse, change nothing.
	res := c.mustRun(64, "keys", "rotate")
	if !strings.Contains(res.Stderr, "--yes") || c.state().ActiveKID != "bff-initial" {
		t.Errorf("rotate without --yes:\n%s", res.Stderr)
	}
	res = c.mustRun(0, "keys", "rotate", "--dry-run")
	if !strings.Contains(res.Stdout, "rotation requested") || c.state().ActiveKID != "bff-initial" {
		t.Errorf("rotate --dry-run:\n%s", res.Stdout)
	}
	res = c.mustRun(0, "keys", "rotate", "--yes", "-o", "json")
	var report struct {
		Outcome string `json:"outcome"`
		JWKS    struct {
			Before []string `json:"before"`
			After  []string `json:"after"`
			Add    []string `json:"add"`
		} `json:"jwks"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &report); err != nil {
		t.Fatalf("%v\n%s", err, res.Stdout)
	}
	active := c.state().ActiveKID
	if report.Outcome != "updated" || len(report.JWKS.Add) != 1 || report.JWKS.Add[0] != active || !slices.Equal(report.JWKS.Before, []string{"bff-initial"}) {
		t.Errorf("rotate report %+v, active %q", report, active)
	}
	assertKeyMatchesState(t, c)

	list := keysList(t, c)
	states := map[string][]string{}
	for _, k := range list {
		states[k.KID] = k.States
	}
	if !slices.Equal(states[active], []string{"active"}) || !slices.Equal(states["bff-initial"], []string{"published"}) {
		t.Errorf("states after rotate: %v", states)
	}

	res = c.mustRun(64, "keys", "retire", active, "--yes")
	if !strings.Contains(res.Stderr, "active signing key") {
		t.Errorf("retiring the active key should be refused:\n%s", res.Stderr)
	}
	c.mustRun(64, "keys", "retire", "no-such-kid", "--yes")
	c.mustRun(0, "keys", "retire", "bff-initial", "--yes")
	if got := c.publishedKIDs(); !slices.Equal(got, []string{active}) {
		t.Errorf("after retire: %v", got)
	}

	res = c.mustRun(0, "jwks")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != active {
		t.Fatalf("jwks: %v\n%s", err, res.Stdout)
	}
	if _, private := jwks.Keys[0]["d"]; private {
		t.Error("jwks printed a private member")
	}
}

func TestRATRenewAndRegisterForce(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	old := c.state()

	res := c.mustRun(78, "rat", "renew", "--yes")
	if !strings.Contains(res.Stderr, "BOOTSTRAP_ADMIN_TOKEN") {
		t.Errorf("renew without admin token:\n%s", res.Stderr)
	}
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	c.mustRun(0, "rat", "renew", "--yes")
	if c.state().RegistrationAccessToken == old.RegistrationAccessToken {
		t.Error("rat renew kept the old RAT")
	}
	c.mustRun(0, "status")

	c.mustRun(0, "register", "--force", "--yes")
	if st := c.state(); st.ClientID == old.ClientID {
		t.Errorf("register --force kept client %q", st.ClientID)
	}
	assertKeyMatchesState(t, c)
}

func TestConfigPrintsMaskedSecrets(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	res := c.mustRun(0, "config", "-o", "json")
	var settings []struct{ Key, Env, Value, Source string }
	if err := json.Unmarshal([]byte(res.Stdout), &settings); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range settings {
		switch s.Key {
		case "iat", "admin_token":
			found++
			if !strings.HasPrefix(s.Value, "sha256:") || !strings.HasPrefix(s.Source, "env ") {
				t.Errorf("%s: %+v", s.Key, s)
			}
		case "state_file":
			if s.Value != c.statePath() || s.Source != "env BFF_CLIENT_CRED_PATH" {
				t.Errorf("state_file: %+v", s)
			}
		}
	}
	if found != 2 {
		t.Errorf("secret settings missing: %d", found)
	}
}

func TestYAMLOutputMatchesJSONNames(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	res := c.mustRun(0, "status", "-o", "yaml")
	for _, want := range []string{"client_id: " + c.state().ClientID, "token_endpoint_auth_method: private_key_jwt", "health: valid", "    kid: bff-initial", "      - active"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("status -o yaml lacks %q:\n%s", want, res.Stdout)
		}
	}
	c.mustRun(64, "status", "-o", "xml")
}

// Commands do what their names say: with no client in the state, rotate,
// retire and renew register nothing (exit 66 naming the path); rat renew on
// a client the IdP deleted does not re-register it.
func TestOnlyBootstrapAndRegisterRegister(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	for _, args := range [][]string{{"keys", "rotate", "--yes"}, {"keys", "retire", "--yes", "foo"}, {"rat", "renew", "--yes"}} {
		res := c.mustRun(66, args...)
		if !strings.Contains(res.Stderr, "no client registered in "+c.statePath()) {
			t.Errorf("%v:\n%s", args, res.Stderr)
		}
	}
	if got := idp.Requests(t); len(got) != 0 {
		t.Errorf("requests sent: %v", methods(got))
	}
	if _, err := os.Stat(c.statePath()); err == nil && c.state().ClientID != "" {
		t.Error("a client was registered")
	}

	c.mustRun(0, "register", "--yes")
	st := c.state()
	// Delete the client behind dcrctl's back: its URI now answers 401 at
	// oidc-provider; the renewal mints a RAT only for a known client (404).
	req, _ := http.NewRequest(http.MethodDelete, st.RegistrationClientURI, nil)
	req.Header.Set("Authorization", "Bearer "+st.RegistrationAccessToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", err, resp)
	}
	idp.ResetRequests(t)
	c.mustRun(77, "rat", "renew", "--yes")
	for _, r := range methods(idp.Requests(t)) {
		if strings.HasPrefix(r, "POST /reg") {
			t.Errorf("rat renew re-registered: %v", r)
		}
	}
	if c.state().ClientID != st.ClientID {
		t.Error("rat renew changed the client")
	}
}

// Passwords and keys inside URLs never reach the screen or a log: `config`,
// the status header, and errors naming the URL mask them.
func TestPasswordsInURLsAreMasked(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, strings.Replace(idp.URL, "http://", "http://operator:url-pa55word-1@", 1))
	c.env["PROM_PUSHGATEWAY_URL"] = "http://pusher:pg-pa55word-2@127.0.0.1:1"
	c.env["DCRCTL_ADMIN_RAT_URL"] = idp.URL + "/admin/clients/{client_id}/registration-access-token?api_key=adm-k3y-value-3"
	c.env["DCRCTL_TRUSTED_HOSTS"] = strings.TrimPrefix(idp.URL, "http://")
	for _, s := range []string{"url-pa55word-1", "pg-pa55word-2", "adm-k3y-value-3"} {
		c.secrets[s] = true // the cleanup scan fails the test if any is printed
	}
	out := c.mustRun(0, "config").Stdout
	if !strings.Contains(out, "operator:xxxxx@") || !strings.Contains(out, "api_key=REDACTED") {
		t.Errorf("config should show masked URLs:\n%s", out)
	}
	c.mustRun(0, "bootstrap") // the push fails and is logged with its URL
	if out := c.mustRun(0, "status").Stdout; !strings.Contains(out, "operator:xxxxx@") {
		t.Errorf("status header:\n%s", out)
	}
}
