package integration

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// The interop suite: the same scenarios against every real IdP in
// testenv.Servers (node oidc-provider, Glewlwyd, Ory Hydra). After every
// change the registration is proven to still do its job: a private_key_jwt
// client-credentials token request (RFC 7523) signed with the active key
// succeeds, and one signed with a dropped key fails.

// forEachIdP runs scenario against a fresh instance of each real IdP.
func forEachIdP(t *testing.T, scenario func(t *testing.T, srv *testenv.Server)) {
	for _, s := range testenv.Servers {
		t.Run(s.Name, func(t *testing.T) { scenario(t, s.Start(t)) })
	}
}

// newServerClient is a BFF registering at srv; it asks for the
// client_credentials grant too, so that its keys can be proven at the token
// endpoint.
func newServerClient(t *testing.T, srv *testenv.Server) *client {
	t.Helper()
	c := newClient(t, srv.BaseURL)
	delete(c.env, "DCRCTL_ADMIN_RAT_URL")
	c.env["DCRCTL_GRANT_TYPES"] = "authorization_code refresh_token client_credentials"
	c.env["DCR_CLIENT_ID"] = "bff-interop"
	c.setEnv(srv.Env)
	return c
}

// setEnv sets each variable of env on the client; an empty value unsets it.
func (c *client) setEnv(env map[string]string) {
	for k, v := range env {
		if v == "" {
			delete(c.env, k)
		} else {
			c.env[k] = v
		}
	}
}

// tokenStatus asks srv's token endpoint for a client-credentials token,
// authenticating with an RFC 7523 assertion signed by signer under kid. It
// returns the HTTP status.
func tokenStatus(t *testing.T, srv *testenv.Server, clientID string, signer crypto.Signer, kid, alg string) int {
	t.Helper()
	endpoint := srv.TokenEndpoint(t)
	jti := make([]byte, 16)
	rand.Read(jti)
	now := time.Now()
	// aud is the token endpoint as a string: Glewlwyd refuses an array.
	claims, _ := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": endpoint, "jti": hex.EncodeToString(jti),
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	})
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, kid)
	hdr.Set(jws.TypeKey, "JWT")
	assertion, err := jws.Sign(claims, jws.WithKey(jwa.SignatureAlgorithm(alg), signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {string(assertion)},
	}
	if srv.TokenScope != "" {
		form.Set("scope", srv.TokenScope)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signingKey is a key on disk with its kid and alg as the state records them.
type signingKey struct {
	signer   crypto.Signer
	kid, alg string
}

func (c *client) activeKey() signingKey {
	c.t.Helper()
	signer, err := keys.LoadPEM(c.keyPath())
	if err != nil {
		c.t.Fatal(err)
	}
	st := c.state()
	return signingKey{signer: signer, kid: st.ActiveKID, alg: st.Key(st.ActiveKID).Alg}
}

// assertTokenWorks proves the registration does its job with key.
func assertTokenWorks(t *testing.T, srv *testenv.Server, c *client, key signingKey) {
	t.Helper()
	if got := tokenStatus(t, srv, c.state().ClientID, key.signer, key.kid, key.alg); got != http.StatusOK {
		t.Fatalf("%s: private_key_jwt token request with key %q: HTTP %d, want 200\n%s", srv.Name, key.kid, got, srv.ServerLogs())
	}
}

// assertTokenRefused proves a dropped key no longer works.
func assertTokenRefused(t *testing.T, srv *testenv.Server, c *client, key signingKey) {
	t.Helper()
	if got := tokenStatus(t, srv, c.state().ClientID, key.signer, key.kid, key.alg); got < 400 {
		t.Fatalf("%s: token request signed with dropped key %q: HTTP %d, want a refusal", srv.Name, key.kid, got)
	}
}

func TestInteropRegistrationAndNoChangeRuns(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		res := c.mustRun(0, "bootstrap", "-o", "json")
		var report struct {
			Outcome, ClientID string `json:"-"`
			RequestedClientID string `json:"requested_client_id"`
		}
		json.Unmarshal([]byte(res.Stdout), &report)
		st := c.state()
		if st.ClientID == "" || st.RegistrationAccessToken == "" || st.RegistrationClientURI == "" {
			t.Fatalf("state after registration: %+v", st)
		}
		if srv.KeepsClientID != (st.ClientID == "bff-interop") {
			t.Errorf("client_id %q: %s keeps the requested id: %v", st.ClientID, srv.Name, srv.KeepsClientID)
		}
		if !srv.KeepsClientID && (report.RequestedClientID != "bff-interop" || !strings.Contains(res.Stderr, "assigned its own client_id")) {
			t.Errorf("an assigned client_id must be reported (report %+v):\n%s", report, res.Stderr)
		}
		if got := c.publishedKIDs(); !slices.Equal(got, []string{"bff-initial"}) {
			t.Errorf("published kids %v", got)
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())

		for run := 2; run <= 3; run++ {
			before, _ := os.ReadFile(c.statePath())
			srv.ResetRequests(t)
			c.mustRun(0, "bootstrap")
			want := []string{"GET " + mustPath(t, st.RegistrationClientURI)}
			if got := methods(srv.Requests(t)); !slices.Equal(got, want) {
				t.Errorf("run %d made requests %v, want %v", run, got, want)
			}
			if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
				t.Errorf("run %d rewrote the state", run)
			}
		}
	})
}

