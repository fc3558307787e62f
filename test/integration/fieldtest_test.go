package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// What operators hit in the second field test (issue 17), each against the
// real test IdP.

// doctor at an IdP that rotates the RAT on a read, under a preset that says
// it does not: the rotated RAT is saved (and said), so the next status
// finds it valid (§1).
func TestDoctorSavesARATRotatedByARead(t *testing.T) {
	idp := testenv.StartEmulation(t, "curity") // rotates the RAT on every GET
	c := newClient(t, idp.URL)
	c.env["DCRCTL_IDP_PRESET"] = "oidc-provider" // wrongly says reads keep it
	c.mustRun(0, "bootstrap")
	before := c.state().RegistrationAccessToken
	res := c.run("doctor")
	if !strings.Contains(res.Stdout, "saved") {
		t.Errorf("doctor does not say it saved a new RAT:\n%s", res.Stdout)
	}
	if c.state().RegistrationAccessToken == before {
		t.Fatal("the RAT the IdP issued on doctor's read was not saved")
	}
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("RAT after doctor: %s", h)
	}
}

// A RAT that is simply rejected (revoked, not lost in a crash): every
// command says so without blaming a lost answer, and the state is left
// byte for byte as it was, at an IdP whose reads go through a write-ahead
// note (§2).
func TestRejectedRATLeavesTheStateAsItWas(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_IDP_PRESET"] = "generic" // reads are critical: a note is written
	c.mustRun(0, "bootstrap")
	c.revokeRAT()
	before, _ := os.ReadFile(c.statePath())
	for _, args := range [][]string{{"status"}, {"bootstrap"}, {"keys", "rotate", "--yes"}} {
		res := c.run(args...)
		if strings.Contains(res.Output(), "got no answer") || strings.Contains(res.Output(), "an read") {
			t.Errorf("dcrctl %v blames a lost answer for a revoked RAT:\n%s", args, res.Output())
		}
		if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
			t.Errorf("dcrctl %v changed the state:\n%s\nwas:\n%s", args, after, before)
		}
	}
}

// A plan file made before a read that rotated the RAT still applies: the
// RAT is a credential, not part of what the plan was computed from (§3).
func TestPlanSurvivesARATRotatedByARead(t *testing.T) {
	idp := testenv.StartEmulation(t, "curity")
	c := newClient(t, idp.URL)
	c.env["DCRCTL_IDP_PRESET"] = "curity"
	c.mustRun(0, "bootstrap")
	plan := filepath.Join(c.dir, "rotate.json")
	c.mustRun(0, "keys", "rotate", "--plan-out", plan)
	before := c.state().RegistrationAccessToken
	c.mustRun(0, "status")
	if c.state().RegistrationAccessToken == before {
		t.Fatal("the read did not rotate the RAT; the test proves nothing")
	}
	c.mustRun(0, "apply", plan)
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("RAT after apply: %s", h)
	}
	assertKeyMatchesState(t, c)
}

// SIGTERM while dcrctl retries an IdP answering 503 ends the retries at
// once (Kubernetes SIGKILLs after 30 s): no request after the signal but
// the one already on its way, exit 143 long before the retry deadline (§4).
func TestSignalEndsRetriesAtOnce(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	for _, preset := range []string{"generic", "oidc-provider"} { // a critical read, an ordinary one
		t.Run(preset, func(t *testing.T) {
			c := newClient(t, idp.URL)
			c.env["DCRCTL_IDP_PRESET"] = preset
			c.mustRun(0, "bootstrap")
			c.env["DCRCTL_RETRY_DEADLINE"] = "300s"
			idp.Fail(t, "GET", 503)
			defer idp.Fail(t, "GET", 0)
			idp.ResetRequests(t)
			cmd := testenv.Start(t, c.env, "bootstrap")
			testenv.Eventually(t, 60*time.Second, "a retried GET", func() bool { return countMethod(idp.Requests(t), "GET") >= 2 })
			cmd.Process.Signal(syscall.SIGTERM)
			signalled := time.Now()
			seen := len(idp.Requests(t))
			res := c.wait(cmd)
			took := time.Since(signalled)
			if res.Code != 143 {
				t.Fatalf("exit %d, want 143\n%s", res.Code, res.Stderr)
			}
			// Far from the 300 s retry deadline; seconds on a loaded machine.
			if took > 60*time.Second {
				t.Errorf("exited %s after SIGTERM", took)
			}
			if after := len(idp.Requests(t)); after > seen+1 {
				t.Errorf("%d requests after the signal", after-seen)
			}
			// At an IdP that keeps the RAT on reads nothing critical is in
			// flight: the signal's message does not claim one is (§13).
			if preset == "oidc-provider" && strings.Contains(res.Stderr, "finishing the request in flight") {
				t.Errorf("the message claims a request in flight:\n%s", res.Stderr)
			}
		})
	}
}

