package integration

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
