package testenv

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Glewlwyd 2.7.5 from Debian (scripts/install-glewlwyd.sh installs it with
// the package's own service blocked). Each instance gets a fresh sqlite
// database made from the package's schema, listens on 127.0.0.1 only and is
// configured through its admin API, as ../shared/REFERENCES.md describes.
const (
	glewlwydSchema   = "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz"
	glewlwydPlugin   = "oidc"      // the OIDC plugin instance: API prefix /api/oidc
	glewlwydIATScope = "dcr"       // register-client-auth-scope: an IAT needs it
	glewlwydAPIScope = "api"       // register-client-credentials-scope: what registered clients get
	glewlwydAdmin    = "admin"     // the schema's admin login
	glewlwydAdminPw  = "password"  // (throw-away database)
	glewlwydIATUser  = "gateway"   // admin-created confidential client whose client-credentials token is the IAT
	glewlwydHS256Key = "glewlwyd-" // prefix of the plugin's token signing secret
)

// StartGlewlwyd starts a configured Glewlwyd behind a counting proxy.
func StartGlewlwyd(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("glewlwyd")
	if err != nil {
		t.Fatalf("glewlwyd not installed (make test-deps runs scripts/install-glewlwyd.sh): %v", err)
	}
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatalf("sqlite3 not installed (make test-deps installs it): %v", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "glewlwyd.db")
	schema, err := gunzip(glewlwydSchema)
	if err != nil {
		t.Fatalf("glewlwyd schema: %v", err)
	}
	load := exec.Command(sqlite, db)
	load.Stdin = bytes.NewReader(schema)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("load glewlwyd schema: %v\n%s", err, out)
	}
	proxy, forward := StartCountingProxy(t)
	// FreePort closes its port before Glewlwyd binds it: on a busy machine
	// another process may take it first, and Glewlwyd exits. It is started
	// again on a new port (at most three times).
	var direct string
	var logs *syncBuffer
	for attempt := 1; ; attempt++ {
		port := FreePort(t)
		conf := fmt.Sprintf(`port=%d
bind_address="127.0.0.1"
external_url="%s"
api_prefix="api"
log_mode="console"
log_level="WARNING"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
max_post_size=1048576
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database={ type="sqlite3" path="%s" };
`, port, proxy.URL, db) // no use_secure_connection line: 2.7.5 exits on "=false" (REFERENCES.md)
		confPath := filepath.Join(dir, "glewlwyd.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		direct = fmt.Sprintf("http://127.0.0.1:%d", port)
		var err error
		if logs, err = tryStartServer(t, exec.Command(bin, "-c", confPath), direct+"/api/"); err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("glewlwyd: %v; its output:\n%s", err, logs.String())
		}
	}
	forward(direct)

	admin := newAdminSession(t, direct)
	admin.call(t, http.MethodPost, "/api/auth/", map[string]any{"username": glewlwydAdmin, "password": glewlwydAdminPw})
	for _, scope := range []string{glewlwydIATScope, glewlwydAPIScope} {
		admin.call(t, http.MethodPost, "/api/scope/", map[string]any{"name": scope, "display_name": scope, "description": "dcrctl tests", "password_required": false, "scheme": map[string]any{}})
	}
	issuer := proxy.URL + "/api/" + glewlwydPlugin
	admin.call(t, http.MethodPost, "/api/mod/plugin/", map[string]any{
		"module": "oidc", "name": glewlwydPlugin, "display_name": "dcrctl tests", "enabled": true,
		"parameters": map[string]any{
			"iss": issuer, "jwt-type": "sha", "jwt-key-size": "256", "key": glewlwydHS256Key + IATSecret,
			"code-duration": 600, "refresh-token-duration": 3600, "access-token-duration": 3600,
			"allow-non-oidc": true, "auth-type-client-enabled": true, "auth-type-code-enabled": true, "auth-type-refresh-enabled": true,
			"register-client-allowed":            true,
			"register-client-management-allowed": true, // RFC 7592
			"register-client-auth-scope":         []string{glewlwydIATScope},
			"register-client-credentials-scope":  []string{glewlwydAPIScope},
			// Both needed for private_key_jwt clients (REFERENCES.md).
			"client-jwks-parameter": "jwks", "client-jwks_uri-parameter": "jwks_uri",
			"request-maximum-exp": 3600,
			// Without it the token endpoint refuses every client_assertion
			// ("unauthorized request parameter"), private_key_jwt included.
			"request-parameter-allow": true,
			"allowed-scope":           []string{"openid", glewlwydAPIScope, glewlwydIATScope},
		},
	})
	admin.call(t, http.MethodPost, "/api/client/", map[string]any{
		"client_id": glewlwydIATUser, "name": glewlwydIATUser, "enabled": true, "confidential": true,
		"client_secret": IATSecret, "token_endpoint_auth_method": []string{"client_secret_basic"},
		"authorization_type": []string{"client_credentials"}, "scope": []string{glewlwydIATScope}, "redirect_uri": []string{},
	})
	return &Server{
		Name:    "glewlwyd",
		BaseURL: issuer,
		Env: map[string]string{
			"DCRCTL_IDP_PRESET":        "glewlwyd",
			"DCR_IAT":                  "",
			"DCRCTL_IAT_TOKEN_URL":     issuer + "/token",
			"DCRCTL_IAT_CLIENT_ID":     glewlwydIATUser,
			"DCRCTL_IAT_CLIENT_SECRET": IATSecret,
			"DCRCTL_IAT_SCOPE":         glewlwydIATScope,
		},
		TokenScope: glewlwydAPIScope,
		counter:    proxy,
		Logs:       logs.String,
	}
}

// adminSession is a cookie session on Glewlwyd's admin API.
type adminSession struct {
	base   string
	client *http.Client
}

func newAdminSession(t testing.TB, base string) *adminSession {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &adminSession{base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (s *adminSession) call(t testing.TB, method, path string, body any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("glewlwyd admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("glewlwyd admin %s %s: HTTP %d %s", method, path, resp.StatusCode, out)
	}
}

func gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// tryStartServer starts cmd and waits (at most 20 s) for any HTTP answer at
// readyURL; it reports an error, rather than failing the test, when the
// process exits first or never answers, so that the caller may retry.
func tryStartServer(t testing.TB, cmd *exec.Cmd, readyURL string) (*syncBuffer, error) {
	t.Helper()
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return logs, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
	})
	client := &http.Client{Timeout: time.Second}
	for attempt := 0; attempt < 200; attempt++ {
		select {
		case <-exited:
			return logs, fmt.Errorf("%s exited before answering", filepath.Base(cmd.Path))
		default:
		}
		if resp, err := client.Get(readyURL); err == nil {
			resp.Body.Close()
			return logs, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return logs, fmt.Errorf("%s did not answer at %s in 20s", filepath.Base(cmd.Path), readyURL)
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Clone(b.buf.String())
}