func mustPath(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// volatile are members an IdP changes on every update by itself.
var volatile = []string{"jwks", "updated_at", "registration_access_token", "registration_client_uri"}

func TestInteropRotationChangesOnlyTheJWKS(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")
		first := c.activeKey()
		before := c.registration()
		c.age(31)
		res := c.mustRun(0, "bootstrap")
		if !strings.Contains(res.Stdout, "updated") {
			t.Errorf("rotation run:\n%s", res.Stdout)
		}
		after := c.registration()
		for k, v := range before {
			if slices.Contains(volatile, k) {
				continue
			}
			if a, _ := json.Marshal(after[k]); string(a) != mustJSON(v) {
				t.Errorf("rotation changed %s: %s -> %s", k, mustJSON(v), a)
			}
		}
		for k := range after {
			if _, had := before[k]; !had && !slices.Contains(volatile, k) {
				t.Errorf("rotation added member %s", k)
			}
		}
		active := c.activeKey()
		if active.kid == first.kid || strings.HasPrefix(active.kid, "-") {
			t.Fatalf("active kid after rotation: %q", active.kid)
		}
		if got := c.publishedKIDs(); !slices.Contains(got, first.kid) || !slices.Contains(got, active.kid) {
			t.Errorf("published after rotation %v: want the old and the new key", got)
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, active)
		assertTokenWorks(t, srv, c, first) // still published: replicas may still sign with it
	})
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func TestInteropCapAndRetirement(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")
		first := c.activeKey()
		for rotation := 1; rotation <= 3; rotation++ {
			c.age(31)
			c.mustRun(0, "bootstrap")
			if got := c.publishedKIDs(); len(got) > 3 {
				t.Fatalf("rotation %d: %d keys published %v, cap is 3", rotation, len(got), got)
			}
			assertKeyMatchesState(t, c)
		}
		if slices.Contains(c.publishedKIDs(), first.kid) {
			t.Fatalf("the first key, 93 days old, is still published: %v", c.publishedKIDs())
		}
		assertTokenRefused(t, srv, c, first)
		assertTokenWorks(t, srv, c, c.activeKey())

		// Retire the newest key that is not active.
		active := c.state().ActiveKID
		var victim string
		for _, kid := range c.publishedKIDs() {
			if kid != active {
				victim = kid
			}
		}
		if victim == "" {
			t.Fatalf("no key to retire besides the active one: %v", c.publishedKIDs())
		}
		c.mustRun(0, "keys", "retire", "--yes", "--", victim)
		if got := c.publishedKIDs(); slices.Contains(got, victim) || !slices.Contains(got, active) {
			t.Errorf("after retiring %q: published %v", victim, got)
		}
		assertTokenWorks(t, srv, c, c.activeKey())
	})
}

