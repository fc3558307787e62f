package integration

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// status --exit-code for cron and monitoring: 0 healthy, then the
// documented code of the worst finding.
func TestStatusExitCodes(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "status", "--exit-code")

	c.age(31)
	c.mustRun(14, "status", "--exit-code") // rotation due
	c.mustRun(0, "bootstrap")

	c.env["DCR_REDIRECT_URIS"] = "https://bff.example.test/v2/callback"
	c.mustRun(13, "status", "--exit-code") // drift
	c.mustRun(0, "bootstrap")

	c.age(61) // the superseded key is past its retirement, still published; the active key is due
	c.mustRun(12, "status", "--exit-code")
	c.mustRun(0, "bootstrap")

	c.revokeRAT()
	c.mustRun(10, "status", "--exit-code")

	c.env["DCRCTL_RETRY_DEADLINE"] = "1s"
	idp.Stop()
	c.mustRun(11, "status", "--exit-code")
}

// status --watch shows the status again and again until interrupted.
func TestStatusWatch(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	idp.ResetRequests(t)
	cmd := testenv.Start(t, c.env, "status", "--watch", "200ms")
	for attempt := 0; attempt < 200 && countMethod(idp.Requests(t), "GET") < 3; attempt++ {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	res := c.wait(cmd)
	if n := strings.Count(res.Stdout, "\n--- "); n < 2 || !strings.Contains(res.Stdout, "client_id:") {
		t.Errorf("watch printed %d statuses:\n%s", n, res.Stdout)
	}
	if res.Code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", res.Code)
	}
}
