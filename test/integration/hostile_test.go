package integration

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// These IdPs misbehave in ways the real test IdP cannot be made to (endless
// or huge bodies, broken JSON, private keys in a JWKS): hand-written servers
// on 127.0.0.1, each bounded. The client is first registered at the real IdP;
// then its registration_client_uri is pointed at the misbehaving server.
func TestHostileIdPResponsesLeaveStateUnchanged(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	goodJWK := `{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"x"}`
	cases := []struct {
		name     string
		handler  http.HandlerFunc
		wantCode int
		wantText string
	}{
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"client_id": "bff",`) }, 65, "invalid JSON"},
		{"missing client_id", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"redirect_uris":[]}`) }, 65, "no client_id"},
		{"private JWKS", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"client_id":"bff","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s"}]}}`)
		}, 65, "private key material"},
		{"duplicate kids", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"client_id":"bff","jwks":{"keys":[%s,%s]}}`, goodJWK, goodJWK)
		}, 65, "twice"},
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			// Endless JSON string: dcrctl must stop reading at its limit.
			io.WriteString(w, `{"client_id":"`)
			chunk := []byte(strings.Repeat("a", 64<<10))
			for i := 0; i < 1<<15; i++ { // at most 2 GiB, far past the 1 MiB limit
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, 65, "larger than"},
		{"always 503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, 69, "unreachable"},
		{"hangs", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}, 69, "unreachable"},
		{"400 with secret echo", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"invalid_request","error_description":"bad token %s"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		}, 1, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := newClient(t, idp.URL)
			c.env["DCRCTL_RETRY_DEADLINE"] = "2s"
			c.env["DCRCTL_TIMEOUT"] = "1s"
			c.env["DCRCTL_TRUSTED_HOSTS"] = strings.TrimPrefix(srv.URL, "http://")
			c.mustRun(0, "bootstrap")
			st := c.state()
			st.RegistrationClientURI = srv.URL + "/reg/" + st.ClientID
			c.writeState(st)
			before, _ := os.ReadFile(c.statePath())
			res := c.mustRun(tc.wantCode, "bootstrap")
			if !strings.Contains(res.Stderr, tc.wantText) {
				t.Errorf("stderr should mention %q:\n%s", tc.wantText, res.Stderr)
			}
			after, _ := os.ReadFile(c.statePath())
			if string(before) != string(after) {
				t.Error("state file changed")
			}
		})
	}
}

// 503 twice, then 429 with Retry-After, then the real answer: retried, success.
func TestTransientErrorsAreRetried(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	st := c.state()
	var calls atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1, 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case 3:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		// Then pass the request on to the real IdP.
		req, _ := http.NewRequest(r.Method, idp.URL+r.URL.Path, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	c.env["DCRCTL_TRUSTED_HOSTS"] = strings.TrimPrefix(proxy.URL, "http://")
	st.RegistrationClientURI = proxy.URL + "/reg/" + st.ClientID
	c.writeState(st)
	start := time.Now()
	c.mustRun(0, "bootstrap")
	if n := calls.Load(); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("Retry-After: 1 not honoured (whole run took %v)", waited)
	}
}

// A connection that is accepted and then closed without an answer.
func TestConnectionResetIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for i := 0; i < 1000; i++ {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	c := newClient(t, "http://"+l.Addr().String())
	c.env["DCRCTL_RETRY_DEADLINE"] = "1s"
	c.mustRun(69, "bootstrap")
}

// A registration_client_uri on another host never receives the RAT.
func TestRATNeverSentToAnotherHost(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	var sawToken atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawToken.Store(true)
		}
		io.WriteString(w, `{"client_id":"bff"}`)
	}))
	defer other.Close()
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	st := c.state()
	st.RegistrationClientURI = other.URL + "/reg/" + st.ClientID
	c.writeState(st)
	res := c.mustRun(65, "bootstrap")
	if !strings.Contains(res.Stderr, "DCRCTL_TRUSTED_HOSTS") || sawToken.Load() {
		t.Errorf("token sent to another host (%v), or no remedy named:\n%s", sawToken.Load(), res.Stderr)
	}
}

// A redirect to another host never carries the Authorization header.
func TestRedirectDropsAuthorizationAcrossHosts(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		io.WriteString(w, `{"client_id":"bff"}`)
	})}
	l, err := net.Listen("tcp", "127.0.0.2:0") // another loopback host
	if err != nil {
		t.Skipf("127.0.0.2 not available: %v", err)
	}
	go elsewhere.Serve(l)
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+l.Addr().String()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_TRUSTED_HOSTS"] = strings.TrimPrefix(redirector.URL, "http://")
	c.mustRun(0, "bootstrap")
	st := c.state()
	st.RegistrationClientURI = redirector.URL + "/reg/" + st.ClientID
	c.writeState(st)
	c.run("bootstrap")
	if leaked.Load() {
		t.Fatal("the Authorization header followed a redirect to another host")
	}
}

// TLS to an IdP whose CA is unknown is refused, and works with DCRCTL_CA_FILE.
func TestUnknownCARefusedUnlessConfigured(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_token"}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	c.env["DCRCTL_REGISTRATION_ENDPOINT"] = srv.URL + "/reg"
	res := c.mustRun(1, "bootstrap")
	if !strings.Contains(res.Stderr, "TLS") || !strings.Contains(res.Stderr, "DCRCTL_CA_FILE") {
		t.Errorf("TLS failure should say so and name DCRCTL_CA_FILE:\n%s", res.Stderr)
	}
	caFile := filepath.Join(c.dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	c.env["DCRCTL_CA_FILE"] = caFile
	res = c.mustRun(77, "bootstrap") // TLS now verifies; the fake IdP rejects the IAT
	if strings.Contains(res.Stderr, "TLS") {
		t.Errorf("still a TLS error with the CA configured:\n%s", res.Stderr)
	}
}

// An IdP that answers 404 for the client (Keycloak does; oidc-provider answers
// 401) means the client is gone: it is registered again with the IAT.
func TestClientURI404ReRegisters(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"invalid_client","error_description":"client not found"}`)
	}))
	defer gone.Close()
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	old := c.state()
	st := c.state()
	st.RegistrationClientURI = gone.URL + "/reg/" + st.ClientID
	c.writeState(st)
	c.env["DCRCTL_TRUSTED_HOSTS"] = strings.TrimPrefix(gone.URL, "http://")
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stderr, "no longer knows this client") || c.state().ClientID == old.ClientID {
		t.Fatalf("404 should lead to a new registration:\n%s", res.Stderr)
	}
	assertKeyMatchesState(t, c)
}
