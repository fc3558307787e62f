package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/cimd"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/vault"
)

// fakeIdP is a small RFC 7591/7592 server for the engine's unit tests: the
// integration suite drives the real IdPs (test/integration); here each
// operation is tested alone in milliseconds. It rotates the RAT on every
// update (RFC 7592 §2.2 allows it, every real IdP does) and, when asked, on
// every read (as Curity does).
type fakeIdP struct {
	srv          *httptest.Server
	mu           sync.Mutex
	clients      map[string]map[string]any
	rats         map[string]string // RAT -> client_id
	rotateOnRead bool
	deleteStatus int // when set, DELETE answers this (a failing or refusing IdP)
	n            int
	log          []string // "METHOD path status"
}

func startFakeIdP(t *testing.T) *fakeIdP {
	f := &fakeIdP{clients: map[string]map[string]any{}, rats: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	status, body := f.answer(r)
	f.log = append(f.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		json.NewEncoder(w).Encode(body)
	}
}

func (f *fakeIdP) newRAT(clientID string) string {
	f.n++
	rat := fmt.Sprintf("rat-%d", f.n)
	for old, id := range f.rats {
		if id == clientID {
			delete(f.rats, old) // RFC 7592 §3: the old one is dead at once
		}
	}
	f.rats[rat] = clientID
	return rat
}

func (f *fakeIdP) answer(r *http.Request) (int, map[string]any) {
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case r.URL.Path == "/.well-known/openid-configuration":
		return 200, map[string]any{"issuer": f.srv.URL, "registration_endpoint": f.srv.URL + "/reg", "token_endpoint": f.srv.URL + "/token"}
	case r.URL.Path == "/reg" && r.Method == http.MethodPost:
		if bearer != "iat" {
			return 401, map[string]any{"error": "invalid_token"}
		}
		var md map[string]any
		json.NewDecoder(r.Body).Decode(&md)
		f.n++
		id := fmt.Sprintf("client-%d", f.n)
		md["client_id"] = id
		f.clients[id] = md
		return 201, f.withRAT(id, f.newRAT(id))
	case strings.HasPrefix(r.URL.Path, "/admin/renew/") && r.Method == http.MethodPost:
		// An admin renewal route (DCRCTL_RAT_RECOVERY=admin-url).
		id := strings.TrimPrefix(r.URL.Path, "/admin/renew/")
		if bearer != "admin" || f.clients[id] == nil {
			return 401, map[string]any{"error": "invalid_token"}
		}
		return 200, map[string]any{"registration_access_token": f.newRAT(id)}
	case strings.HasPrefix(r.URL.Path, "/reg/"):
		id := strings.TrimPrefix(r.URL.Path, "/reg/")
		if f.rats[bearer] != id || f.clients[id] == nil {
			return 401, map[string]any{"error": "invalid_token"}
		}
		switch r.Method {
		case http.MethodGet:
			if f.rotateOnRead {
				return 200, f.withRAT(id, f.newRAT(id))
			}
			return 200, f.clients[id]
		case http.MethodPut:
			var md map[string]any
			json.NewDecoder(r.Body).Decode(&md)
			f.clients[id] = md
			return 200, f.withRAT(id, f.newRAT(id))
		case http.MethodDelete:
			if f.deleteStatus != 0 {
				return f.deleteStatus, map[string]any{"error": "server_error"}
			}
			delete(f.clients, id)
			for rat, owner := range f.rats {
				if owner == id {
					delete(f.rats, rat) // its RAT dies with it
				}
			}
			return 204, nil
		}
	}
	return 404, map[string]any{"error": "not_found"}
}

func (f *fakeIdP) withRAT(id, rat string) map[string]any {
	out := map[string]any{"registration_access_token": rat, "registration_client_uri": f.srv.URL + "/reg/" + id}
	for k, v := range f.clients[id] {
		out[k] = v
	}
	return out
}

// requests returns and forgets the log.
func (f *fakeIdP) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.log
	f.log = nil
	return out
}