func TestInteropOperatorCommands(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")

		table := c.mustRun(0, "status").Stdout
		if !regexpLine(table, "auth method:", "private_key_jwt") || !regexpLine(table, "RAT:", "valid") {
			t.Errorf("status table:\n%s", table)
		}
		var status struct {
			AuthMethod string                  `json:"token_endpoint_auth_method"`
			Redirects  []string                `json:"redirect_uris"`
			RAT        struct{ Health string } `json:"registration_access_token"`
			Keys       []struct{ KID string }
		}
		if err := json.Unmarshal([]byte(c.mustRun(0, "status", "-o", "json").Stdout), &status); err != nil {
			t.Fatal(err)
		}
		if status.AuthMethod != "private_key_jwt" || status.RAT.Health != "valid" || len(status.Redirects) != 2 || len(status.Keys) != 1 {
			t.Errorf("status -o json: %+v", status)
		}
		if out := c.mustRun(0, "keys", "list").Stdout; !strings.Contains(out, "bff-initial") || !strings.Contains(out, "active") {
			t.Errorf("keys list:\n%s", out)
		}
		var list []struct{ KID string }
		if err := json.Unmarshal([]byte(c.mustRun(0, "keys", "list", "-o", "json").Stdout), &list); err != nil || len(list) != 1 {
			t.Errorf("keys list -o json: %v %v", list, err)
		}
		var jwks struct{ Keys []map[string]any }
		if err := json.Unmarshal([]byte(c.mustRun(0, "jwks").Stdout), &jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != "bff-initial" {
			t.Errorf("jwks: %+v %v", jwks, err)
		}

		c.mustRun(0, "keys", "rotate", "--yes")
		if c.state().ActiveKID == "bff-initial" {
			t.Error("keys rotate kept the active key")
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())

		old := c.state().ClientID
		c.mustRun(0, "register", "--force", "--yes")
		if srv.KeepsClientID == (c.state().ClientID != old) {
			t.Errorf("register --force: client %q -> %q", old, c.state().ClientID)
		}
		if ab := c.state().AbandonedClients; len(ab) != 0 {
			t.Errorf("register --force left the old client undeleted: %+v", ab)
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())

		c.env["DCR_FORCE_REPLACE"] = "true"
		beforeRAT := c.state().RegistrationAccessToken
		c.mustRun(0, "bootstrap")
		delete(c.env, "DCR_FORCE_REPLACE")
		if c.state().RegistrationAccessToken == beforeRAT {
			t.Error("DCR_FORCE_REPLACE kept the registration")
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())
	})
}

// regexpLine reports whether a line starting with label contains want.
func regexpLine(text, label, want string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, label) && strings.Contains(line, want) {
			return true
		}
	}
	return false
}

func TestInteropDeadRAT(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")
		clientID := c.state().ClientID
		c.revokeRAT()
		before, _ := os.ReadFile(c.statePath())

		srv.ResetRequests(t)
		res := c.mustRun(77, "bootstrap")
		if !strings.Contains(res.Stderr, "DCR_FORCE_REPLACE") {
			t.Errorf("dead RAT without recovery must name DCR_FORCE_REPLACE:\n%s", res.Stderr)
		}
		assertNoRegistration(t, srv)
		if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
			t.Error("a failed run changed the state")
		}

		c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
		srv.ResetRequests(t)
		if srv.Recovery {
			c.mustRun(0, "bootstrap")
			if c.state().RegistrationAccessToken == revokedRAT || c.state().ClientID != clientID {
				t.Errorf("recovery: state %+v", c.state())
			}
			assertKeyMatchesState(t, c)
		} else {
			res := c.mustRun(77, "bootstrap")
			if !strings.Contains(res.Stderr, "no way to re-issue") || !strings.Contains(res.Stderr, "DCR_FORCE_REPLACE") {
				t.Errorf("%s has no recovery; dcrctl must say so:\n%s", srv.Name, res.Stderr)
			}
			res = c.mustRun(77, "rat", "renew", "--yes")
			if strings.Contains(res.Stdout, "renew the registration access token") {
				t.Errorf("rat renew reported a renewal that cannot happen:\n%s", res.Stdout)
			}
		}
		assertNoRegistration(t, srv)
		// The documented way out, on purpose.
		c.env["DCR_FORCE_REPLACE"] = "true"
		c.mustRun(0, "bootstrap")
		delete(c.env, "DCR_FORCE_REPLACE")
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())
	})
}

// assertNoRegistration checks that nothing was POSTed to the IdP since the
// last reset: no orphan client was made.
func assertNoRegistration(t *testing.T, srv *testenv.Server) {
	t.Helper()
	for _, r := range methods(srv.Requests(t)) {
		if strings.HasPrefix(r, "POST ") && !strings.HasSuffix(r, "/token") {
			t.Errorf("%s: a registration was sent: %s", srv.Name, r)
		}
	}
}

