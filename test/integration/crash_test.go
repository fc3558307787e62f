package integration

import (
	"maps"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// crashScenario brings a client to where an operation is due, then the
// operation is killed (SIGKILL) at one step and run again.
type crashScenario struct {
	name   string
	setup  func(c *client)
	env    map[string]string // for the killed run and the recovery
	points []string
}

func TestCrashAtEveryStepRecovers(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	scenarios := []crashScenario{
		{name: "registration", setup: func(*client) {}, points: []string{"active-key-written", "intent-recorded", "client-registered"}},
		{name: "rotation", setup: func(c *client) { c.mustRun(0, "bootstrap"); c.age(31) },
			points: []string{"pending-key-written", "pending-key-recorded", "intent-recorded", "jwks-accepted", "jwks-recorded", "pending-key-renamed"}},
		{name: "retirement", setup: func(c *client) {
			c.mustRun(0, "bootstrap")
			c.age(31)
			c.mustRun(0, "bootstrap") // rotated: two keys, the old one 31 days
			c.age(31)                 // old key 62 days (expired), active 31 (not due at 45)
		}, env: map[string]string{"BFF_JWK_ROTATE_AFTER_DAYS": "45"}, points: []string{"intent-recorded", "jwks-accepted", "jwks-recorded"}},
		{name: "RAT renewal", setup: func(c *client) { c.mustRun(0, "bootstrap"); c.revokeRAT() }, points: []string{"intent-recorded", "rat-renewed"}},
		{name: "force replace", setup: func(c *client) { c.mustRun(0, "bootstrap") },
			env: map[string]string{"DCR_FORCE_REPLACE": "true"}, points: []string{"intent-recorded", "client-registered", "client-deleted"}},
	}
	covered := 0
	for _, sc := range scenarios {
		for _, point := range sc.points {
			t.Run(sc.name+"/"+point, func(t *testing.T) {
				c := newClient(t, idp.URL)
				c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken // the documented recovery for a RAT lost in a crash
				sc.setup(c)
				maps.Copy(c.env, sc.env)

				c.env["DCRCTL_FAULT_KILL_AT"] = point
				if res := c.run("bootstrap"); res.Code != -1 {
					t.Fatalf("not killed at %q (exit %d): the step was not reached\n%s", point, res.Code, res.Stderr)
				}
				delete(c.env, "DCRCTL_FAULT_KILL_AT")
				res := c.mustRun(0, "bootstrap")
				if point == "jwks-accepted" && !strings.Contains(res.Stderr, "recovering it with the bootstrap admin token") {
					t.Errorf("a RAT rotated by the IdP but lost in the crash should be reported and renewed:\n%s", res.Stderr)
				}
				delete(c.env, "DCR_FORCE_REPLACE")
				c.mustRun(0, "bootstrap") // and a plain run after that is quiet and fine
				assertKeyMatchesState(t, c)
				if ab := c.state().AbandonedClients; len(ab) != 0 {
					t.Errorf("replaced clients left undeleted after recovery: %+v", ab)
				}
				if n := c.state().InFlight; n != nil {
					t.Errorf("write-ahead note left after recovery: %+v", n)
				}
				status := c.mustRun(0, "status", "-o", "json")
				if !strings.Contains(status.Stdout, `"health": "valid"`) {
					t.Errorf("RAT not valid after recovery:\n%s", status.Stdout)
				}
				covered++
			})
		}
	}
	t.Logf("kill points covered: %d", covered)
}
