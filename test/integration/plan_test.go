package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// A plan written for a change ticket is applied later exactly as it was
// planned; if the client changed in between (another shell rotated), nothing
// is sent, the exit code is 79 and the plan as it is now is printed.
func TestPlanFileIsAppliedExactlyOrNotAtAll(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "keys", "rotate", "--yes") // two keys published: bff-initial (old) and the active one
	old := "bff-initial"
	planPath := filepath.Join(c.dir, "retire.plan.json")

	res := c.mustRun(0, "keys", "retire", old, "--plan-out", planPath)
	if !strings.Contains(res.Stderr, "dcrctl apply "+planPath) || !slices.Contains(c.publishedKIDs(), old) {
		t.Fatalf("--plan-out must only plan:\n%s", res.Stderr)
	}
	if fi, err := os.Stat(planPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", fi, err)
	}
	// Meanwhile another operator rotates: the published keys change.
	c.mustRun(0, "keys", "rotate", "--yes")
	published := c.publishedKIDs()
	before := c.state()
	idp.ResetRequests(t)

	res = c.mustRun(79, "apply", planPath)
	for _, want := range []string{"changed since the plan was made", "active key was", "the plan as it would be now"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stale apply: stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	for _, r := range methods(idp.Requests(t)) {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("a stale plan sent %s", r)
		}
	}
	if got := c.publishedKIDs(); !slices.Equal(got, published) || c.state().ActiveKID != before.ActiveKID {
		t.Errorf("a stale plan changed the client: published %v, was %v", got, published)
	}

	// Planned afresh, it applies.
	c.mustRun(0, "keys", "retire", old, "--plan-out", planPath)
	res = c.mustRun(0, "apply", planPath)
	if slices.Contains(c.publishedKIDs(), old) || !strings.Contains(res.Stdout, "drop key") {
		t.Errorf("fresh plan not applied:\n%s\n%s", res.Stdout, res.Stderr)
	}
	assertKeyMatchesState(t, c)

	// The metadata a plan would send is part of it: a deployment that
	// changes DCR_REDIRECT_URIS after the plan makes it stale.
	c.mustRun(0, "keys", "rotate", "--plan-out", planPath)
	c.env["DCR_REDIRECT_URIS"] = "https://bff.example.test/new-callback"
	if res := c.mustRun(79, "apply", planPath); !strings.Contains(res.Stderr, "client metadata (digest) was") {
		t.Errorf("changed metadata not detected:\n%s", res.Stderr)
	}

	// A plan made for another state file is refused.
	c.mustRun(0, "keys", "rotate", "--plan-out", planPath)
	c.env["BFF_CLIENT_CRED_PATH"] = filepath.Join(c.dir, "other.json")
	if res := c.mustRun(64, "apply", planPath); !strings.Contains(res.Stderr, "was made for the state file") {
		t.Errorf("plan for another state file:\n%s", res.Stderr)
	}
}
