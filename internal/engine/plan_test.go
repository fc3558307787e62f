package engine

import (
	"context"
	"strings"
	"testing"
)

// A dry run makes the same decisions as the run that applies them: its
// plan lists the lines the real run then reports, the generated key's kid
// standing in as "(new key)", and it changes nothing.
func TestDryRunListsWhatTheRunApplies(t *testing.T) {
	f, mem, e := registeredEngine(t, nil)
	ageKeys(mem, 31)
	f.requests()
	before := mem.Read()
	plan, err := e.Bootstrap(context.Background(), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := mem.Read(); after.ActiveKID != before.ActiveKID || after.PendingKID != "" || len(after.Keys) != len(before.Keys) {
		t.Fatalf("a dry run changed the state: %+v", after)
	}
	for _, req := range f.requests() {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("a dry run sent %s", req)
		}
	}
	done, err := e.Bootstrap(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := mem.Read().ActiveKID
	var applied []string
	for _, s := range done.Steps {
		applied = append(applied, strings.ReplaceAll(s, next, newKeyKID))
	}
	if strings.Join(plan.Steps, "\n") != strings.Join(applied, "\n") || len(plan.Steps) < 3 {
		t.Errorf("the plan:\n%s\nwhat the run did:\n%s", strings.Join(plan.Steps, "\n"), strings.Join(done.Steps, "\n"))
	}
}