// A client_name with terminal control sequences, registered at the real
// IdP, is shown escaped by status (§8); JSON escapes it as JSON does.
func TestIdPStringsAreEscapedOnTheTerminal(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_CLIENT_NAME"] = "orders\x1b]0;owned\x07\x1b[2J"
	c.env["DCRCTL_RECONCILE"] = "false"
	c.mustRun(0, "bootstrap")
	res := c.mustRun(0, "status")
	if strings.ContainsAny(res.Stdout, "\x1b\x07") {
		t.Errorf("status prints control characters:\n%q", res.Stdout)
	}
	if !strings.Contains(res.Stdout, `orders\x1b]0;owned\x07\x1b[2J`) {
		t.Errorf("status does not show the name escaped:\n%s", res.Stdout)
	}
	res = c.mustRun(0, "status", "-o", "json")
	if strings.ContainsAny(res.Stdout, "\x1b\x07") || !strings.Contains(res.Stdout, `orders\u001b]0;owned\u0007`) {
		t.Errorf("status -o json:\n%q", res.Stdout)
	}
}

// Exit codes as the README's table has them, each naming what is at fault,
// nothing on disk lost (§6).
func TestExitCodesMatchTheREADME(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	for _, tc := range []struct {
		name  string
		setup func(c *client)
		code  int
		says  string
	}{
		{"state path is a directory", func(c *client) { os.Mkdir(c.statePath(), 0o700) }, 73, "is a directory"},
		{"PEM path is a directory", func(c *client) { os.Mkdir(c.keyPath(), 0o700) }, 65, "is a directory"},
		{"registration refused with 400", func(c *client) {
			c.env["DCR_REDIRECT_URIS"] = "https://bff.example.test/cb#fragment"
		}, 65, "DCR_REDIRECT_URIS"},
		{"IDP_BASE_URL with a query", func(c *client) { c.env["IDP_BASE_URL"] += "/?tenant=a" }, 78, "IDP_BASE_URL"},
		{"a port that cannot exist", func(c *client) { c.env["IDP_BASE_URL"] = "http://127.0.0.1:99999" }, 78, "99999"},
		{"registration endpoint answers 404", func(c *client) {
			c.env["DCRCTL_REGISTRATION_ENDPOINT"] = idp.URL + "/no-such-path/register"
		}, 78, "answered 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, idp.URL)
			tc.setup(c)
			res := c.mustRun(tc.code, "bootstrap")
			if !strings.Contains(res.Stderr, tc.says) {
				t.Errorf("stderr lacks %q:\n%s", tc.says, res.Stderr)
			}
		})
	}
}

// A state another user owns (0600): bootstrap, status and doctor say it
// cannot be read (exit 73 where they stop), and nothing suggests moving it
// aside, which would orphan the client it holds (§6, §7).
func TestUnreadableStateIsNamedNotReplaced(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to an unprivileged user needs root (CI runs as root)")
	}
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	shared, err := os.MkdirTemp("", "dcrctl-foreign-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	for _, p := range []string{shared, filepath.Dir(testenv.Binary(t))} {
		os.Chmod(p, 0o755)
	}
	c.env["BFF_CLIENT_CRED_PATH"] = filepath.Join(shared, "client.json")
	c.env["BFF_JWT_SIGNING_KEY"] = filepath.Join(shared, "signing-key.pem")
	c.mustRun(0, "bootstrap") // as root: 0600, root's
	before, _ := os.ReadFile(c.statePath())
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	for _, args := range [][]string{{"bootstrap"}, {"status"}} {
		res := testenv.RunWrapped(t, runTimeout, c.env, asNobody, args...)
		c.outputs = append(c.outputs, res.Stdout, res.Stderr)
		if res.Code != 73 || !strings.Contains(res.Stderr, "cannot be") || !strings.Contains(res.Stderr, "permission denied") {
			t.Errorf("%v as nobody: exit %d, want 73 naming the unreadable state\n%s", args, res.Code, res.Stderr)
		}
	}
	res := testenv.RunWrapped(t, runTimeout, c.env, asNobody, "doctor")
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	if !strings.Contains(res.Stdout, "cannot be read") || strings.Contains(res.Stdout, "move it aside") || strings.Contains(res.Stdout, "no client registered") {
		t.Errorf("doctor as nobody:\n%s", res.Stdout)
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Error("the state changed")
	}
}