// Hydra's discovery lists no registration_endpoint. Without a preset that is
// a configuration error naming DCRCTL_REGISTRATION_ENDPOINT, found before the
// registration is sent anywhere; with it set, or the hydra preset, it works.
func TestHydraDiscoveryWithoutRegistrationEndpoint(t *testing.T) {
	srv := testenv.StartHydra(t)
	c := newServerClient(t, srv)
	delete(c.env, "DCRCTL_IDP_PRESET")

	res := c.mustRun(78, "bootstrap")
	if !strings.Contains(res.Stderr, "DCR_IAT") {
		t.Errorf("no IAT and no open registration: must name DCR_IAT:\n%s", res.Stderr)
	}
	if got := srv.Requests(t); len(got) != 0 {
		t.Errorf("requests sent before the missing IAT was reported: %v", methods(got))
	}

	c.env["DCRCTL_OPEN_REGISTRATION"] = "true"
	res = c.mustRun(78, "bootstrap")
	for _, want := range []string{"DCRCTL_REGISTRATION_ENDPOINT", "lists no registration_endpoint"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	assertNoRegistration(t, srv)

	c.env["DCRCTL_REGISTRATION_ENDPOINT"] = srv.BaseURL + "/oauth2/register"
	c.mustRun(0, "bootstrap")
	assertTokenWorks(t, srv, c, c.activeKey())
}

// Errors of the initial access token name the settings at fault: a token
// the IdP refuses is exit 77, a token endpoint that refuses the configured
// client or scope is a configuration error, exit 78.
func TestGlewlwydInitialAccessTokenErrors(t *testing.T) {
	srv := testenv.StartGlewlwyd(t)
	cases := []struct {
		name string
		env  map[string]string
		code int
		want []string
	}{
		{"static IAT refused", map[string]string{"DCR_IAT": "not-an-iat-the-idp-issued", "DCRCTL_IAT_TOKEN_URL": ""}, 77, []string{"initial access token rejected", "DCR_IAT"}},
		// Glewlwyd says no more than a bare 403 to both.
		{"unknown scope", map[string]string{"DCRCTL_IAT_SCOPE": "no-such-scope"}, 78, []string{"DCRCTL_IAT_SCOPE", "no OAuth error code"}},
		{"wrong secret", map[string]string{"DCRCTL_IAT_CLIENT_SECRET": "wrong-gateway-secret"}, 78, []string{"DCRCTL_IAT_CLIENT_SECRET"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newServerClient(t, srv)
			c.secrets["wrong-gateway-secret"] = true
			c.setEnv(tc.env)
			res := c.mustRun(tc.code, "bootstrap")
			for _, want := range tc.want {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
			if c.state().ClientID != "" {
				t.Error("a client was recorded")
			}
		})
	}
}

// oidc-provider names the error: invalid_client names the client settings.
// An unknown scope it drops silently, so the token it issues is refused at
// registration (exit 77), and that message names DCRCTL_IAT_SCOPE too.
func TestIATTokenEndpointErrorsNameTheSetting(t *testing.T) {
	srv := testenv.OIDCProvider(t)
	for _, tc := range []struct {
		env, value string
		code       int
		want       string
	}{
		{"DCRCTL_IAT_SCOPE", "no-such-scope", 77, "DCRCTL_IAT_SCOPE (the token needs the IdP's registration scope)"},
		{"DCRCTL_IAT_CLIENT_SECRET", "wrong-gateway-secret", 78, "config: DCRCTL_IAT_CLIENT_ID/DCRCTL_IAT_CLIENT_SECRET:"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			c := newServerClient(t, srv)
			c.secrets[tc.value] = true
			delete(c.env, "DCR_IAT")
			c.env["DCRCTL_IAT_TOKEN_URL"] = srv.TokenEndpoint(t)
			c.env["DCRCTL_IAT_CLIENT_ID"] = testenv.IATClient
			c.env["DCRCTL_IAT_CLIENT_SECRET"] = testenv.IATSecret
			c.env[tc.env] = tc.value
			if res := c.mustRun(tc.code, "bootstrap"); !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.Stderr)
			}
		})
	}
}

// Glewlwyd's discovery lives under its issuer path. Given only the origin,
// no document exists anywhere dcrctl looks, and the old helper's
// {IDP_BASE_URL}/api/oidc/register is used — said at WARN with the URL.
func TestGlewlwydFallbackToTheOldHelpersPathIsSaid(t *testing.T) {
	srv := testenv.StartGlewlwyd(t)
	c := newServerClient(t, srv)
	origin := strings.TrimSuffix(srv.BaseURL, "/api/oidc")
	c.env["IDP_BASE_URL"] = origin
	delete(c.env, "DCRCTL_IDP_PRESET")
	res := c.mustRun(0, "bootstrap")
	if !regexpLine(res.Stderr, `{"time"`, "falling back") || !strings.Contains(res.Stderr, origin+"/api/oidc/register") {
		t.Errorf("the fallback must be logged at WARN with its URL:\n%s", res.Stderr)
	}
	assertTokenWorks(t, srv, c, c.activeKey())
}

