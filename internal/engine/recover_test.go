package engine

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/state"
)

// A rejected RAT at an IdP whose reads are critical (a write-ahead note):
// the refusal proves nothing was applied, so the state is left byte for
// byte as it was, and no lost answer is blamed.
func TestRejectedRATLeavesTheStateAsItWas(t *testing.T) {
	_, mem, e := registeredEngine(t, map[string]string{"idp_preset": "generic"})
	st := mem.Read()
	st.RegistrationAccessToken = "revoked"
	mem.Write(st)
	before := mem.Bytes()
	_, err := e.Bootstrap(context.Background(), Options{})
	var rejected *RATRejectedError
	if !errors.As(err, &rejected) || rejected.Note != "" {
		t.Fatalf("%v", err)
	}
	if !bytes.Equal(mem.Bytes(), before) {
		t.Errorf("state changed:\n%s\nwas:\n%s", mem.Bytes(), before)
	}
}

// A rejected RAT is renewed through the configured recovery route (here
// admin-url) and the run goes on with the new one.
func TestRejectedRATIsRenewedThroughTheRoute(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), map[string]string{"admin_token": "admin", "admin_rat_url": f.srv.URL + "/admin/renew/{client_id}"})
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	st.RegistrationAccessToken = "revoked"
	mem.Write(st)
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || !strings.Contains(report.String(), "renew the registration access token") {
		t.Fatalf("%v\n%v", err, report)
	}
	if after := mem.Read(); f.rats[after.RegistrationAccessToken] != after.ClientID || after.InFlight != nil {
		t.Errorf("after renewal: RAT live %v, note %+v", f.rats[after.RegistrationAccessToken] == after.ClientID, after.InFlight)
	}
}
