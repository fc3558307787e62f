package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var hydraBinary = &cachedTool{script: "build-hydra.sh"}

// HydraBinary is Ory Hydra v2.3.0, built from the Go module proxy and cached
// by version (scripts/build-hydra.sh).
func HydraBinary(t testing.TB) string { return hydraBinary.get(t) }

// StartHydra starts Hydra (sqlite, both ports on 127.0.0.1) behind a
// counting proxy whose URL is its issuer. Dynamic client registration is
// on; discovery is left as Hydra ships it: no registration_endpoint.
func StartHydra(t testing.TB) *Server {
	t.Helper()
	bin := HydraBinary(t)
	dir := t.TempDir()
	proxy, forward := StartCountingProxy(t)
	public, admin := FreePort(t), FreePort(t)
	dsn := "sqlite://" + filepath.Join(dir, "hydra.sqlite") + "?_fk=true"
	conf := fmt.Sprintf(`serve:
  public: {host: 127.0.0.1, port: %d}
  admin: {host: 127.0.0.1, port: %d}
urls:
  self: {issuer: %s}
oidc:
  dynamic_client_registration:
    enabled: true
    default_scope: [openid, offline]
secrets:
  system: [dcrctl-tests-hydra-system-secret-0123456789]
log: {level: warn}
`, public, admin, proxy.URL)
	confPath := filepath.Join(dir, "hydra.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DSN="+dsn)
	migrate := exec.Command(bin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("hydra migrate: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "all", "--dev", "-c", confPath)
	cmd.Env = env
	direct := fmt.Sprintf("http://127.0.0.1:%d", public)
	logs := startServer(t, cmd, direct+"/health/ready")
	forward(direct)
	return &Server{
		Name:    "hydra",
		BaseURL: proxy.URL,
		Env: map[string]string{
			"DCRCTL_IDP_PRESET": "hydra", // open registration, /oauth2/register
			"DCR_IAT":           "",
		},
		counter: proxy,
		Logs:    logs.String,
	}
}