// The behaviour test/README.md records for each real server, checked: what
// a GET echoes, whether an update rotates the RAT, and whether the old RAT
// dies with it.
func TestServerBehaviourAsDocumented(t *testing.T) {
	want := map[string]struct{ getEchoesRAT, updateRotates bool }{
		"oidc-provider": {getEchoesRAT: true, updateRotates: true}, // the same RAT, not a new one
		"glewlwyd":      {getEchoesRAT: false, updateRotates: false},
		"hydra":         {getEchoesRAT: false, updateRotates: true},
	}
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")
		first := c.state()
		status, md := rawGet(t, first.RegistrationClientURI, first.RegistrationAccessToken)
		if status != http.StatusOK {
			t.Fatalf("GET: HTTP %d", status)
		}
		if _, echoed := md["registration_access_token"]; echoed != want[srv.Name].getEchoesRAT {
			t.Errorf("GET echoes the RAT: %v", echoed)
		}
		c.mustRun(0, "keys", "rotate", "--yes")
		rotated := c.state().RegistrationAccessToken != first.RegistrationAccessToken
		if rotated != want[srv.Name].updateRotates {
			t.Errorf("update rotated the RAT: %v", rotated)
		}
		if oldStatus, _ := rawGet(t, first.RegistrationClientURI, first.RegistrationAccessToken); rotated && oldStatus != http.StatusUnauthorized {
			t.Errorf("the old RAT after rotation: HTTP %d, want 401", oldStatus)
		}
		if deadStatus, _ := rawGet(t, first.RegistrationClientURI, revokedRAT); deadStatus != http.StatusUnauthorized {
			t.Errorf("a RAT the IdP never issued: HTTP %d, want 401", deadStatus)
		}
	})
}

func rawGet(t *testing.T, uri, rat string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Authorization", "Bearer "+rat)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md map[string]any
	json.NewDecoder(resp.Body).Decode(&md)
	return resp.StatusCode, md
}

// An update the IdP refuses (here oidc-provider's 400 for a redirect URI a
// web client may not have) exits 65 with what the IdP said, keeps the next
// key recorded and its PEM on disk, and `keys retire -- KID` discards it.
func TestRefusedUpdateKeepsThePendingKeyAndRetireDiscardsIt(t *testing.T) {
	srv := testenv.OIDCProvider(t)
	c := newServerClient(t, srv)
	c.mustRun(0, "bootstrap")
	c.age(31)
	good := c.env["DCR_REDIRECT_URIS"]
	c.env["DCR_REDIRECT_URIS"] = "com.example.app:/callback"
	res := c.mustRun(65, "bootstrap")
	if !strings.Contains(res.Stderr, "the IdP refused the update") || !strings.Contains(res.Stderr, "redirect_uri") {
		t.Errorf("refused update must say what the IdP named:\n%s", res.Stderr)
	}
	st := c.state()
	if st.PendingKID == "" || !strings.Contains(res.Stderr, "keys retire -- "+st.PendingKID) {
		t.Fatalf("pending key %q not kept, or its discard command not named:\n%s", st.PendingKID, res.Stderr)
	}
	if _, err := os.Stat(c.keyPath() + ".next"); err != nil {
		t.Fatalf("pending PEM: %v", err)
	}
	pending := st.PendingKID
	// Only the discard: with the refused redirect URI still configured, a
	// reconciling run would send (and have refused) the same update again.
	c.env["DCRCTL_RECONCILE"] = "false"
	out := c.mustRun(0, "keys", "retire", "--yes", "--", pending).Stdout
	delete(c.env, "DCRCTL_RECONCILE")
	if !strings.Contains(out, "discard the next key") {
		t.Errorf("retire of the next key:\n%s", out)
	}
	if st := c.state(); st.PendingKID != "" || st.Key(pending) != nil {
		t.Errorf("pending key still recorded: %+v", st)
	}
	if _, err := os.Stat(c.keyPath() + ".next"); !os.IsNotExist(err) {
		t.Errorf("pending PEM still on disk: %v", err)
	}
	if slices.Contains(c.publishedKIDs(), pending) {
		t.Error("discarded key published")
	}
	c.env["DCR_REDIRECT_URIS"] = good
	c.mustRun(0, "bootstrap") // the rotation, now accepted
	if c.state().ActiveKID == "bff-initial" {
		t.Error("rotation did not happen once the update was accepted")
	}
	assertKeyMatchesState(t, c)
	assertTokenWorks(t, srv, c, c.activeKey())
}
