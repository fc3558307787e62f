package engine

import (
	"context"
	"strings"
	"testing"
)

// Another replica's recent verification of the same configuration and
// keys spares the read (DCRCTL_FRESH_FOR); a changed configuration does not.
func TestRecentVerificationSkipsTheRead(t *testing.T) {
	f, mem, e := registeredEngine(t, map[string]string{"fresh_for": "5m"})
	f.requests()
	other := testEngine(t, f, mem.Handle(), map[string]string{"fresh_for": "5m"})
	other.Keys, other.Cfg.StatePath = e.Keys, e.Cfg.StatePath // the same pod template
	report, err := other.Bootstrap(context.Background(), Options{})
	if err != nil || report.VerifiedAt == nil {
		t.Fatalf("%v %+v", err, report)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests: %v, want none", got)
	}
	other.Cfg.RedirectURIs = []string{"https://bff.example.test/new"}
	if _, err := other.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); len(got) == 0 || !strings.HasPrefix(got[0], "GET /reg/") {
		t.Errorf("a changed configuration: %v, want a read", got)
	}
}
