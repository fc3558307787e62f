package integration

import (
	"bytes"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Sixteen replicas sharing one volume start at once with a rotation due:
// the lock lets one rotate; the others find the work done.
func TestSixteenConcurrentBootstrapsRotateOnce(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31)
	before := c.publishedKIDs()
	idp.ResetRequests(t)

	const replicas = 16
	cmds := make([]*exec.Cmd, replicas)
	for i := range cmds {
		cmds[i] = testenv.Start(t, c.env, "bootstrap")
	}
	deadline := time.AfterFunc(2*runTimeout, func() {
		for _, cmd := range cmds {
			cmd.Process.Kill()
		}
	})
	defer deadline.Stop()
	for i, cmd := range cmds {
		err := cmd.Wait()
		c.outputs = append(c.outputs, cmd.Stdout.(*bytes.Buffer).String(), cmd.Stderr.(*bytes.Buffer).String())
		if err != nil {
			t.Errorf("replica %d: %v\n%s", i, err, cmd.Stderr)
		}
	}
	after := c.publishedKIDs()
	var added []string
	for _, kid := range after {
		if !slices.Contains(before, kid) {
			added = append(added, kid)
		}
	}
	if len(added) != 1 {
		t.Fatalf("%d replicas published %d new keys %v, want exactly 1 (before %v, after %v)", replicas, len(added), added, before, after)
	}
	if st := c.state(); st.ActiveKID != added[0] {
		t.Errorf("active kid %q, want the new key %q", st.ActiveKID, added[0])
	}
	puts := 0
	for _, r := range idp.Requests(t) {
		if r.Method == "PUT" {
			puts++
		}
	}
	if puts != 1 {
		t.Errorf("%d PUTs, want 1", puts)
	}
	assertKeyMatchesState(t, c)
}