// testEngine is an engine on a fresh in-memory store and the fake IdP.
func testEngine(t *testing.T, f *fakeIdP, store state.Store, settings map[string]string) *Engine {
	t.Helper()
	dir := t.TempDir()
	v := config.New()
	for k, val := range map[string]string{"idp_base_url": f.srv.URL, "state_file": filepath.Join(dir, "client.json"),
		"signing_key": filepath.Join(dir, "key.pem"), "kid": "k1", "idp_preset": "oidc-provider", "key_alg": "ES256",
		"retry_deadline": "1s", "lock_timeout": "1s"} {
		v.Set(k, val)
	}
	for k, val := range settings {
		v.Set(k, val)
	}
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Engine{Cfg: cfg, IdP: &idp.Client{HTTP: f.srv.Client(), RetryDeadline: cfg.RetryDeadline, Log: log, Redactor: &secret.Redactor{}},
		IAT: idp.StaticIAT("iat"), Log: log, Now: time.Now, Store: store, Keys: &vault.Memory{}}
}

func methods(reqs []string) string { return strings.Join(reqs, ", ") }

func TestRegisterThenOneReadThenNothing(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "registered" {
		t.Fatalf("first bootstrap: %v %+v", err, report)
	}
	if got := methods(f.requests()); got != "GET /.well-known/openid-configuration 200, POST /reg 201" {
		t.Errorf("requests: %s", got)
	}
	if st := mem.Read(); st.ClientID == "" || st.RegistrationAccessToken == "" || st.VerifiedAt == nil || st.InFlight != nil {
		t.Errorf("state after registration: %+v", st)
	}
	report, err = e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "unchanged" {
		t.Fatalf("second bootstrap: %v %+v", err, report)
	}
	if got := methods(f.requests()); !strings.HasPrefix(got, "GET /reg/") || strings.Count(got, ",") != 0 {
		t.Errorf("a no-change bootstrap: %s, want one GET", got)
	}
}

func TestDueRotationPublishesAndPromotes(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	for i := range st.Keys {
		st.Keys[i].CreatedAt = st.Keys[i].CreatedAt.Add(-31 * 24 * time.Hour)
	}
	mem.Write(st)
	f.requests()
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "updated" {
		t.Fatalf("rotation: %v %+v", err, report)
	}
	if got := f.requests(); len(got) != 2 || !strings.HasPrefix(got[1], "PUT ") {
		t.Errorf("requests: %v, want a GET and a PUT", got)
	}
	after := mem.Read()
	if after.ActiveKID == "k1" || len(after.Keys) != 2 || after.PendingKID != "" {
		t.Errorf("after rotation: active %s, keys %d, pending %q", after.ActiveKID, len(after.Keys), after.PendingKID)
	}
	if rat := after.RegistrationAccessToken; f.rats[rat] != after.ClientID {
		t.Error("the RAT the update rotated was not saved")
	}
}

// Another replica's recent verification of the same configuration and
// keys spares the read (DCRCTL_FRESH_FOR); a changed configuration does not.
func TestRecentVerificationSkipsTheRead(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), map[string]string{"fresh_for": "5m"})
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	f.requests()
	other := testEngine(t, f, mem.Handle(), map[string]string{"fresh_for": "5m"})
	other.Keys, other.Cfg.StatePath = e.Keys, e.Cfg.StatePath // the same pod template
	report, err := other.Bootstrap(context.Background(), Options{})
	if err != nil || report.VerifiedAt == nil {
		t.Fatalf("%v %+v", err, report)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests: %v, want none", got)
	}
	other.Cfg.RedirectURIs = []string{"https://bff.example.test/new"}
	if _, err := other.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); len(got) == 0 || !strings.HasPrefix(got[0], "GET /reg/") {
		t.Errorf("a changed configuration: %v, want a read", got)
	}
}

// A rejected RAT at an IdP whose reads are critical (a write-ahead note):
// the refusal proves nothing was applied, so the state is left byte for
// byte as it was, and no lost answer is blamed.
func TestRejectedRATLeavesTheStateAsItWas(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), map[string]string{"idp_preset": "generic"})
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	st.RegistrationAccessToken = "revoked"
	mem.Write(st)
	before := mem.Bytes()
	_, err := e.Bootstrap(context.Background(), Options{})
	var rejected *RATRejectedError
	if !errors.As(err, &rejected) || rejected.Note != "" {
		t.Fatalf("%v", err)
	}
	if !bytes.Equal(mem.Bytes(), before) {
		t.Errorf("state changed:\n%s\nwas:\n%s", mem.Bytes(), before)
	}
}

