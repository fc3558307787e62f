package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

func countMethod(reqs []testenv.Request, method string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method {
			n++
		}
	}
	return n
}

// A deployment changes DCR_REDIRECT_URIS after the client was registered:
// status and bootstrap show the drift; DCRCTL_RECONCILE=false only reports
// it; bootstrap brings it in line with one update, together with a due
// rotation; then a run is one GET again. Against each real IdP.
func TestDriftIsShownAndReconciled(t *testing.T) {
	forEachIdP(t, func(t *testing.T, srv *testenv.Server) {
		c := newServerClient(t, srv)
		c.mustRun(0, "bootstrap")
		newURIs := []string{"https://bff.example.test/v2/callback"}
		c.env["DCR_REDIRECT_URIS"] = newURIs[0]

		st := statusJSON(t, c)
		if len(st.Drift) != 1 || st.Drift[0].Member != "redirect_uris" {
			t.Fatalf("status drift: %+v", st.Drift)
		}
		if out := c.mustRun(0, "status").Stdout; !strings.Contains(out, "drift: redirect_uris: configured") {
			t.Errorf("status text lacks the drift:\n%s", out)
		}

		c.env["DCRCTL_RECONCILE"] = "false"
		srv.ResetRequests(t)
		res := c.mustRun(0, "bootstrap")
		if n := countMethod(srv.Requests(t), "PUT"); n != 0 {
			t.Errorf("DCRCTL_RECONCILE=false sent %d updates", n)
		}
		if !strings.Contains(res.Stderr, "DCRCTL_RECONCILE=false") {
			t.Errorf("no warning about the drift:\n%s", res.Stderr)
		}
		delete(c.env, "DCRCTL_RECONCILE")

		c.age(31) // a rotation is due as well: one update does both
		srv.ResetRequests(t)
		res = c.mustRun(0, "bootstrap")
		if n := countMethod(srv.Requests(t), "PUT") + countMethod(srv.Requests(t), "PATCH"); n != 1 {
			t.Errorf("%d updates for drift and rotation, want 1", n)
		}
		if !strings.Contains(res.Stdout, "bring redirect_uris in line") {
			t.Errorf("report lacks the reconciliation:\n%s", res.Stdout)
		}
		st = statusJSON(t, c)
		if len(st.Drift) != 0 || !slices.Equal(st.RedirectURIs, newURIs) {
			t.Errorf("after reconciling: drift %+v, redirect_uris %v", st.Drift, st.RedirectURIs)
		}
		assertKeyMatchesState(t, c)
		assertTokenWorks(t, srv, c, c.activeKey())

		srv.ResetRequests(t)
		c.mustRun(0, "bootstrap")
		if got := methods(srv.Requests(t)); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
			t.Errorf("after reconciling, a run should be one GET: %v", got)
		}
	})
}
