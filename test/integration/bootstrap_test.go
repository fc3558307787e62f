package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

func methods(reqs []testenv.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// assertKeyMatchesState checks the invariant every run must leave: the PEM
// is the key recorded for active_kid, and the IdP publishes that key.
func assertKeyMatchesState(t *testing.T, c *client) {
	t.Helper()
	st := c.state()
	signer, err := keys.LoadPEM(c.keyPath())
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := keys.Thumbprint(signer)
	rec := st.Key(st.ActiveKID)
	if rec == nil || rec.Thumbprint != tp {
		t.Fatalf("PEM thumbprint %s does not match active_kid %q record %+v", tp, st.ActiveKID, rec)
	}
	if !slices.Contains(c.publishedKIDs(), st.ActiveKID) {
		t.Fatalf("active kid %q not published by the IdP", st.ActiveKID)
	}
}

func TestFirstRegistrationThenOneGetThenRotatedRATStillWorks(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)

	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stdout, "registered") {
		t.Errorf("first run should say it registered:\n%s", res.Stdout)
	}
	st := c.state()
	if st.ClientID == "" || st.RegistrationAccessToken == "" || !strings.HasPrefix(st.RegistrationClientURI, idp.URL+"/reg/") {
		t.Fatalf("state after registration: %+v", st)
	}
	if st.ActiveKID != "bff-initial" || len(st.Keys) != 1 || st.Keys[0].Alg != "RS256" {
		t.Fatalf("state keys after registration: active %q keys %+v", st.ActiveKID, st.Keys)
	}
	for _, p := range []string{c.statePath(), c.keyPath()} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, err %v; want 0600", p, fi.Mode().Perm(), err)
		}
	}
	md := c.registration()
	if md["token_endpoint_auth_method"] != "private_key_jwt" || md["client_profile"] != "bff" {
		t.Errorf("registered metadata: auth %v profile %v", md["token_endpoint_auth_method"], md["client_profile"])
	}
	if got := c.publishedKIDs(); !slices.Equal(got, []string{"bff-initial"}) {
		t.Errorf("published kids %v", got)
	}
	assertKeyMatchesState(t, c)

	// Second run: exactly one request, nothing written.
	before, _ := os.ReadFile(c.statePath())
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	if got := methods(idp.Requests(t)); !slices.Equal(got, []string{"GET /reg/" + st.ClientID}) {
		t.Errorf("no-change run made requests %v, want one GET", got)
	}
	after, _ := os.ReadFile(c.statePath())
	if string(before) != string(after) {
		t.Errorf("no-change run rewrote the state file")
	}

	// A rotation makes the IdP rotate the RAT (rotateRegistrationAccessToken);
	// the next run must use the new one.
	c.age(31)
	oldRAT := c.state().RegistrationAccessToken
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	if got := methods(idp.Requests(t)); !slices.Equal(got, []string{"GET /reg/" + st.ClientID, "PUT /reg/" + st.ClientID}) {
		t.Errorf("rotation made requests %v, want GET + PUT", got)
	}
	if c.state().RegistrationAccessToken == oldRAT {
		t.Fatalf("the IdP rotated the RAT on PUT but the state kept the old one")
	}
	c.mustRun(0, "bootstrap")
	assertKeyMatchesState(t, c)
}