// The fence (issue 16): this replica reads the state while another
// replica's request is in flight (its write-ahead note is in the state);
// that request then rotates the RAT and the other replica saves it. This
// run must not send a request planned from its read: it waits for the
// claim, finds the state changed, reads it again and uses the live RAT.
// No request carries a dead one.
func TestAReplicaNeverSendsAStaleRAT(t *testing.T) {
	for _, preset := range []string{"generic", "oidc-provider"} { // critical reads, and ordinary ones
		t.Run(preset, func(t *testing.T) {
			f := startFakeIdP(t)
			mem := &state.MemoryStore{}
			e := testEngine(t, f, mem.Handle(), map[string]string{"idp_preset": preset})
			if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			st := mem.Read()
			st.InFlight = &state.Intent{Op: "update", Method: "PUT", URI: "/reg/x", SentAt: time.Now().UTC(), By: "other-pod/7",
				RAT: secret.Fingerprint(st.RegistrationAccessToken)}
			mem.Write(st)
			handle := mem.Handle()
			e.Store = handle
			handle.AfterLoad = func() {
				// The other replica's update lands: a new RAT, saved, note cleared.
				f.mu.Lock()
				rat := f.newRAT(st.ClientID)
				f.mu.Unlock()
				done := mem.Read()
				done.RegistrationAccessToken, done.InFlight = rat, nil
				mem.Write(done)
			}
			f.requests()
			if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.requests() {
				if strings.HasSuffix(r, " 401") {
					t.Errorf("a request carried a dead RAT: %s", r)
				}
			}
			if st := mem.Read(); f.rats[st.RegistrationAccessToken] != st.ClientID || st.InFlight != nil {
				t.Errorf("the state's RAT is not the live one, or a note is left: %+v", st.InFlight)
			}
		})
	}
}

// Retiring a key that stopped signing within the verification window is
// planned with a warning for the operator to weigh (issue 17 §13).
func TestRetireWithinTheVerificationWindowWarns(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bootstrap(context.Background(), Options{Rotate: true}); err != nil {
		t.Fatal(err)
	}
	plan, err := e.Bootstrap(context.Background(), Options{Retire: "k1", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) != 1 || !strings.Contains(plan.String(), "within the verification window") {
		t.Errorf("plan:\n%s", plan)
	}
}

// A rejected RAT is renewed through the configured recovery route (here
// admin-url) and the run goes on with the new one.
func TestRejectedRATIsRenewedThroughTheRoute(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), map[string]string{"admin_token": "admin", "admin_rat_url": f.srv.URL + "/admin/renew/{client_id}"})
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	st.RegistrationAccessToken = "revoked"
	mem.Write(st)
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || !strings.Contains(report.String(), "renew the registration access token") {
		t.Fatalf("%v\n%v", err, report)
	}
	if after := mem.Read(); f.rats[after.RegistrationAccessToken] != after.ClientID || after.InFlight != nil {
		t.Errorf("after renewal: RAT live %v, note %+v", f.rats[after.RegistrationAccessToken] == after.ClientID, after.InFlight)
	}
}

