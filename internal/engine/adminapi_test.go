package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/state"
)

// At an IdP that manages clients through its admin API (the okta preset),
// the API token registers, reads, updates and deletes; no RAT is kept; a
// refused token changes nothing; there is no RAT to renew.
func TestAdminAPIManagesWithTheAPIToken(t *testing.T) {
	f := startFakeIdP(t)
	f.apiToken = "api-token"
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), map[string]string{"idp_preset": "okta", "admin_token": "api-token"})
	e.IdP.AuthScheme = e.Cfg.AuthScheme
	e.IAT = nil // the API token registers
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	if st.Management != state.ManagementAdminAPI || st.RegistrationAccessToken != "" || st.RegistrationClientURI != f.srv.URL+"/reg/"+st.ClientID {
		t.Fatalf("after registration: %+v", st)
	}
	f.requests()
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); len(got) != 1 || got[0] != "GET /reg/"+st.ClientID+" 200" {
		t.Errorf("a no-change run: %v, want one GET", got)
	}

	ageKeys(mem, 31)
	if report, err := e.Bootstrap(context.Background(), Options{}); err != nil || report.Outcome != "updated" {
		t.Fatalf("a due rotation: %v %+v", err, report)
	}
	if got := mem.Read(); got.ActiveKID == "k1" || got.RegistrationAccessToken != "" {
		t.Errorf("after the rotation: active %s, RAT held %v", got.ActiveKID, got.RegistrationAccessToken != "")
	}

	before := mem.Bytes()
	e.Cfg.AdminToken = "wrong"
	_, err := e.Bootstrap(context.Background(), Options{})
	var rejected *AdminAPIRejectedError
	if !errors.As(err, &rejected) || !strings.Contains(err.Error(), "BOOTSTRAP_ADMIN_TOKEN") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a refused API token: %v", err)
	}
	if string(mem.Bytes()) != string(before) {
		t.Error("a refused API token changed the state")
	}
	e.Cfg.AdminToken = "api-token"
	var refused *RefusedError
	if _, err := e.Bootstrap(context.Background(), Options{RenewRAT: true}); !errors.As(err, &refused) {
		t.Errorf("renewing at an admin-API IdP: %v, want a refusal", err)
	}
}
