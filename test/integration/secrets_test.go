package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Secrets from files (DCR_IAT_FILE, BOOTSTRAP_ADMIN_TOKEN_FILE) and from
// standard input (rat renew --admin-token-stdin), never from the command
// line; none of them is printed.
func TestSecretsFromFilesAndStdin(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	secrets := t.TempDir()
	put := func(name, value string) string {
		p := filepath.Join(secrets, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	delete(c.env, "DCR_IAT")
	c.env["DCR_IAT_FILE"] = put("iat", testenv.IAT)
	c.mustRun(0, "bootstrap")
	if c.state().ClientID == "" {
		t.Fatal("not registered with the IAT from DCR_IAT_FILE")
	}
	if out := c.mustRun(0, "config").Stdout; !strings.Contains(out, "(from file "+c.env["DCR_IAT_FILE"]+")") {
		t.Errorf("dcrctl config should say where the IAT comes from:\n%s", out)
	}

	c.revokeRAT()
	c.env["BOOTSTRAP_ADMIN_TOKEN_FILE"] = put("admin", testenv.AdminToken)
	c.mustRun(0, "bootstrap")
	if h := ratHealth(t, c); h != "valid" {
		t.Fatalf("recovery with BOOTSTRAP_ADMIN_TOKEN_FILE: %s", h)
	}
	delete(c.env, "BOOTSTRAP_ADMIN_TOKEN_FILE")

	c.revokeRAT()
	res := testenv.RunWithStdin(t, runTimeout, c.env, testenv.AdminToken+"\n", "rat", "renew", "--admin-token-stdin", "--yes")
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	if res.Code != 0 {
		t.Fatalf("rat renew --admin-token-stdin: exit %d\n%s", res.Code, res.Stderr)
	}
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("after --admin-token-stdin: %s", h)
	}
	res = testenv.RunWithStdin(t, runTimeout, c.env, "", "rat", "renew", "--admin-token-stdin", "--yes")
	if res.Code != 64 || !strings.Contains(res.Stderr, "--admin-token-stdin") {
		t.Errorf("empty stdin: exit %d\n%s", res.Code, res.Stderr)
	}

	c.env["DCR_IAT"] = "also-set"
	if res := c.mustRun(78, "bootstrap"); !strings.Contains(res.Stderr, "DCR_IAT_FILE") {
		t.Errorf("both DCR_IAT and DCR_IAT_FILE: %s", res.Stderr)
	}
}
