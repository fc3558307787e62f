package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/state"
)

func TestRegisterThenOneReadThenNothing(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "registered" {
		t.Fatalf("first bootstrap: %v %+v", err, report)
	}
	if got := methods(f.requests()); got != "GET /.well-known/openid-configuration 200, POST /reg 201" {
		t.Errorf("requests: %s", got)
	}
	if st := mem.Read(); st.ClientID == "" || st.RegistrationAccessToken == "" || st.VerifiedAt == nil || st.InFlight != nil {
		t.Errorf("state after registration: %+v", st)
	}
	report, err = e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "unchanged" {
		t.Fatalf("second bootstrap: %v %+v", err, report)
	}
	if got := methods(f.requests()); !strings.HasPrefix(got, "GET /reg/") || strings.Count(got, ",") != 0 {
		t.Errorf("a no-change bootstrap: %s, want one GET", got)
	}
}
