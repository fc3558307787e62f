package engine

import (
	"context"
	"testing"

	"github.com/dcrctl/dcrctl/internal/state"
)

// The metrics come from the state as the last run saved it, through the
// store, never from a dry run's model of what it would do.
func TestMetricsFollowTheSavedState(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	e := testEngine(t, f, mem.Handle(), nil)
	if snap := e.MetricsSnapshot(nil); len(snap.Keys) != 0 {
		t.Errorf("before any run: keys %+v", snap.Keys)
	}
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	snap := e.MetricsSnapshot(nil)
	if len(snap.Keys) != 1 || snap.Keys[0].State != "active" || snap.RATHealthy == nil || !*snap.RATHealthy {
		t.Fatalf("after a registration: %+v", snap)
	}
	if _, err := e.Bootstrap(context.Background(), Options{Rotate: true, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if snap := e.MetricsSnapshot(nil); len(snap.Keys) != 1 {
		t.Errorf("a dry run's planned key reached the metrics: %+v", snap.Keys)
	}
	if _, err := e.Bootstrap(context.Background(), Options{Rotate: true}); err != nil {
		t.Fatal(err)
	}
	if snap := e.MetricsSnapshot(nil); len(snap.Keys) != 2 {
		t.Errorf("after a rotation: keys %+v", snap.Keys)
	}
}
