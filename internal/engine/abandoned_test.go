package engine

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// register --force at an RFC 7592 IdP: the old client stays in use until
// the new one is registered, then is deleted with its own RAT; a DELETE
// that gets no answer leaves it listed with its credentials, and the next
// run deletes it; a refused one leaves it for an administrator.
func TestForcedReplacementDeletesTheOldClientAfterTheNew(t *testing.T) {
	f, mem, e := registeredEngine(t, nil)
	first := mem.Read().ClientID
	f.requests()
	if _, err := e.Bootstrap(context.Background(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	got := f.requests()[1:] // after discovery
	if len(got) != 2 || !strings.HasPrefix(got[0], "POST /reg") || got[1] != "DELETE /reg/"+first+" 204" {
		t.Errorf("requests: %v, want the registration, then the old client's DELETE", got)
	}
	st := mem.Read()
	if st.ClientID == first || len(st.AbandonedClients) != 0 || f.clients[first] != nil {
		t.Errorf("after --force: client %s, abandoned %+v, old still at the IdP: %v", st.ClientID, st.AbandonedClients, f.clients[first] != nil)
	}

	second := st.ClientID
	f.deleteStatus = http.StatusServiceUnavailable
	if _, err := e.Bootstrap(context.Background(), Options{Force: true}); err != nil {
		t.Fatalf("a failed cleanup must not fail the run that made the new client: %v", err)
	}
	st = mem.Read()
	if len(st.AbandonedClients) != 1 || st.AbandonedClients[0].ClientID != second || !st.AbandonedClients[0].Deletable() || st.AbandonedClients[0].DeleteSentAt == nil {
		t.Fatalf("after a DELETE answered 503: %+v", st.AbandonedClients)
	}
	if status, err := e.Status(context.Background()); err != nil || len(status.AbandonedClients) != 1 ||
		!status.AbandonedClients[0].Deletable() || status.AbandonedClients[0].RegistrationAccessToken != "" {
		t.Fatalf("status of a client still to delete: %v %+v", err, status)
	}
	f.deleteStatus = 0
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if st = mem.Read(); len(st.AbandonedClients) != 0 || f.clients[second] != nil {
		t.Errorf("the next bootstrap did not delete it: %+v", st.AbandonedClients)
	}

	third := st.ClientID
	f.deleteStatus = http.StatusForbidden
	if _, err := e.Bootstrap(context.Background(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	st = mem.Read()
	if len(st.AbandonedClients) != 1 || st.AbandonedClients[0].ClientID != third || st.AbandonedClients[0].Deletable() ||
		st.AbandonedClients[0].RegistrationAccessToken != "" || !strings.Contains(st.AbandonedClients[0].Reason, "refused") {
		t.Errorf("a refused DELETE: %+v", st.AbandonedClients)
	}
	f.requests()
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, req := range f.requests() {
		if strings.HasPrefix(req, "DELETE") {
			t.Errorf("a refused client was sent another DELETE: %s", req)
		}
	}
	status, err := e.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ab := range status.AbandonedClients {
		if ab.RegistrationAccessToken != "" {
			t.Error("status carries an abandoned client's RAT")
		}
		if ab.Deletable() {
			t.Errorf("status offers to delete a client whose deletion was refused: %+v", ab)
		}
	}
}

// A dry run of --force plans the deletion after the registration, and
// neither registers nor deletes.
func TestForcedReplacementDryRun(t *testing.T) {
	f, mem, e := registeredEngine(t, nil)
	before := mem.Read()
	f.requests()
	report, err := e.Bootstrap(context.Background(), Options{Force: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Steps) != 2 || !strings.Contains(report.Steps[0], "then delete it") || !strings.Contains(report.Steps[1], "register a client") {
		t.Errorf("plan: %q", report.Steps)
	}
	for _, req := range f.requests() {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("a dry run sent %s", req)
		}
	}
	if after := mem.Read(); after.ClientID != before.ClientID || len(after.AbandonedClients) != 0 {
		t.Errorf("a dry run changed the state: %+v", after)
	}
}
