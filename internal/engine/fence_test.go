package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// The fence (issue 16): this replica reads the state while another
// replica's request is in flight (its write-ahead note is in the state);
// that request then rotates the RAT and the other replica saves it. This
// run must not send a request planned from its read: it waits for the
// claim, finds the state changed, reads it again and uses the live RAT.
// No request carries a dead one.
func TestAReplicaNeverSendsAStaleRAT(t *testing.T) {
	for _, preset := range []string{"generic", "oidc-provider"} { // critical reads, and ordinary ones
		t.Run(preset, func(t *testing.T) {
			f, mem, e := registeredEngine(t, map[string]string{"idp_preset": preset})
			st := mem.Read()
			st.InFlight = &state.Intent{Op: "update", Method: "PUT", URI: "/reg/x", SentAt: time.Now().UTC(), By: "other-pod/7",
				RAT: secret.Fingerprint(st.RegistrationAccessToken)}
			mem.Write(st)
			handle := mem.Handle()
			e.Store = handle
			handle.AfterLoad = func() {
				// The other replica's update lands: a new RAT, saved, note cleared.
				f.mu.Lock()
				rat := f.newRAT(st.ClientID)
				f.mu.Unlock()
				done := mem.Read()
				done.RegistrationAccessToken, done.InFlight = rat, nil
				mem.Write(done)
			}
			f.requests()
			if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.requests() {
				if strings.HasSuffix(r, " 401") {
					t.Errorf("a request carried a dead RAT: %s", r)
				}
			}
			if st := mem.Read(); f.rats[st.RegistrationAccessToken] != st.ClientID || st.InFlight != nil {
				t.Errorf("the state's RAT is not the live one, or a note is left: %+v", st.InFlight)
			}
		})
	}
}