func TestRotationCapAndRetirement(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["BFF_JWK_RETIRE_AFTER_DAYS"] = "365" // so that only the cap drops keys
	c.mustRun(0, "bootstrap")

	var history []string
	for i := 0; i < 4; i++ {
		history = append(history, c.state().ActiveKID)
		c.age(31)
		res := c.mustRun(0, "bootstrap")
		st := c.state()
		if st.ActiveKID == history[len(history)-1] {
			t.Fatalf("rotation %d: active kid unchanged\n%s", i+1, res.Stdout)
		}
		if st.PendingKID != "" {
			t.Fatalf("rotation %d: pending key left with DCRCTL_ACTIVATE_AFTER=0", i+1)
		}
		if slices.Contains(history, st.ActiveKID) {
			t.Fatalf("rotation %d reused kid %q", i+1, st.ActiveKID)
		}
		published := c.publishedKIDs()
		if len(published) > keys.MaxPublished {
			t.Fatalf("rotation %d: %d keys published, cap is %d: %v", i+1, len(published), keys.MaxPublished, published)
		}
		want := append(slices.Clone(history[max(0, len(history)-2):]), st.ActiveKID)
		slices.Sort(want)
		slices.Sort(published)
		if !slices.Equal(published, want) {
			t.Fatalf("rotation %d: published %v, want the 3 newest %v", i+1, published, want)
		}
		assertKeyMatchesState(t, c)
	}

	// Retirement: with the default 60 days, keys over 60 days old go, but
	// never before 30 days (60 − 30) after they stopped signing.
	delete(c.env, "BFF_JWK_RETIRE_AFTER_DAYS")
	c.age(29) // active 29 days (not due); previous 60 days, stopped signing 29 days ago; the one before 91
	res := c.mustRun(0, "bootstrap")
	previous := history[len(history)-1]
	published := c.publishedKIDs()
	slices.Sort(published)
	want := []string{c.state().ActiveKID, previous}
	slices.Sort(want)
	if !slices.Equal(published, want) {
		t.Fatalf("after retirement published %v, want the active key and the one it superseded 29 days ago\n%s", published, res.Stdout)
	}
	if !strings.Contains(res.Stdout, "expired") {
		t.Errorf("retirement plan should say why keys were dropped:\n%s", res.Stdout)
	}
	c.age(1) // the previous key's verification window is over (and a rotation due)
	res = c.mustRun(0, "bootstrap")
	if published := c.publishedKIDs(); slices.Contains(published, previous) {
		t.Fatalf("after its window %s is still published: %v\n%s", previous, published, res.Stdout)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31)
	before, _ := os.ReadFile(c.statePath())
	res := c.mustRun(0, "bootstrap", "--dry-run", "-o", "json")
	var report struct {
		Outcome string   `json:"outcome"`
		DryRun  bool     `json:"dry_run"`
		Steps   []string `json:"steps"`
		JWKS    struct {
			Add []string `json:"add"`
		} `json:"jwks"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &report); err != nil {
		t.Fatalf("%v\n%s", err, res.Stdout)
	}
	if !report.DryRun || report.Outcome != "updated" || len(report.JWKS.Add) != 1 {
		t.Errorf("dry-run report %+v", report)
	}
	after, _ := os.ReadFile(c.statePath())
	if string(before) != string(after) {
		t.Errorf("dry run changed the state file")
	}
	if _, err := os.Stat(c.keyPath() + ".next"); err == nil {
		t.Errorf("dry run wrote a pending key")
	}
	if got := c.publishedKIDs(); !slices.Equal(got, []string{"bff-initial"}) {
		t.Errorf("dry run changed the IdP: %v", got)
	}
}

func TestActivateAfterPublishesNowPromotesLater(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_ACTIVATE_AFTER"] = "1h"
	c.mustRun(0, "bootstrap")
	c.age(31)
	c.mustRun(0, "bootstrap")
	st := c.state()
	if st.ActiveKID != "bff-initial" || st.PendingKID == "" {
		t.Fatalf("after publishing: active %q pending %q", st.ActiveKID, st.PendingKID)
	}
	if !slices.Contains(c.publishedKIDs(), st.PendingKID) {
		t.Fatalf("pending key not published")
	}
	next := st.PendingKID
	c.mustRun(0, "bootstrap") // still within the hour: nothing changes
	if c.state().ActiveKID != "bff-initial" {
		t.Fatalf("promoted before DCRCTL_ACTIVATE_AFTER")
	}
	c.age(1) // a day later
	c.mustRun(0, "bootstrap")
	if st := c.state(); st.ActiveKID != next || st.PendingKID != "" {
		t.Fatalf("after the delay: active %q pending %q, want %q promoted", st.ActiveKID, st.PendingKID, next)
	}
	assertKeyMatchesState(t, c)
}

func TestRejectedRATFailsWithRemediesThenAdminTokenRenewsIt(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.revokeRAT()

	res := c.mustRun(77, "bootstrap")
	for _, want := range []string{"rejected", "BOOTSTRAP_ADMIN_TOKEN", "DCR_FORCE_REPLACE"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("error should name %q:\n%s", want, res.Stderr)
		}
	}
	if c.state().RegistrationAccessToken != revokedRAT {
		t.Fatalf("a failed run changed the state")
	}

	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	c.mustRun(0, "bootstrap")
	if rat := c.state().RegistrationAccessToken; rat == revokedRAT {
		t.Fatalf("RAT not renewed")
	}
	delete(c.env, "BOOTSTRAP_ADMIN_TOKEN")
	c.mustRun(0, "bootstrap") // the renewed RAT works on its own
}

func TestMissingIATFailsBeforeAnyRequest(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	delete(c.env, "DCR_IAT")
	idp.ResetRequests(t)
	res := c.mustRun(78, "bootstrap")
	if !strings.Contains(res.Stderr, "DCR_IAT") {
		t.Errorf("error should say which variable to set:\n%s", res.Stderr)
	}
	if got := idp.Requests(t); len(got) != 0 {
		t.Errorf("requests made without an IAT: %v", methods(got))
	}
	if _, err := os.Stat(c.statePath()); err == nil {
		t.Errorf("state file written by a failed run")
	}
}

func TestIdPStartingLateIsWaitedFor(t *testing.T) {
	port := testenv.FreePort(t)
	c := newClient(t, "http://127.0.0.1:"+itoa(port))
	cmd := testenv.Start(t, c.env, "bootstrap")
	time.Sleep(3 * time.Second)
	testenv.StartIdP(t, port)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bootstrap against a late IdP: %v\n%s", err, cmd.Stderr)
		}
	case <-time.After(runTimeout):
		cmd.Process.Kill()
		t.Fatal("bootstrap did not finish")
	}
	c.outputs = append(c.outputs, cmd.Stdout.(fmt.Stringer).String(), cmd.Stderr.(fmt.Stringer).String())
	if !strings.Contains(cmd.Stderr.(fmt.Stringer).String(), "retrying") {
		t.Errorf("expected retries to be logged")
	}
	if c.state().ClientID == "" {
		t.Fatal("not registered")
	}
}

func TestIdPNeverUpExitsUnavailable(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:"+itoa(testenv.FreePort(t)))
	c.env["DCRCTL_RETRY_DEADLINE"] = "2s"
	res := c.mustRun(69, "bootstrap")
	if !strings.Contains(res.Stderr, "unreachable") {
		t.Errorf("error should say the IdP is unreachable:\n%s", res.Stderr)
	}
}

func TestForceReplaceReRegisters(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	old := c.state()
	c.env["DCR_FORCE_REPLACE"] = "true"
	idp.ResetRequests(t)
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stdout, "re-registered") {
		t.Errorf("output should say re-registered:\n%s", res.Stdout)
	}
	reqs := methods(idp.Requests(t))
	if !slices.Contains(reqs, "DELETE /reg/"+old.ClientID) || !slices.Contains(reqs, "POST /reg") {
		t.Errorf("force replace requests %v, want DELETE of the old client and POST", reqs)
	}
	st := c.state()
	if st.ClientID == old.ClientID || st.RegistrationAccessToken == old.RegistrationAccessToken {
		t.Errorf("force replace kept the old client %q", st.ClientID)
	}
	delete(c.env, "DCR_FORCE_REPLACE")
	c.mustRun(0, "bootstrap")
	assertKeyMatchesState(t, c)
}

// A 404 from the renewal URL says nothing about the client: only its own
// registration_client_uri can. dcrctl must not re-register (that would orphan
// the old client with its keys published); it stops with exit 77 and the
// remedy, and DCR_FORCE_REPLACE then replaces it on purpose.
func TestDeletedClientIsNotReRegisteredOnARenewal404(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCR_CLIENT_ID"] = "bff-orders"
	c.mustRun(0, "bootstrap")
	if c.state().ClientID != "bff-orders" {
		t.Fatalf("desired client_id not used: %q", c.state().ClientID)
	}
	// Another party deletes the client with the RAT it also holds. The test IdP
	// then answers 401 for the RAT (oidc-provider deletes it with the client)
	// and the renewal route 404 for the client.
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	st := c.state()
	req, _ := http.NewRequest(http.MethodDelete, st.RegistrationClientURI, nil)
	req.Header.Set("Authorization", "Bearer "+st.RegistrationAccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", err, resp)
	}
	before, _ := os.ReadFile(c.statePath())
	idp.ResetRequests(t)
	res := c.mustRun(77, "bootstrap")
	for _, want := range []string{"no registration access token renewal is available", "HTTP 404", "DCR_FORCE_REPLACE"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	for _, r := range methods(idp.Requests(t)) {
		if strings.HasPrefix(r, "POST /reg") {
			t.Errorf("re-registered after a renewal 404: %v", r)
		}
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Error("state changed by a failed recovery")
	}
	res = c.mustRun(77, "rat", "renew", "--yes")
	if strings.Contains(res.Stdout, "renew the registration access token") {
		t.Errorf("rat renew reported a renewal that did not happen:\n%s", res.Stdout)
	}

	c.env["DCR_FORCE_REPLACE"] = "true"
	c.mustRun(0, "bootstrap")
	delete(c.env, "DCR_FORCE_REPLACE")
	assertKeyMatchesState(t, c)
}

func TestPatchDialect(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_UPDATE_METHOD"] = "patch"
	c.mustRun(0, "bootstrap")
	c.age(31)
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	id := c.state().ClientID
	if got := methods(idp.Requests(t)); !slices.Equal(got, []string{"GET /reg/" + id, "PATCH /reg/" + id}) {
		t.Errorf("patch dialect requests %v", got)
	}
	if len(c.publishedKIDs()) != 2 {
		t.Errorf("patch did not publish the new key")
	}
	assertKeyMatchesState(t, c)
}

func TestDisabledAndSkipMakeNoRequest(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	for _, env := range []map[string]string{{"DCR_ENABLED": "false"}, {"SKIP_DCR_BOOTSTRAP": "true"}, {"SKIP_DCR_BOOTSTRAP": "1"}} {
		c := newClient(t, idp.URL)
		for k, v := range env {
			c.env[k] = v
		}
		idp.ResetRequests(t)
		c.mustRun(0, "bootstrap")
		if got := idp.Requests(t); len(got) != 0 {
			t.Errorf("%v: requests %v", env, methods(got))
		}
		if _, err := os.Stat(c.statePath()); err == nil {
			t.Errorf("%v: state file written", env)
		}
	}
}

func TestOldHelperStateLoads(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	st := c.state()
	// What the Python helper wrote: client_id and RAT only.
	legacy, _ := json.Marshal(map[string]string{"client_id": st.ClientID, "registration_access_token": st.RegistrationAccessToken})
	if err := os.WriteFile(c.statePath(), legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun(0, "bootstrap")
	got := c.state()
	if got.ClientID != st.ClientID || got.ActiveKID != "bff-initial" || got.RegistrationClientURI != st.RegistrationClientURI {
		t.Fatalf("old helper state not carried over: %+v", got)
	}
	if len(got.Keys) != 1 || got.Keys[0].Thumbprint != st.Keys[0].Thumbprint {
		t.Fatalf("key not adopted: %+v", got.Keys)
	}
	assertKeyMatchesState(t, c)
}

func TestClientCredentialsIAT(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	delete(c.env, "DCR_IAT")
	c.env["DCRCTL_IAT_TOKEN_URL"] = idp.URL + "/token"
	c.env["DCRCTL_IAT_CLIENT_ID"] = testenv.IATClient
	c.env["DCRCTL_IAT_CLIENT_SECRET"] = testenv.IATSecret
	c.env["DCRCTL_IAT_SCOPE"] = "dcr_admin"
	c.mustRun(0, "bootstrap")
	if c.state().ClientID == "" {
		t.Fatal("not registered with a client-credentials IAT")
	}
}

func TestPushgatewayReceivesStatus(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	pg := testenv.StartPushgateway(t)
	c := newClient(t, idp.URL)
	c.env["PROM_PUSHGATEWAY_URL"] = pg.URL
	c.env["DCRCTL_PUSHGATEWAY_JOB"] = "bff_dcr"
	textfile := filepath.Join(c.dir, "dcrctl.prom")
	c.env["DCRCTL_METRICS_FILE"] = textfile
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "keys", "rotate", "--yes")
	c.mustRun(0, "bootstrap")
	metrics := pg.Metrics(t)
	active := c.state().ActiveKID
	for _, want := range []string{
		`bff_dcr_status{instance="",job="bff_dcr",status="success"} 1`,
		`bff_dcr_key_age_seconds{instance="",job="bff_dcr",kid="` + active + `",state="active"}`,
		`bff_dcr_key_age_seconds{instance="",job="bff_dcr",kid="bff-initial",state="published"}`,
		`bff_dcr_rat_healthy{instance="",job="bff_dcr"} 1`,
		`bff_dcr_last_success_timestamp_seconds{instance="",job="bff_dcr"}`,
		`bff_dcr_rotations_total{instance="",job="bff_dcr"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("pushgateway lacks %s:\n%s", want, grep(metrics, "bff_dcr"))
		}
	}
	if file, err := os.ReadFile(textfile); err != nil || !strings.Contains(string(file), `bff_dcr_key_age_seconds{kid="`+active+`",state="active"}`) {
		t.Errorf("DCRCTL_METRICS_FILE: %v\n%s", err, file)
	}
	c.revokeRAT()
	c.mustRun(77, "bootstrap")
	metrics = pg.Metrics(t)
	if !strings.Contains(metrics, `bff_dcr_status{instance="",job="bff_dcr",status="failure"} 1`) || strings.Contains(metrics, `status="success"`) {
		t.Fatalf("failure metric not found, or success left behind:\n%s", grep(metrics, "bff_dcr"))
	}
	if !strings.Contains(metrics, `bff_dcr_rat_healthy{instance="",job="bff_dcr"} 0`) || !strings.Contains(metrics, "bff_dcr_last_success_timestamp_seconds") {
		t.Errorf("after a failure: RAT health 0 and the last success kept:\n%s", grep(metrics, "bff_dcr"))
	}
	for s := range c.secrets {
		if strings.Contains(metrics, s) {
			t.Errorf("a secret reached the pushgateway")
		}
	}
	// A dead pushgateway never fails the bootstrap.
	c.env["PROM_PUSHGATEWAY_URL"] = "http://127.0.0.1:" + itoa(testenv.FreePort(t))
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stderr, "pushgateway push failed") {
		t.Errorf("pushgateway failure should be logged:\n%s", res.Stderr)
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	cases := map[string]struct{ name, value string }{
		"days":     {"BFF_JWK_ROTATE_AFTER_DAYS", "thirty"},
		"order":    {"BFF_JWK_ROTATE_AFTER_DAYS", "90"},
		"alg":      {"DCRCTL_KEY_ALG", "HS256"},
		"url":      {"IDP_BASE_URL", "not a url"},
		"bool":     {"DCR_FORCE_REPLACE", "maybe"},
		"duration": {"DCRCTL_RETRY_DEADLINE", "60"},
		"method":   {"DCRCTL_UPDATE_METHOD", "post"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, "http://127.0.0.1:1")
			c.env[tc.name] = tc.value
			res := c.mustRun(78, "bootstrap")
			if !strings.Contains(res.Stderr, tc.name) {
				t.Errorf("error does not name %s:\n%s", tc.name, res.Stderr)
			}
		})
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

