package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// register --force when the old client's DELETE gets no answer: the old
// client stays listed with its own RAT, kept to delete it and never shown
// (status, status -o json, doctor); the next bootstrap deletes it. At the
// real oidc-provider (it rotates the RAT on updates), kind and slowed.
func TestReplacedClientIsDeletedByTheNextRun(t *testing.T) {
	for _, slow := range []bool{false, true} {
		name := "kind"
		if slow {
			name = "slowed"
		}
		t.Run(name, func(t *testing.T) {
			idp := testenv.StartIdP(t, 0)
			if slow {
				for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
					idp.Delay(t, m, 300*time.Millisecond)
				}
			}
			c := newClient(t, idp.URL)
			c.mustRun(0, "bootstrap")
			old := c.state()

			idp.Fail(t, http.MethodDelete, http.StatusServiceUnavailable)
			c.env["DCRCTL_RETRY_DEADLINE"] = "1s"
			c.mustRun(0, "register", "--force", "--yes")
			delete(c.env, "DCRCTL_RETRY_DEADLINE")
			st := c.state()
			if st.ClientID == old.ClientID || len(st.AbandonedClients) != 1 {
				t.Fatalf("after register --force: client %s (was %s), abandoned %+v", st.ClientID, old.ClientID, st.AbandonedClients)
			}
			if ab := st.AbandonedClients[0]; ab.ClientID != old.ClientID || ab.RegistrationAccessToken != old.RegistrationAccessToken || ab.DeleteSentAt == nil {
				t.Fatalf("the replaced client's record: client %s, RAT kept %v, delete sent %v", ab.ClientID, ab.RegistrationAccessToken != "", ab.DeleteSentAt)
			}
			assertKeyMatchesState(t, c)
			if out := c.mustRun(0, "status").Stdout; !strings.Contains(out, "dcrctl deletes it on its next bootstrap") {
				t.Errorf("status does not say the replaced client is deleted next:\n%s", out)
			}
			if out := c.mustRun(0, "status", "-o", "json").Stdout; !strings.Contains(out, `"to_delete": true`) {
				t.Errorf("status -o json:\n%s", out)
			}
			if out := c.mustRun(0, "doctor").Stdout; !strings.Contains(out, "not yet deleted: "+old.ClientID) {
				t.Errorf("doctor:\n%s", out)
			}

			idp.Fail(t, http.MethodDelete, 0)
			c.mustRun(0, "bootstrap")
			if ab := c.state().AbandonedClients; len(ab) != 0 {
				t.Errorf("the next bootstrap left %+v", ab)
			}
			// Gone at the IdP: its own RAT died with it.
			req, _ := http.NewRequest(http.MethodGet, old.RegistrationClientURI, nil)
			req.Header.Set("Authorization", "Bearer "+old.RegistrationAccessToken)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("the replaced client still answers its RAT: HTTP %d", resp.StatusCode)
			}
		})
	}
}
