package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// dcrctl run as the application's supervisor: it bootstraps, starts the
// application, rotates on schedule and tells it (SIGHUP), serves health and
// metrics, keeps the application running while the IdP is down (readiness
// says so), forwards SIGTERM and exits with the application's code.
func TestRunSupervisesTheApplication(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	superviseAndRotate(t, c, idp, func() { c.age(31) })
}

// The same with the Kubernetes store: the keys are aged in the Secret, and the Secret ends with
// the key the application was told about.
func TestRunSupervisesTheApplicationOnKubernetes(t *testing.T) {
	k, idp, ns := kubeWorld(t)
	c := kubeReplica(t, k, idp.URL, ns)
	// Every maintenance reads the IdP (a fleet's replicas would rely on one
	// another's verification, DCRCTL_FRESH_FOR): the outage below shows.
	c.env["DCRCTL_FRESH_FOR"] = "0"
	c.mustRun(0, "bootstrap")
	superviseAndRotate(t, c, idp, func() { ageSecret(t, k, ns, 31) })
	if st, _ := secretState(t, k, ns); st.ActiveKID != c.state().ActiveKID {
		t.Errorf("the Secret's active key %s, the local state's %s", st.ActiveKID, c.state().ActiveKID)
	}
}

// superviseAndRotate runs `dcrctl run -- APP` for c, makes a rotation due
// twice with age, and checks the scenario above; it stops the IdP.
func superviseAndRotate(t *testing.T, c *client, idp *testenv.IdP, age func()) {
	t.Helper()
	age() // a rotation is due on the first maintenance
	port := testenv.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	hups := filepath.Join(c.dir, "hups")
	c.env["DCRCTL_LISTEN"] = "127.0.0.1:" + strconv.Itoa(port)
	c.env["DCRCTL_CHECK_INTERVAL"] = "1s"
	c.env["DCRCTL_ON_KEY_CHANGE"] = "SIGHUP"
	app := `trap 'echo hup >> ` + hups + `' HUP; trap 'exit 7' TERM; echo app started; while :; do sleep 0.1; done`
	before := c.state().ActiveKID
	cmd := testenv.Start(t, c.env, "run", "--", "sh", "-c", app)

	testenv.Eventually(t, 30*time.Second, "healthz", func() bool { code, _ := testenv.Get(t, base+"/healthz"); return code == 200 })
	if code, body := testenv.Get(t, base+"/readyz"); code != 200 {
		t.Errorf("readyz %d: %s", code, body)
	}
	// The first run rotated (a due key); the next maintenance after it
	// is a no-change run. Make another rotation due to see the hook fire.
	testenv.Eventually(t, 30*time.Second, "first rotation", func() bool { return c.state().ActiveKID != before })
	age()
	testenv.Eventually(t, 30*time.Second, "SIGHUP to the application", func() bool { data, _ := os.ReadFile(hups); return strings.Contains(string(data), "hup") })
	if _, body := testenv.Get(t, base+"/metrics"); !strings.Contains(body, `bff_dcr_key_age_seconds{kid="`+c.state().ActiveKID+`",state="active"}`) || !strings.Contains(body, "bff_dcr_rat_healthy 1") {
		t.Errorf("metrics:\n%s", body)
	}

	assertKeyMatchesState(t, c)

	idp.Stop() // maintenance fails; the application keeps running
	testenv.Eventually(t, 90*time.Second, "readyz 503", func() bool { code, _ := testenv.Get(t, base+"/readyz"); return code == 503 })
	if code, _ := testenv.Get(t, base+"/healthz"); code != 200 {
		t.Error("healthz failed while the application runs")
	}
	// The series the Pushgateway keeps across a failure, /metrics keeps too.
	if _, body := testenv.Get(t, base+"/metrics"); !strings.Contains(body, `bff_dcr_status{status="failure"} 1`) ||
		!strings.Contains(body, "bff_dcr_last_success_timestamp_seconds ") || !strings.Contains(body, "bff_dcr_rat_healthy 1") {
		t.Errorf("metrics after a failed maintenance:\n%s", body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	res := c.wait(cmd)
	if res.Code != 7 || !strings.Contains(res.Stdout, "app started") {
		t.Errorf("exit %d, want the application's 7\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
}
