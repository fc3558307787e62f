package integration

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// dcrctl cimd lint fetches a client metadata document as an AS does (TLS,
// 200 only, no redirect, 5 KB) and finds what an AS refuses before the AS
// does (issue 20 §1, §5). The documents are served over https on loopback
// by the test, as the operator's static host would.
func TestCIMDLintFetchesAsAnASDoes(t *testing.T) {
	var srv *httptest.Server
	document := func(change func(map[string]any)) []byte {
		d := map[string]any{"client_id": srv.URL + "/client.json", "client_name": "BFF", "redirect_uris": []string{"https://bff.example.test/cb"},
			"token_endpoint_auth_method": "private_key_jwt",
			"jwks":                       map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1"}}}}
		if change != nil {
			change(d)
		}
		data, _ := json.Marshal(d)
		return data
	}
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/client.json":
			w.Write(document(nil))
		case "/moved.json":
			http.Redirect(w, r, "/client.json", http.StatusFound)
		case "/big.json":
			w.Write(document(func(d map[string]any) {
				d["client_id"] = srv.URL + "/big.json"
				d["client_name"] = strings.Repeat("x", 6000)
			}))
		case "/secret.json":
			w.Write(document(func(d map[string]any) {
				d["client_id"] = srv.URL + "/secret.json"
				d["token_endpoint_auth_method"] = "client_secret_basic"
			}))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	env := map[string]string{"DCRCTL_CA_FILE": ca}

	if res := testenv.Run(t, runTimeout, env, "cimd", "lint", srv.URL+"/client.json"); res.Code != 0 || !strings.Contains(res.Stdout, "ok:") {
		t.Errorf("a good document: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, tc := range []struct {
		path, says string
		code       int
	}{
		{"/moved.json", "HTTP 302", 1},
		{"/big.json", "over the 5120", 65},
		{"/secret.json", "client_secret_basic", 65},
	} {
		res := testenv.Run(t, runTimeout, env, "cimd", "lint", srv.URL+tc.path)
		if res.Code != tc.code || !strings.Contains(res.Stdout+res.Stderr, tc.says) {
			t.Errorf("%s: exit %d, want %d saying %q\n%s%s", tc.path, res.Code, tc.code, tc.says, res.Stdout, res.Stderr)
		}
	}
	// A file, against the URL it will be served at: the client_id differs.
	file := filepath.Join(dir, "client.json")
	os.WriteFile(file, document(nil), 0o600)
	res := testenv.Run(t, runTimeout, nil, "cimd", "lint", file, "--client-id", srv.URL+"/other.json", "-o", "json")
	if res.Code != 65 || !strings.Contains(res.Stdout, `"member": "client_id"`) {
		t.Errorf("a file served at another URL: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
}

// A Client ID Metadata Document client end to end (issue 20 §1, §2), at the
// real oidc-provider with its CIMD feature: dcrctl writes the document, the
// test serves it over https on loopback as a static host would, and the AS
// fetches it. A private_key_jwt token with the URL as client_id works after
// set-up, and through a rotation none fails: the old key until the new one
// was published for DCRCTL_DOC_CACHE, then the new one (the old one still
// published).
func TestDocumentClientAtARealAS(t *testing.T) {
	docFile := filepath.Join(t.TempDir(), "client.json")
	host, idp, srv := documentWorld(t, map[string]string{"/oauth/client.json": docFile})
	url := host.URL + "/oauth/client.json"
	c := documentClient(t, idp, host, url, docFile)
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Errorf("a document client sent the IdP %v", methods(reqs))
	}
	if res := c.mustRun(0, "cimd", "lint", url, "--log-level", "error"); !strings.Contains(res.Stdout, "ok:") {
		t.Errorf("lint of the served document:\n%s", res.Stdout)
	}
	old := c.activeKey()
	if got := tokenStatus(t, srv, url, old.signer, old.kid, old.alg); got != http.StatusOK {
		t.Fatalf("token with the document's key: HTTP %d", got)
	}

	c.age(31)
	c.mustRun(0, "bootstrap") // publishes the next key; the old one signs on
	if c.activeKey().kid != old.kid {
		t.Fatal("the new key signs before the AS's cache can hold it")
	}
	if got := tokenStatus(t, srv, url, old.signer, old.kid, old.alg); got != http.StatusOK {
		t.Errorf("token with the old key while the next is published: HTTP %d", got)
	}
	testenv.Eventually(t, 60*time.Second, "the next key to sign after DCRCTL_DOC_CACHE", func() bool {
		c.mustRun(0, "bootstrap")
		return c.activeKey().kid != old.kid
	})
	now := c.activeKey()
	for _, k := range []signingKey{now, old} {
		if got := tokenStatus(t, srv, url, k.signer, k.kid, k.alg); got != http.StatusOK {
			t.Errorf("token with key %q after the switch: HTTP %d", k.kid, got)
		}
	}
	if res := c.mustRun(0, "status", "-o", "json"); !strings.Contains(res.Stdout, `"management": "metadata-document"`) {
		t.Errorf("status:\n%s", res.Stdout)
	}
	// status says when a next key signs (issue 20 §2), waiting out the
	// host's own Cache-Control when it is longer than DCRCTL_DOC_CACHE.
	c.mustRun(0, "keys", "rotate", "--yes")
	if res := c.mustRun(0, "status"); !strings.Contains(res.Stdout, "signs from") {
		t.Errorf("status with a next key published:\n%s", res.Stdout)
	}
	host.maxAge.Store(3600)
	var status struct {
		Keys []struct {
			PublishedAt *time.Time `json:"published_at"`
			SignsFrom   *time.Time `json:"signs_from"`
		} `json:"keys"`
	}
	json.Unmarshal([]byte(c.mustRun(0, "status", "-o", "json").Stdout), &status)
	waits := false
	for _, k := range status.Keys {
		waits = waits || (k.SignsFrom != nil && k.SignsFrom.Sub(*k.PublishedAt) == time.Hour)
	}
	if !waits {
		t.Errorf("the next key does not wait out the served max-age=3600: %+v", status.Keys)
	}
	if res := c.mustRun(0, "bootstrap"); !strings.Contains(res.Stdout, "max-age=3600") {
		t.Errorf("bootstrap does not name the served max-age:\n%s", res.Stdout)
	}
	host.maxAge.Store(1)
	// doctor fetches the document as the AS does and proves the key with a
	// token (issue 20 §5); a document the host serves stale is caught.
	if res := c.run("doctor"); !strings.Contains(res.Stdout, "an AS would accept it") || !strings.Contains(res.Stdout, "issued a private_key_jwt token") {
		t.Errorf("doctor (exit %d):\n%s", res.Code, res.Stdout)
	}
	// With the MCP server the client is for, doctor discovers its
	// authorization servers and proves a token at each that takes documents
	// (issue 20 §4, §5).
	c.env["DCRCTL_RESOURCE_URL"] = protectedResource(t, true, idp.URL)
	if res := c.run("doctor"); !strings.Contains(res.Stdout, idp.URL+" (client-id-metadata-document)") || !strings.Contains(res.Stdout, "token at "+idp.URL) || !strings.Contains(res.Stdout, "was issued to client") {
		t.Errorf("doctor with DCRCTL_RESOURCE_URL (exit %d):\n%s", res.Code, res.Stdout)
	}
	delete(c.env, "DCRCTL_RESOURCE_URL")
	// dcrctl run serves the document on its listener (issue 20 §3).
	listen := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	c.env["DCRCTL_LISTEN"], c.env["DCRCTL_DOC_PATH"], c.env["DCRCTL_CHECK_INTERVAL"] = listen, "/oauth/client.json", "1h"
	run := testenv.Start(t, c.env, "run")
	testenv.Eventually(t, 30*time.Second, "the document on dcrctl run's listener", func() bool {
		code, body := testenv.Get(t, "http://"+listen+"/oauth/client.json")
		return code == 200 && strings.Contains(body, url)
	})
	run.Process.Signal(syscall.SIGTERM)
	c.wait(run)
	delete(c.env, "DCRCTL_DOC_PATH")

	data, _ := os.ReadFile(docFile)
	os.WriteFile(docFile, []byte(strings.ReplaceAll(string(data), `"`+now.kid+`"`, `"stale-kid"`)), 0o644)
	if res := c.run("doctor"); res.Code == 0 || !strings.Contains(res.Stdout, "is not in the document served") {
		t.Errorf("doctor with a stale document (exit %d):\n%s", res.Code, res.Stdout)
	}
}

// The jwks_uri form (issue 20 §1): the document names DCRCTL_JWKS_URI and
// the keys go to DCRCTL_JWKS_FILE, served there; the real AS fetches both.
// A token works after set-up and with the new key after a rotation.
func TestDocumentClientWithJWKSURI(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"/oauth/client.json": filepath.Join(dir, "client.json"), "/oauth/jwks.json": filepath.Join(dir, "jwks.json")}
	host, idp, srv := documentWorld(t, files)
	url := host.URL + "/oauth/client.json"
	c := documentClient(t, idp, host, url, files["/oauth/client.json"])
	c.env["DCRCTL_JWKS_FILE"] = files["/oauth/jwks.json"]
	c.env["DCRCTL_JWKS_URI"] = host.URL + "/oauth/jwks.json"
	c.mustRun(0, "bootstrap")
	doc, _ := os.ReadFile(files["/oauth/client.json"])
	if !strings.Contains(string(doc), `"jwks_uri"`) || strings.Contains(string(doc), `"jwks":`) {
		t.Fatalf("the document:\n%s", doc)
	}
	old := c.activeKey()
	if got := tokenStatus(t, srv, url, old.signer, old.kid, old.alg); got != http.StatusOK {
		t.Fatalf("token with the key of the JWKS: HTTP %d", got)
	}
	c.mustRun(0, "keys", "rotate", "--yes")
	testenv.Eventually(t, 60*time.Second, "the next key to sign after DCRCTL_DOC_CACHE", func() bool {
		c.mustRun(0, "bootstrap")
		return c.activeKey().kid != old.kid
	})
	now := c.activeKey()
	if got := tokenStatus(t, srv, url, now.signer, now.kid, now.alg); got != http.StatusOK {
		t.Errorf("token with the new key: HTTP %d", got)
	}
	// Retire the old key: gone from the JWKS (the AS fetches jwks_uri
	// afresh), the new one still works, the old one no more.
	if res := c.mustRun(0, "keys", "retire", "--yes", old.kid); !strings.Contains(res.Stderr+res.Stdout, "verification window") {
		t.Errorf("retiring within the verification window gives no warning:\n%s%s", res.Stdout, res.Stderr)
	}
	if jwks, _ := os.ReadFile(files["/oauth/jwks.json"]); strings.Contains(string(jwks), `"`+old.kid+`"`) {
		t.Errorf("the retired key is still in the JWKS:\n%s", jwks)
	}
	if got := tokenStatus(t, srv, url, now.signer, now.kid, now.alg); got != http.StatusOK {
		t.Errorf("token with the new key after the retirement: HTTP %d", got)
	}
	testenv.Eventually(t, 30*time.Second, "the AS to refuse the retired key", func() bool {
		return tokenStatus(t, srv, url, old.signer, old.kid, old.alg) >= 400
	})
}

// Migration of a registered client to a metadata document (issue 20 §6):
// refused with nothing changed while the AS cannot fetch the document;
// once it is served, the document is proven with a token, the old
// registration deleted through RFC 7592, the state switched, and the move
// recorded in the audit trail.
func TestMigrateARegistrationToADocument(t *testing.T) {
	docFile := filepath.Join(t.TempDir(), "client.json")
	host, idp, srv := documentWorld(t, map[string]string{"/oauth/client.json": docFile}) // registration and CIMD both on
	host.serving.Store(false)                                                            // until the document is put there
	url := host.URL + "/oauth/client.json"

	c := newClient(t, idp.URL)
	c.env["DCRCTL_GRANT_TYPES"] = "authorization_code refresh_token client_credentials"
	c.mustRun(0, "bootstrap")
	registered := c.state()
	c.env["DCRCTL_CLIENT_ID_URL"], c.env["DCRCTL_CLIENT_DOC_FILE"] = url, docFile

	before, _ := os.ReadFile(c.statePath())
	if res := c.run("migrate", "--yes"); res.Code == 0 || !strings.Contains(res.Stderr, "stays in use") {
		t.Fatalf("migrate while the document is not served: exit %d\n%s", res.Code, res.Stderr)
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Fatal("a refused migration changed the state")
	}

	host.serving.Store(true)
	c.mustRun(0, "migrate", "--yes")
	st := c.state()
	if st.ClientID != url || st.Management != "metadata-document" || st.RegistrationAccessToken != "" {
		t.Fatalf("state after migration: %+v", st)
	}
	key := c.activeKey()
	if got := tokenStatus(t, srv, url, key.signer, key.kid, key.alg); got != http.StatusOK {
		t.Errorf("token with the document client: HTTP %d", got)
	}
	if got := tokenStatus(t, srv, registered.ClientID, key.signer, key.kid, key.alg); got == http.StatusOK {
		t.Errorf("the old registration %s still issues tokens", registered.ClientID)
	}
	if res := c.mustRun(0, "history"); !strings.Contains(res.Stdout, "migrate") {
		t.Errorf("history:\n%s", res.Stdout)
	}
	c.mustRun(0, "bootstrap") // maintained as a document client from now on
}

// staticHost serves files over https on loopback, as the operator's static
// host (or CDN) would serve a metadata document: path → file, with the
// Cache-Control max-age of maxAge, and nothing until serving is on. CA is
// its certificate as a PEM file, for dcrctl (DCRCTL_CA_FILE) and the AS
// (NODE_EXTRA_CA_CERTS) to trust.
type staticHost struct {
	URL, CA string
	maxAge  atomic.Int64
	serving atomic.Bool
}

func newStaticHost(t *testing.T, files map[string]string) *staticHost {
	h := &staticHost{}
	h.maxAge.Store(1)
	h.serving.Store(true)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := files[r.URL.Path]
		if !ok || !h.serving.Load() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", h.maxAge.Load()))
		http.ServeFile(w, r, file)
	}))
	t.Cleanup(srv.Close)
	h.URL, h.CA = srv.URL, filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(h.CA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// documentWorld is a static host serving files, the real oidc-provider
// with registration and its CIMD feature on (trusting the host), and that
// IdP as a Server for token requests.
func documentWorld(t *testing.T, files map[string]string) (*staticHost, *testenv.IdP, *testenv.Server) {
	host := newStaticHost(t, files)
	idp := testenv.StartCIMDIdP(t, host.CA)
	return host, idp, &testenv.Server{Name: "oidc-provider (CIMD)", BaseURL: idp.URL}
}

// documentClient is a dcrctl client of the metadata document docFile served
// at url: no IAT, the client_credentials grant for the token proofs, the
// host's CA trusted, DCRCTL_DOC_CACHE over the AS's cache (2 s at most here).
func documentClient(t *testing.T, idp *testenv.IdP, host *staticHost, url, docFile string) *client {
	c := newClient(t, idp.URL)
	for _, k := range []string{"DCR_IAT", "DCRCTL_ADMIN_RAT_URL"} {
		delete(c.env, k)
	}
	c.env["DCRCTL_CLIENT_ID_URL"], c.env["DCRCTL_CLIENT_DOC_FILE"] = url, docFile
	c.env["DCRCTL_DOC_CACHE"] = "3s"
	c.env["DCRCTL_CA_FILE"] = host.CA
	c.env["DCRCTL_GRANT_TYPES"] = "authorization_code refresh_token client_credentials"
	return c
}
