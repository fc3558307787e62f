package integration

import (
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// ratHealth is the RAT health `dcrctl status -o json` reports.
func ratHealth(t *testing.T, c *client) string {
	t.Helper()
	var status struct {
		RAT struct{ Health, Error string } `json:"registration_access_token"`
	}
	out := c.mustRun(0, "status", "-o", "json").Stdout
	if err := json.Unmarshal([]byte(out), &status); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return status.RAT.Health
}

// startDuring starts dcrctl with args and returns once the IdP has seen a
// request with method (polled, at most 20 s), while dcrctl waits for the
// answer the IdP holds back.
func startDuring(t *testing.T, c *client, idp *testenv.IdP, method string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := testenv.Start(t, c.env, args...)
	for attempt := 0; attempt < 200; attempt++ {
		for _, r := range idp.Requests(t) {
			if r.Method == method {
				return cmd
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("the IdP never saw a %s from dcrctl %v", method, args)
	return nil
}

func (c *client) wait(cmd *exec.Cmd) testenv.Result {
	c.t.Helper()
	res := testenv.Wait(c.t, cmd, runTimeout)
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	c.collectSecrets()
	return res
}

// A signal while an update is in flight (the test IdP rotates the RAT on
// every update, and holds its answer back 3 s after applying it): dcrctl
// waits for the answer, saves the new RAT, then exits 128+signal with what
// it completed. No admin token is configured, so a lost RAT would show.
func TestSignalDuringAnUpdateLetsItFinish(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			c := newClient(t, idp.URL)
			c.mustRun(0, "bootstrap")
			before := c.state()
			idp.Delay(t, "PUT", 3*time.Second)
			defer idp.Delay(t, "PUT", 0)
			idp.ResetRequests(t)

			cmd := startDuring(t, c, idp, "PUT", "keys", "rotate", "--yes")
			cmd.Process.Signal(sig)
			res := c.wait(cmd)
			if res.Code != 128+int(sig) {
				t.Fatalf("exit %d, want %d\n%s", res.Code, 128+int(sig), res.Stderr)
			}
			for _, want := range []string{"finishing the request in flight", "interrupted by SIG", "completed and saved:", "publish key"} {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
			idp.Delay(t, "PUT", 0)
			after := c.state()
			if after.RegistrationAccessToken == before.RegistrationAccessToken {
				t.Fatal("the RAT the update rotated was not saved")
			}
			if after.InFlight != nil {
				t.Errorf("write-ahead note left after the answer was saved: %+v", after.InFlight)
			}
			if h := ratHealth(t, c); h != "valid" {
				t.Errorf("RAT after the interrupted rotation: %s", h)
			}
			assertKeyMatchesState(t, c)
		})
	}
}

// A signal while a request that cannot change the RAT is in flight (a read
// at an IdP that keeps the RAT on reads) stops dcrctl there: nothing sent
// after it, nothing changed.
func TestSignalDuringAReadStopsBeforeAnyChange(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31) // a rotation is due
	before := c.state()
	idp.Delay(t, "GET", 5*time.Second)
	defer idp.Delay(t, "GET", 0)
	idp.ResetRequests(t)

	cmd := startDuring(t, c, idp, "GET", "bootstrap")
	cmd.Process.Signal(syscall.SIGTERM)
	res := c.wait(cmd)
	if res.Code != 143 || !strings.Contains(res.Stderr, "nothing was changed") {
		t.Fatalf("exit %d, want 143 and \"nothing was changed\":\n%s", res.Code, res.Stderr)
	}
	idp.Delay(t, "GET", 0)
	for _, r := range methods(idp.Requests(t)) {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("sent after the signal: %s", r)
		}
	}
	after := c.state()
	if after.RegistrationAccessToken != before.RegistrationAccessToken || after.ActiveKID != before.ActiveKID {
		t.Error("state changed by an interrupted read")
	}
}

