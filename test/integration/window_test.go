package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

func statusJSON(t *testing.T, c *client) engine.Status {
	t.Helper()
	var st engine.Status
	out := c.mustRun(0, "status", "-o", "json").Stdout
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return st
}

func keyStatus(st engine.Status, kid string) *engine.KeyStatus {
	for i := range st.Keys {
		if st.Keys[i].KID == kid {
			return &st.Keys[i]
		}
	}
	return nil
}

// An active key 65 days old is rotated; a run seconds later must not drop it
// as expired: replicas that started before the rotation still sign with it.
// It stays published for the verification window (60 − 30 = 30 days) from
// when it stopped signing, status shows when it retires, and it goes after.
func TestSupersededKeyStaysPublishedForTheVerificationWindow(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(65)
	c.mustRun(0, "bootstrap") // rotates
	rotatedAt := time.Now().UTC()
	c.mustRun(0, "bootstrap") // seconds later
	if !slices.Contains(c.publishedKIDs(), "bff-initial") {
		t.Fatal("the key superseded seconds ago was dropped")
	}
	old := keyStatus(statusJSON(t, c), "bff-initial")
	if old == nil || old.RetiresOn == nil || old.SupersededAt == nil {
		t.Fatalf("status of the superseded key: %+v", old)
	}
	if want := rotatedAt.Add(30 * 24 * time.Hour); old.RetiresOn.Sub(want).Abs() > time.Hour {
		t.Errorf("retires on %v, want about %v", old.RetiresOn, want)
	}
	if table := c.mustRun(0, "keys", "list").Stdout; !strings.Contains(table, "RETIRES ON") || !strings.Contains(table, old.RetiresOn.Format(time.DateOnly)) {
		t.Errorf("keys list lacks the retirement date:\n%s", table)
	}

	c.age(29)
	c.mustRun(0, "bootstrap")
	if !slices.Contains(c.publishedKIDs(), "bff-initial") {
		t.Fatal("dropped inside its window")
	}
	c.age(2)
	res := c.mustRun(0, "bootstrap")
	if slices.Contains(c.publishedKIDs(), "bff-initial") {
		t.Fatalf("still published after its window:\n%s", res.Stdout)
	}
	assertKeyMatchesState(t, c)
}

// Records of keys neither published nor local pile up no more: register
// --force starts a clean list, and a successful read prunes the rest. With the
// IdP unreadable, keys are shown as published when last seen, not now.
func TestKeyRecordsArePrunedAndLastSeenIsSaid(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	for range 3 {
		c.mustRun(0, "keys", "rotate", "--yes")
		c.mustRun(0, "register", "--force", "--yes")
	}
	if n := len(c.state().Keys); n != 1 {
		t.Errorf("after re-registrations the state holds %d key records, want 1 (the active key)", n)
	}
	c.mustRun(0, "keys", "rotate", "--yes")
	c.mustRun(0, "keys", "rotate", "--yes")
	c.mustRun(0, "keys", "rotate", "--yes") // 4 keys made, the cap publishes 3
	st := c.state()
	published := c.publishedKIDs()
	if len(st.Keys) != len(published) {
		t.Errorf("records %d, published %d", len(st.Keys), len(published))
	}
	// An extra record (history from elsewhere) is pruned by the next read.
	extra := st.Keys[0]
	extra.KID = "history"
	st.Keys = append(st.Keys, extra)
	c.writeState(st)
	c.mustRun(0, "bootstrap")
	if c.state().Key("history") != nil {
		t.Error("a record of a key neither published nor local was kept")
	}

	// The IdP unreachable: keys are last seen, at the time recorded.
	c.env["IDP_BASE_URL"] = "http://127.0.0.1:1"
	st = c.state()
	st.RegistrationClientURI = "http://127.0.0.1:1/reg/" + st.ClientID
	c.writeState(st)
	c.env["DCRCTL_RETRY_DEADLINE"] = "1s"
	status := statusJSON(t, c)
	if status.JWKSCurrent || status.JWKSSeenAt == nil {
		t.Fatalf("jwks_current %v, jwks_seen_at %v", status.JWKSCurrent, status.JWKSSeenAt)
	}
	for _, k := range status.Keys {
		if slices.Contains(k.States, "published") {
			t.Errorf("key %s shown as published while the IdP cannot be read: %v", k.KID, k.States)
		}
		if k.KID != status.ActiveKID && !slices.Contains(k.States, "last-seen") {
			t.Errorf("key %s: %v, want last-seen", k.KID, k.States)
		}
	}
	if text := c.mustRun(0, "status").Stdout; !strings.Contains(text, "published when last seen, at "+status.JWKSSeenAt.Format(time.RFC3339)) {
		t.Errorf("status text:\n%s", text)
	}
}
