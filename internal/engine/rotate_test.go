package engine

import (
	"context"
	"strings"
	"testing"
)

func TestDueRotationPublishesAndPromotes(t *testing.T) {
	f, mem, e := registeredEngine(t, nil)
	ageKeys(mem, 31)
	f.requests()
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "updated" {
		t.Fatalf("rotation: %v %+v", err, report)
	}
	if got := f.requests(); len(got) != 2 || !strings.HasPrefix(got[1], "PUT ") {
		t.Errorf("requests: %v, want a GET and a PUT", got)
	}
	after := mem.Read()
	if after.ActiveKID == "k1" || len(after.Keys) != 2 || after.PendingKID != "" {
		t.Errorf("after rotation: active %s, keys %d, pending %q", after.ActiveKID, len(after.Keys), after.PendingKID)
	}
	if rat := after.RegistrationAccessToken; f.rats[rat] != after.ClientID {
		t.Error("the RAT the update rotated was not saved")
	}
}

// Retiring a key that stopped signing within the verification window is
// planned with a warning for the operator to weigh (issue 17 §13).
func TestRetireWithinTheVerificationWindowWarns(t *testing.T) {
	_, _, e := registeredEngine(t, nil)
	if _, err := e.Bootstrap(context.Background(), Options{Rotate: true}); err != nil {
		t.Fatal(err)
	}
	plan, err := e.Bootstrap(context.Background(), Options{Retire: "k1", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) != 1 || !strings.Contains(plan.String(), "within the verification window") {
		t.Errorf("plan:\n%s", plan)
	}
}
