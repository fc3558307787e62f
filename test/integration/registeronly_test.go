package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Registration without RFC 7592 (issue 19), against the real oidc-provider
// with registrationManagement off: a registration with no RAT is a
// registration. It is never registered again by bootstrap, every command
// agrees on it, and the registered key signs tokens.
func TestRegisterOnlyIdPNeverOrphansAClient(t *testing.T) {
	srv := testenv.RegisterOnly(t)
	if !strings.HasSuffix(srv.BaseURL, testenv.RegisterOnlyIssuerPath) {
		t.Fatalf("the register-only IdP's issuer %s has no path", srv.BaseURL)
	}
	c := newServerClient(t, srv)
	res := c.mustRun(0, "bootstrap", "-o", "json")
	st := c.state()
	if st.ClientID == "" || st.RegistrationAccessToken != "" || st.RegistrationClientURI != "" || st.Management != "none" {
		t.Fatalf("state after registration: %+v\n%s", st, res.Stdout)
	}
	if st.ClientID == "bff-interop" {
		t.Error("the IdP was to ignore the requested client_id")
	}
	assertTokenWorks(t, srv, c, c.activeKey())

	// 20 restarts of the container: no request at all, one client. The
	// metrics have no RAT-health series for a client without a RAT.
	srv.ResetRequests(t)
	c.env["DCRCTL_METRICS_FILE"] = filepath.Join(c.dir, "dcrctl.prom")
	for range 20 {
		c.mustRun(0, "bootstrap")
	}
	if prom, err := os.ReadFile(c.env["DCRCTL_METRICS_FILE"]); err != nil || strings.Contains(string(prom), "bff_dcr_rat_healthy") || !strings.Contains(string(prom), "bff_dcr_key_age_seconds") {
		t.Errorf("metrics file (%v):\n%s", err, prom)
	}
	if reqs := srv.Requests(t); len(reqs) != 0 {
		t.Errorf("20 restarts sent %d requests: %v", len(reqs), methods(reqs))
	}
	if got := c.state().ClientID; got != st.ClientID {
		t.Fatalf("client_id changed from %s to %s", st.ClientID, got)
	}

	// The commands agree on what is registered.
	var status struct {
		ClientID   string                  `json:"client_id"`
		Management string                  `json:"management"`
		RAT        struct{ Health string } `json:"registration_access_token"`
	}
	out := c.mustRun(0, "status", "-o", "json").Stdout
	if err := json.Unmarshal([]byte(out), &status); err != nil || status.ClientID != st.ClientID || status.Management != "none" || !strings.HasPrefix(status.RAT.Health, "none") {
		t.Errorf("status -o json: %v\n%s", err, out)
	}
	c.mustRun(0, "status", "--exit-code")
	if res := c.mustRun(0, "jwks"); !strings.Contains(res.Stdout, st.ActiveKID) {
		t.Errorf("jwks shows not the key dcrctl holds:\n%s", res.Stdout)
	}
	if res := c.mustRun(64, "keys", "rotate", "--yes"); !strings.Contains(res.Stderr, "without RFC 7592 management") {
		t.Errorf("keys rotate:\n%s", res.Stderr)
	}
	if reqs := srv.Requests(t); len(reqs) != 0 {
		t.Errorf("status, jwks and keys rotate sent requests: %v", methods(reqs))
	}
	if res := c.mustRun(0, "doctor"); !strings.Contains(res.Stdout, "without RFC 7592 management") {
		t.Errorf("doctor:\n%s", res.Stdout)
	}

	// A due rotation does not crash-loop: bootstrap warns and exits 0,
	// status --exit-code says 14.
	c.age(31)
	if res := c.mustRun(0, "bootstrap"); !strings.Contains(res.Stderr, "due for rotation") {
		t.Errorf("no warning for a due rotation:\n%s", res.Stderr)
	}
	c.mustRun(14, "status", "--exit-code")

	// register --force: a new client with a new key; the old one, which
	// cannot be deleted, is recorded as abandoned.
	c.mustRun(0, "register", "--force", "--yes")
	after := c.state()
	if after.ClientID == st.ClientID || len(after.AbandonedClients) != 1 || after.AbandonedClients[0].ClientID != st.ClientID {
		t.Fatalf("after register --force: client %s, abandoned %+v", after.ClientID, after.AbandonedClients)
	}
	assertTokenWorks(t, srv, c, c.activeKey())
	if res := c.mustRun(0, "status"); !strings.Contains(res.Stdout, "abandoned: client "+st.ClientID) {
		t.Errorf("status does not list the abandoned client:\n%s", res.Stdout)
	}
	registrations := 0
	for _, r := range srv.Requests(t) {
		if r.Method == "POST" && r.Path == "/reg" {
			registrations++
		}
	}
	if registrations != 1 {
		t.Errorf("%d registrations after the first, want the one register --force made", registrations)
	}
}

