package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

func doctorChecks(t *testing.T, c *client, want int) map[string]engine.Check {
	t.Helper()
	res := c.mustRun(want, "doctor", "-o", "json")
	var checks []engine.Check
	if err := json.Unmarshal([]byte(res.Stdout), &checks); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, res.Stdout)
	}
	out := map[string]engine.Check{}
	for _, ch := range checks {
		out[ch.Name] = ch
	}
	return out
}

// doctor against the real IdP and Pushgateway: all green on a healthy
// setup, read-only (no change at the IdP or on disk), and each broken part
// named with its fix and exit 1.
func TestDoctor(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	pg := testenv.StartPushgateway(t)
	c := newClient(t, idp.URL)
	c.env["PROM_PUSHGATEWAY_URL"] = pg.URL
	c.mustRun(0, "bootstrap")
	before, _ := os.ReadFile(c.statePath())
	idp.ResetRequests(t)

	checks := doctorChecks(t, c, 0)
	for _, name := range []string{"configuration", "state folder writable", "state file (BFF_CLIENT_CRED_PATH)", "signing key (BFF_JWT_SIGNING_KEY)",
		"signing key matches active_kid", "discovery and registration endpoint", "TLS trust", "clock against the IdP",
		"registration access token", "RAT recovery path", "initial access token source", "pushgateway"} {
		ch, found := checks[name]
		if !found || !ch.OK || ch.Skipped && name != "clock against the IdP" {
			t.Errorf("check %q: %+v", name, ch)
		}
	}
	if !strings.Contains(checks["registration access token"].Found, "valid") {
		t.Errorf("RAT check: %+v", checks["registration access token"])
	}
	for _, r := range methods(idp.Requests(t)) {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("doctor sent %s", r)
		}
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Error("doctor changed the state")
	}
	c.env["LANG"] = "C.UTF-8"
	if table := c.mustRun(0, "doctor").Stdout; !strings.Contains(table, "✓") {
		t.Errorf("table without marks:\n%s", table)
	}
	delete(c.env, "LANG")

	// Where a read may rotate the RAT, doctor does not read it.
	c.env["DCRCTL_IDP_PRESET"] = "generic"
	idp.ResetRequests(t)
	if ch := doctorChecks(t, c, 0)["registration access token"]; !ch.Skipped || !strings.Contains(ch.Found, "may rotate") {
		t.Errorf("generic preset RAT check: %+v", ch)
	}
	for _, r := range methods(idp.Requests(t)) {
		if strings.Contains(r, "/reg/") {
			t.Errorf("doctor read the client at an IdP that may rotate on read: %s", r)
		}
	}
	c.env["DCRCTL_IDP_PRESET"] = "oidc-provider"

	// Broken: a loose state file, a dead pushgateway, a wrong issuer.
	os.Chmod(c.statePath(), 0o644)
	c.env["PROM_PUSHGATEWAY_URL"] = "http://127.0.0.1:1"
	c.env["IDP_BASE_URL"] = idp.URL + "/wrong"
	checks = doctorChecks(t, c, 1)
	for name, fix := range map[string]string{
		"state file (BFF_CLIENT_CRED_PATH)":   "chmod 600",
		"pushgateway":                         "PROM_PUSHGATEWAY_URL",
		"discovery and registration endpoint": "IDP_BASE_URL",
	} {
		if ch := checks[name]; ch.OK || !strings.Contains(ch.Fix, fix) {
			t.Errorf("broken %q: %+v", name, ch)
		}
	}
	if res := c.run("doctor"); res.Code != 1 || !strings.Contains(res.Stdout, "FAIL") || !strings.Contains(res.Stdout, "fix: chmod 600") || !strings.Contains(res.Stderr, "check(s) failed") {
		t.Errorf("doctor on a broken setup: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
}