// An adopted 1024-bit RSA key is refused unless DCRCTL_ALLOW_WEAK_KEY is
// set (then warned about); an adopted EC key stays EC at the next rotation
// when no algorithm was chosen (§9).
func TestWeakAndECKeysAreAdoptedAsTheyAre(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, idp.URL)
	if err := keys.WritePEM(c.keyPath(), weak); err != nil {
		t.Fatal(err)
	}
	res := c.mustRun(65, "bootstrap")
	if !strings.Contains(res.Stderr, "1024 bits") || !strings.Contains(res.Stderr, "DCRCTL_ALLOW_WEAK_KEY") {
		t.Errorf("the weak key is not named:\n%s", res.Stderr)
	}
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Errorf("requests sent with a refused key: %v", methods(reqs))
	}
	c.env["DCRCTL_ALLOW_WEAK_KEY"] = "true"
	if res := c.mustRun(0, "bootstrap"); !strings.Contains(res.Stderr, "weak RSA key") {
		t.Errorf("no warning with the override:\n%s", res.Stderr)
	}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := newClient(t, idp.URL)
	if err := keys.WritePEM(e.keyPath(), ec); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "bootstrap")
	e.mustRun(0, "keys", "rotate", "--yes")
	st := e.state()
	if rec := st.Key(st.ActiveKID); rec == nil || rec.Alg != "ES256" {
		t.Errorf("after rotating an adopted EC key the active key is %+v, want ES256", rec)
	}
}

// A new user with nothing set learns every missing setting at once, from
// bootstrap and from doctor (§13).
func TestEveryMissingSettingIsNamedAtOnce(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir()}
	res := testenv.Run(t, runTimeout, env, "bootstrap")
	if res.Code != 78 {
		t.Fatalf("exit %d, want 78\n%s", res.Code, res.Stderr)
	}
	for _, name := range []string{"BFF_CLIENT_CRED_PATH", "BFF_JWT_SIGNING_KEY", "IDP_BASE_URL"} {
		if !strings.Contains(res.Stderr, name) {
			t.Errorf("bootstrap does not name %s:\n%s", name, res.Stderr)
		}
	}
	res = testenv.Run(t, runTimeout, env, "doctor")
	for _, name := range []string{"BFF_CLIENT_CRED_PATH", "BFF_JWT_SIGNING_KEY", "IDP_BASE_URL"} {
		if !strings.Contains(res.Stdout, name) {
			t.Errorf("doctor does not name %s:\n%s", name, res.Stdout)
		}
	}
}

// At an IdP that rotates the RAT on every read: unchanged bootstraps add no
// audit line (a RAT rotated by a read is no change of the client), the
// status's fingerprint is the RAT as saved after its own read, and the
// state says when the JWKS was last seen (§13).
func TestReadsThatRotateTheRATAreNoChange(t *testing.T) {
	idp := testenv.StartEmulation(t, "curity")
	c := newClient(t, idp.URL)
	c.env["DCRCTL_IDP_PRESET"] = "curity"
	c.mustRun(0, "bootstrap")
	auditPath := c.statePath() + ".audit.jsonl"
	before, _ := os.ReadFile(auditPath)
	for range 5 {
		c.mustRun(0, "bootstrap")
	}
	if after, _ := os.ReadFile(auditPath); string(after) != string(before) {
		t.Errorf("unchanged bootstraps added audit lines:\n%s", strings.TrimPrefix(string(after), string(before)))
	}
	if st := c.state(); st.JWKSSeenAt == nil {
		t.Error("jwks_seen_at not written after reads of the JWKS")
	}
	var status struct {
		RAT struct{ Fingerprint string } `json:"registration_access_token"`
	}
	out := c.mustRun(0, "status", "-o", "json").Stdout
	json.Unmarshal([]byte(out), &status)
	if want := secret.Fingerprint(c.state().RegistrationAccessToken); status.RAT.Fingerprint != want {
		t.Errorf("status shows RAT %s, the state holds %s (rotated by status's own read)", status.RAT.Fingerprint, want)
	}
}