// --dry-run never says a client was registered (issue 19 §6).
func TestDryRunRegistrationSaysWouldRegister(t *testing.T) {
	srv := testenv.RegisterOnly(t)
	c := newServerClient(t, srv)
	res := c.mustRun(0, "bootstrap", "--dry-run", "-o", "json")
	var report struct{ Outcome string }
	json.Unmarshal([]byte(res.Stdout), &report)
	if report.Outcome != "would register" || strings.Contains(res.Stderr, `"outcome":"registered"`) {
		t.Errorf("dry run: outcome %q\n%s", report.Outcome, res.Stderr)
	}
	if c.state().ClientID != "" {
		t.Error("a dry run saved a client")
	}
}

// DCRCTL_VERIFY=token: where the registration cannot be read, a no-change
// bootstrap proves the key with one private_key_jwt token request (RFC
// 7523) and says so; a key the IdP refuses exits 77 (issue 19 §2).
func TestVerifyTokenProvesTheKeyAtARegisterOnlyIdP(t *testing.T) {
	srv := testenv.RegisterOnly(t)
	c := newServerClient(t, srv)
	c.mustRun(0, "bootstrap")
	c.env["DCRCTL_VERIFY"] = "token"
	srv.ResetRequests(t)
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stderr, "the IdP accepted the key") {
		t.Errorf("bootstrap does not say the key was proven:\n%s", res.Stderr)
	}
	tokens := 0
	for _, r := range srv.Requests(t) {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/token") {
			tokens++
		}
	}
	if tokens != 1 {
		t.Errorf("token requests: %v, want one", methods(srv.Requests(t)))
	}
	// Another client's id with this key: the IdP refuses the assertion.
	st := c.state()
	st.ClientID = "not-" + st.ClientID
	c.writeState(st)
	if res := c.mustRun(77, "bootstrap"); !strings.Contains(res.Stderr, "refused a private_key_jwt token request") {
		t.Errorf("a refused key:\n%s", res.Stderr)
	}
}

// DCRCTL_ROTATION=reregister at an IdP without RFC 7592 (issue 19 §3): a
// due rotation registers a new client with both keys (so whichever file the
// application reads first, its client_id and key work together), switches
// to it, records the old client as abandoned, and the next key signs. A
// kill at every step leaves one client in use, recorded, with a key it
// holds; the token endpoint is the judge.
func TestRotationByReregistration(t *testing.T) {
	srv := testenv.RegisterOnly(t)
	c := newServerClient(t, srv)
	c.env["DCRCTL_ROTATION"] = "reregister"
	c.mustRun(0, "bootstrap")
	first := c.state()
	old := c.activeKey()
	c.age(31)
	c.mustRun(0, "bootstrap")
	st := c.state()
	now := c.activeKey()
	if st.ClientID == first.ClientID || now.kid == old.kid || len(st.AbandonedClients) != 1 || st.AbandonedClients[0].ClientID != first.ClientID {
		t.Fatalf("after the rotation: client %s (was %s), key %s (was %s), abandoned %+v", st.ClientID, first.ClientID, now.kid, old.kid, st.AbandonedClients)
	}
	for _, k := range []signingKey{now, old} { // the new client holds both keys
		if got := tokenStatus(t, srv, st.ClientID, k.signer, k.kid, k.alg); got != 200 {
			t.Errorf("token for the new client with key %s: HTTP %d", k.kid, got)
		}
	}
	srv.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	if reqs := srv.Requests(t); len(reqs) != 0 {
		t.Errorf("after the rotation a no-change bootstrap sent %v", methods(reqs))
	}

	for _, point := range []string{"pending-key-written", "pending-key-recorded", "intent-recorded", "client-registered", "pending-key-renamed"} {
		t.Run(point, func(t *testing.T) {
			c := newServerClient(t, srv)
			c.env["DCRCTL_ROTATION"] = "reregister"
			c.mustRun(0, "bootstrap")
			c.age(31)
			c.env["DCRCTL_FAULT_KILL_AT"] = point
			if res := c.run("bootstrap"); res.Code != -1 {
				t.Fatalf("not killed at %q (exit %d)\n%s", point, res.Code, res.Stderr)
			}
			delete(c.env, "DCRCTL_FAULT_KILL_AT")
			// Whatever client_id and key the application reads right after
			// the kill work together. (Killed between the PEM's rename and
			// the state's write, active_kid still names the old key until
			// the next run, as for any promotion: the key is named here by
			// its record, matched by thumbprint.)
			st, k := c.state(), c.activeKey()
			if tp, _ := keys.Thumbprint(k.signer); st.KeyByThumbprint(tp) != nil {
				k.kid = st.KeyByThumbprint(tp).KID
			}
			if tokenStatus(t, srv, st.ClientID, k.signer, k.kid, k.alg) != 200 {
				t.Errorf("after the kill the client %s with key %s does not work", st.ClientID, k.kid)
			}
			c.mustRun(0, "bootstrap")
			st, k = c.state(), c.activeKey()
			if tokenStatus(t, srv, st.ClientID, k.signer, k.kid, k.alg) != 200 || st.PendingKID != "" || len(st.AbandonedClients) == 0 {
				t.Errorf("after recovery: client %s, key %s, next %q, abandoned %v", st.ClientID, k.kid, st.PendingKID, st.AbandonedClients)
			}
		})
	}
}
