package integration

import (
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// The command line people expect: one request per debug line (secrets
// masked), the RAT-saving line only at debug, completion of kids and -o
// values, and a version with commit and Go version.
func TestCommandLineConventions(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")

	res := c.mustRun(0, "keys", "rotate", "--yes") // the IdP rotates the RAT
	if strings.Contains(res.Stderr, "issued a new registration access token") {
		t.Errorf("the RAT-saving line is info-level noise:\n%s", res.Stderr)
	}
	res = c.mustRun(0, "--log-level", "debug", "keys", "rotate", "--yes")
	for _, want := range []string{`"msg":"IdP request"`, `"method":"GET"`, `"method":"PUT"`, `"status":200`, `"duration":`, "issued a new registration access token"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("debug log lacks %s:\n%s", want, res.Stderr)
		}
	}

	kids := c.mustRun(0, "__complete", "keys", "retire", "").Stdout
	for _, k := range c.state().Keys {
		if !strings.Contains(kids, k.KID) {
			t.Errorf("completion lacks kid %s:\n%s", k.KID, kids)
		}
	}
	if out := c.mustRun(0, "__complete", "status", "-o", "").Stdout; !strings.Contains(out, "table\njson\nyaml") {
		t.Errorf("-o completion:\n%s", out)
	}
	if out := c.mustRun(0, "--version").Stdout; !strings.Contains(out, "commit") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: %s", out)
	}
	if out := c.mustRun(0, "--help").Stdout; !strings.Contains(out, "79  the client changed") || !strings.Contains(out, "BFF_CLIENT_CRED_PATH") {
		t.Errorf("--help lacks the exit codes or the environment:\n%s", out)
	}
}

// On a terminal an error is shown once, as a human line, not again as a
// log line.
func TestErrorShownOnceOnATerminalInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	s := startPrompt(t, c, "keys", "rotate", "--yes") // nothing registered: exit 66
	screen := s.waitFor(`exit=\d+`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "exit=66") || strings.Count(screen, "no client registered") != 1 {
		t.Errorf("the error should appear once:\n%s", screen)
	}
}
