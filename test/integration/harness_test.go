// Package integration runs the real dcrctl binary against the real test IdP
// (node oidc-provider) and a real prometheus-pushgateway, all on loopback.
package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

const runTimeout = 60 * time.Second

// client is one BFF's files and env, and everything dcrctl printed for it.
type client struct {
	t       *testing.T
	dir     string
	env     map[string]string
	outputs []string
	secrets map[string]bool
}

func newClient(t *testing.T, idpURL string) *client {
	t.Helper()
	dir := t.TempDir()
	c := &client{t: t, dir: dir, secrets: map[string]bool{}, env: map[string]string{
		"IDP_BASE_URL":          idpURL,
		"DCR_IAT":               testenv.IAT,
		"DCR_REDIRECT_URIS":     "https://bff.example.test/callback, https://bff.example.test/alt",
		"DCR_CLIENT_PROFILE":    "bff",
		"BFF_JWT_SIGNING_KEY":   filepath.Join(dir, "signing-key.pem"),
		"BFF_KID":               "bff-initial",
		"BFF_CLIENT_CRED_PATH":  filepath.Join(dir, "client.json"),
		"DCRCTL_RETRY_DEADLINE": "15s",
		"DCRCTL_TIMEOUT":        "5s",
		// The test IdP's own dialect: it keeps the RAT on a read, so a read
		// is an ordinary request (the generic preset's careful reads are
		// tested on their own).
		"DCRCTL_IDP_PRESET": "oidc-provider",
		// The test IdP's renewal route (server.mjs glue): dcrctl has no
		// default renewal URL, it sends the admin token only where told.
		"DCRCTL_ADMIN_RAT_URL": idpURL + "/admin/clients/{client_id}/registration-access-token",
	}}
	for _, s := range []string{testenv.IAT, testenv.AdminToken, testenv.IATSecret} {
		c.secrets[s] = true
	}
	t.Cleanup(c.assertNoSecretsPrinted)
	return c
}

// run runs dcrctl and remembers its output and any new secret on disk.
func (c *client) run(args ...string) testenv.Result {
	c.t.Helper()
	res := testenv.Run(c.t, runTimeout, c.env, args...)
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	c.collectSecrets()
	return res
}

// mustRun runs dcrctl and fails the test unless it exits with want.
func (c *client) mustRun(want int, args ...string) testenv.Result {
	c.t.Helper()
	res := c.run(args...)
	if res.Code != want {
		c.t.Fatalf("dcrctl %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, res.Code, want, res.Stdout, res.Stderr)
	}
	return res
}

func (c *client) statePath() string { return c.env["BFF_CLIENT_CRED_PATH"] }
func (c *client) keyPath() string   { return c.env["BFF_JWT_SIGNING_KEY"] }

func (c *client) state() *state.State {
	c.t.Helper()
	st, err := state.Load(c.statePath())
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

func (c *client) writeState(st *state.State) {
	c.t.Helper()
	if err := state.Save(c.statePath(), st); err != nil {
		c.t.Fatal(err)
	}
}

// revokeRAT replaces the cached RAT with one the IdP never issued.
func (c *client) revokeRAT() {
	c.t.Helper()
	st := c.state()
	st.RegistrationAccessToken = revokedRAT
	c.writeState(st)
}

const revokedRAT = "revoked-registration-access-token"

// age moves every key record back by days, as if that much time had passed.
func (c *client) age(days int) {
	c.t.Helper()
	st := c.state()
	ageState(st, days)
	c.writeState(st)
}

// ageState moves st's key records (created, published, superseded) back by days.
func ageState(st *state.State, days int) { testenv.AgeState(st, days) }

func (c *client) collectSecrets() {
	if st, err := state.Load(c.statePath()); err == nil {
		if st.RegistrationAccessToken != "" {
			c.secrets[st.RegistrationAccessToken] = true
		}
		for _, ab := range st.AbandonedClients { // kept to delete it: a secret too
			if ab.RegistrationAccessToken != "" {
				c.secrets[ab.RegistrationAccessToken] = true
			}
		}
	}
	for _, p := range []string{c.keyPath(), c.keyPath() + ".next"} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				c.secrets[line] = true
			}
		}
	}
}

// assertNoSecretsPrinted scans everything dcrctl printed in this test for
// every secret it used or was given: IAT, admin token, RATs, PEM lines.
func (c *client) assertNoSecretsPrinted() {
	all := strings.Join(c.outputs, "\n")
	for s := range c.secrets {
		if strings.Contains(all, s) {
			c.t.Errorf("a secret (%d bytes, starting %q) appears in dcrctl's output", len(s), s[:4])
		}
	}
}

// registration reads the client as the IdP holds it, with the cached RAT
// (test code's own GET). Where a read rotates the RAT (the Curity
// emulation) the new one is saved, as dcrctl itself would.
func (c *client) registration() map[string]any {
	c.t.Helper()
	st := c.state()
	req, _ := http.NewRequest(http.MethodGet, st.RegistrationClientURI, nil)
	req.Header.Set("Authorization", "Bearer "+st.RegistrationAccessToken)
	if st.Management == state.ManagementAdminAPI {
		req.Header.Set("Authorization", "SSWS "+testenv.AdminToken) // the Okta emulation's API token
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: HTTP %d", st.RegistrationClientURI, resp.StatusCode)
	}
	var md map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		c.t.Fatal(err)
	}
	if rat, _ := md["registration_access_token"].(string); rat != "" && rat != st.RegistrationAccessToken {
		st.RegistrationAccessToken = rat
		c.writeState(st)
		c.secrets[rat] = true
	}
	return md
}

// publishedKIDs lists the kids the IdP publishes for the client, and checks
// that no key carries a private member.
func (c *client) publishedKIDs() []string {
	c.t.Helper()
	jwks, _ := c.registration()["jwks"].(map[string]any)
	list, _ := jwks["keys"].([]any)
	var kids []string
	for _, k := range list {
		key := k.(map[string]any)
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, found := key[member]; found {
				c.t.Errorf("published key %v carries private member %q", key["kid"], member)
			}
		}
		kids = append(kids, key["kid"].(string))
	}
	return kids
}
