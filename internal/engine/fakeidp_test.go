package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/testenv"
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
	// apiToken, when set, makes the fake an IdP that manages clients
	// through an admin API (as Okta does): "SSWS {apiToken}" on every call
	// to /reg, and no RAT in any answer.
	apiToken string
	n        int
	log      []string // "METHOD path status"
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
	if f.apiToken != "" && strings.HasPrefix(r.URL.Path, "/reg") {
		return f.adminAPI(r)
	}
	return f.rfc7592(r)
}

// adminAPI answers as the fake's RFC 7592 routes would to the client's own
// RAT, once the API token is checked, with no RAT in the answer.
func (f *fakeIdP) adminAPI(r *http.Request) (int, map[string]any) {
	if r.Header.Get("Authorization") != "SSWS "+f.apiToken {
		return 401, map[string]any{"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
	}
	token := "iat"
	if id := strings.TrimPrefix(r.URL.Path, "/reg/"); r.URL.Path != "/reg" {
		if f.clients[id] == nil {
			return 404, map[string]any{"errorCode": "E0000007", "errorSummary": "Not found"}
		}
		token = f.newRAT(id)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	status, body := f.rfc7592(r)
	if body != nil {
		out := map[string]any{}
		for k, v := range body {
			if k != "registration_access_token" && k != "registration_client_uri" {
				out[k] = v
			}
		}
		body = out
	}
	return status, body
}

// rfc7592 is the fake's RFC 7591/7592 server.
func (f *fakeIdP) rfc7592(r *http.Request) (int, map[string]any) {
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

// registeredEngine is testEngine on a fresh fake IdP and in-memory store,
// with the client registered already.
func registeredEngine(t *testing.T, settings map[string]string) (*fakeIdP, *state.MemoryStore, *Engine) {
	t.Helper()
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), settings)
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	return f, mem, e
}

// ageKeys makes the stored keys days older, as if that much time had
// passed (testenv.AgeState).
func ageKeys(mem *state.MemoryStore, days int) {
	st := mem.Read()
	testenv.AgeState(st, days)
	mem.Write(st)
}