// A Client ID Metadata Document client (issue 20 §1, §2): bootstrap writes
// the document (the client_id is its URL, the keys inline) and sends
// nothing; a due rotation publishes the next key in the document first and
// signs with it only once an AS's cached copy may hold it
// (DCRCTL_DOC_CACHE); the old key stays published for its window.
func TestDocumentClientRotatesByCacheLifetime(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	docFile := filepath.Join(t.TempDir(), "client.json")
	const url = "https://bff.example.test/oauth/client.json"
	e := testEngine(t, f, mem.Handle(), map[string]string{"client_id_url": url, "client_doc_file": docFile, "doc_cache": "5m", "iat": ""})
	e.IAT = nil
	clock := time.Now()
	e.Now = func() time.Time { return clock }
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "described" {
		t.Fatalf("%v %+v", err, report)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests: %v, want none", got)
	}
	readDoc := func() (id string, kids []string) {
		data, err := os.ReadFile(docFile)
		if err != nil {
			t.Fatal(err)
		}
		if problems := cimd.Lint(data, url); len(problems) != 0 {
			t.Errorf("the document written would be refused: %v", problems)
		}
		var doc struct {
			ClientID string `json:"client_id"`
			JWKS     struct {
				Keys []struct{ Kid string } `json:"keys"`
			} `json:"jwks"`
		}
		json.Unmarshal(data, &doc)
		for _, k := range doc.JWKS.Keys {
			kids = append(kids, k.Kid)
		}
		return doc.ClientID, kids
	}
	if id, kids := readDoc(); id != url || len(kids) != 1 || kids[0] != "k1" {
		t.Fatalf("document: client_id %q, keys %v", id, kids)
	}
	if st := mem.Read(); st.ClientID != url || st.Management != state.ManagementDocument {
		t.Fatalf("state: %+v", st)
	}

	clock = clock.Add(31 * 24 * time.Hour) // rotation due
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	if _, kids := readDoc(); len(kids) != 2 || st.ActiveKID != "k1" || st.PendingKID == "" {
		t.Fatalf("after the due rotation: document keys %v, active %s, next %q: want both published, k1 still signing", kids, st.ActiveKID, st.PendingKID)
	}
	clock = clock.Add(6 * time.Minute) // past DCRCTL_DOC_CACHE
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st = mem.Read()
	if _, kids := readDoc(); st.ActiveKID == "k1" || st.PendingKID != "" || len(kids) != 2 {
		t.Errorf("after the cache lifetime: active %s, next %q, document keys %v: want the new key signing, k1 still published", st.ActiveKID, st.PendingKID, kids)
	}
}

// A state that holds a registered client is never turned into a document
// client by setting DCRCTL_CLIENT_ID_URL: its RAT would be dropped.
func TestDocumentClientNeverDropsARegistration(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	before := mem.Bytes()
	doc := testEngine(t, f, mem.Handle(), map[string]string{"client_id_url": "https://bff.example.test/c.json",
		"client_doc_file": filepath.Join(t.TempDir(), "c.json"), "state_file": e.Cfg.StatePath, "signing_key": e.Cfg.SigningKeyPath})
	doc.Keys = e.Keys
	_, err := doc.Bootstrap(context.Background(), Options{})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || cfgErr.Name != "DCRCTL_CLIENT_ID_URL" {
		t.Fatalf("%v, want a configuration error naming DCRCTL_CLIENT_ID_URL", err)
	}
	if !bytes.Equal(mem.Bytes(), before) {
		t.Error("the state changed")
	}
}

// register --force at an RFC 7592 IdP: the old client stays in use until
// the new one is registered, then is deleted with its own RAT; a DELETE
// that gets no answer leaves it listed with its credentials, and the next
// run deletes it; a refused one leaves it for an administrator.
func TestForcedReplacementDeletesTheOldClientAfterTheNew(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
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
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
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

// A dry run makes the same decisions as the run that applies them: its
// plan lists the lines the real run then reports, the generated key's kid
// standing in as "(new key)", and it changes nothing.
func TestDryRunListsWhatTheRunApplies(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	for i := range st.Keys {
		st.Keys[i].CreatedAt = st.Keys[i].CreatedAt.Add(-31 * 24 * time.Hour)
	}
	mem.Write(st)
	f.requests()
	before := mem.Read()
	plan, err := e.Bootstrap(context.Background(), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := mem.Read(); after.ActiveKID != before.ActiveKID || after.PendingKID != "" || len(after.Keys) != len(before.Keys) {
		t.Fatalf("a dry run changed the state: %+v", after)
	}
	for _, req := range f.requests() {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("a dry run sent %s", req)
		}
	}
	done, err := e.Bootstrap(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := mem.Read().ActiveKID
	var applied []string
	for _, s := range done.Steps {
		applied = append(applied, strings.ReplaceAll(s, next, newKeyKID))
	}
	if strings.Join(plan.Steps, "\n") != strings.Join(applied, "\n") || len(plan.Steps) < 3 {
		t.Errorf("the plan:\n%s\nwhat the run did:\n%s", strings.Join(plan.Steps, "\n"), strings.Join(done.Steps, "\n"))
	}
}