// DCRCTL_TIMEOUT shorter than the IdP's answer to an update: the update is
// waited for (DCRCTL_UPDATE_TIMEOUT) and its RAT saved.
func TestUpdateOutlastsAShortRequestTimeout(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.env["DCRCTL_TIMEOUT"] = "1s"
	c.env["DCRCTL_RETRY_DEADLINE"] = "1s"
	idp.Delay(t, "PUT", 2*time.Second)
	defer idp.Delay(t, "PUT", 0)
	c.mustRun(0, "keys", "rotate", "--yes")
	idp.Delay(t, "PUT", 0)
	if h := ratHealth(t, c); h != "valid" {
		t.Fatalf("RAT after a slow update: %s", h)
	}
	assertKeyMatchesState(t, c)
}

// At an IdP that rotates the RAT on every read (Curity, emulated), with the
// preset that says so, a signal during status's read waits for the answer
// and saves the new RAT.
func TestSignalDuringARotatingReadSavesTheRAT(t *testing.T) {
	idp := testenv.StartEmulation(t, "curity")
	c := newClient(t, idp.URL)
	c.env["DCRCTL_IDP_PRESET"] = "curity"
	c.mustRun(0, "bootstrap")
	before := c.state().RegistrationAccessToken
	idp.Delay(t, "GET", 3*time.Second)
	defer idp.Delay(t, "GET", 0)
	idp.ResetRequests(t)

	cmd := startDuring(t, c, idp, "GET", "status")
	cmd.Process.Signal(syscall.SIGTERM)
	if res := c.wait(cmd); res.Code != 143 {
		t.Fatalf("exit %d, want 143\n%s", res.Code, res.Stderr)
	}
	idp.Delay(t, "GET", 0)
	if c.state().RegistrationAccessToken == before {
		t.Fatal("the RAT the read rotated was not saved")
	}
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("RAT after the interrupted read: %s", h)
	}
}

// SIGKILL after the IdP applied an update (and rotated the RAT) but before
// dcrctl saved its answer: the write-ahead note lets the next run say what
// happened, and it is cleared once the RAT is recovered.
func TestWriteAheadNoteExplainsARATLostInACrash(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.env["DCRCTL_FAULT_KILL_AT"] = "jwks-accepted"
	if res := c.run("keys", "rotate", "--yes"); res.Code != -1 {
		t.Fatalf("not killed (exit %d):\n%s", res.Code, res.Stderr)
	}
	delete(c.env, "DCRCTL_FAULT_KILL_AT")
	note := c.state().InFlight
	if note == nil || note.Op != "update" || note.Method != "PUT" {
		t.Fatalf("write-ahead note: %+v", note)
	}
	res := c.mustRun(77, "bootstrap")
	for _, want := range []string{"an update (PUT " + note.URI, "sent by " + note.By + " at " + note.SentAt.Format(time.RFC3339), "never reached dcrctl", "BOOTSTRAP_ADMIN_TOKEN"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
	c.mustRun(0, "bootstrap")
	if n := c.state().InFlight; n != nil {
		t.Errorf("note kept after the RAT was recovered: %+v", n)
	}
	assertKeyMatchesState(t, c)
}

// A run killed after its registration was sent but before the answer was
// saved says, next time, that the IdP may hold an unknown client.
func TestWriteAheadNoteWarnsOfAPossibleOrphan(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	delete(c.env, "DCR_CLIENT_ID")
	c.env["DCRCTL_FAULT_KILL_AT"] = "client-registered"
	if res := c.run("bootstrap"); res.Code != -1 {
		t.Fatalf("not killed (exit %d):\n%s", res.Code, res.Stderr)
	}
	delete(c.env, "DCRCTL_FAULT_KILL_AT")
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stderr, "the IdP may hold a client dcrctl does not know") {
		t.Errorf("no orphan warning:\n%s", res.Stderr)
	}
	if n := c.state().InFlight; n != nil {
		t.Errorf("note kept after the registration was saved: %+v", n)
	}
}