// DCR_FORCE_REPLACE left set in a deployment replaces the registration once;
// later starts keep the healthy client it made (and say to unset the flag);
// a client whose RAT is then rejected is replaced again.
func TestForceReplaceLeftSetReplacesOnce(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	original := c.state().ClientID
	c.env["DCR_FORCE_REPLACE"] = "true"
	c.mustRun(0, "bootstrap")
	replaced := c.state().ClientID
	if replaced == original {
		t.Fatal("the first start with DCR_FORCE_REPLACE did not replace")
	}
	for start := 2; start <= 3; start++ {
		idp.ResetRequests(t)
		res := c.mustRun(0, "bootstrap")
		if got := c.state().ClientID; got != replaced {
			t.Fatalf("start %d replaced again: %s -> %s", start, replaced, got)
		}
		if !strings.Contains(res.Stderr, "unset the flag") {
			t.Errorf("start %d must WARN to unset DCR_FORCE_REPLACE:\n%s", start, res.Stderr)
		}
		if got := methods(idp.Requests(t)); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
			t.Errorf("start %d: requests %v, want the one GET of a healthy client", start, got)
		}
	}
	c.revokeRAT()
	c.mustRun(0, "bootstrap")
	if got := c.state().ClientID; got == replaced {
		t.Error("a rejected RAT with DCR_FORCE_REPLACE set must replace the registration")
	}
	assertKeyMatchesState(t, c)
}
