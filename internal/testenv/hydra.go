package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	dsn := "sqlite://" + filepath.Join(dir, "hydra.sqlite") + "?_fk=true"
	env := append(os.Environ(), "DSN="+dsn)
	migrate := exec.Command(bin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("hydra migrate: %v\n%s", err, out)
	}
	// FreePort closes its port before Hydra binds it: on a busy machine
	// another process may take it first. Hydra then exits at once with
	// "address already in use", and is started again on new ports.
	var logs *syncBuffer
	var direct string
	for attempt := 1; ; attempt++ {
		public, admin := FreePort(t), FreePort(t)
		confPath := writeHydraConfig(t, dir, public, admin, proxy.URL)
		cmd := exec.Command(bin, "serve", "all", "--dev", "-c", confPath)
		cmd.Env = env
		direct = fmt.Sprintf("http://127.0.0.1:%d", public)
		var err error
		if logs, err = tryStartServer(t, cmd, direct+"/health/ready"); err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(logs.String(), "address already in use") {
			t.Fatalf("hydra: %v; its output:\n%s", err, logs.String())
		}
	}
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

func writeHydraConfig(t testing.TB, dir string, public, admin int, issuer string) string {
	t.Helper()
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
`, public, admin, issuer)
	path := filepath.Join(dir, "hydra.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
