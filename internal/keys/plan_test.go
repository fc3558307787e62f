package keys

import (
	"slices"
	"testing"
	"time"
)

func TestPlanJWKS(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	policy := Policy{RotateAfter: 30 * 24 * time.Hour, RetireAfter: 60 * 24 * time.Hour}
	k := func(kid string, days int) Info {
		if days < 0 {
			return Info{KID: kid} // unknown age
		}
		return Info{KID: kid, CreatedAt: ago(days)}
	}
	tests := []struct {
		name      string
		published []Info
		active    Info
		pending   *Info
		wantAfter []string
		wantAdd   []string
		wantDrop  []string
	}{
		{name: "nothing to do", published: []Info{k("a", 5)}, active: k("a", 5), wantAfter: []string{"a"}},
		{name: "active missing is added", published: nil, active: k("a", 0), wantAfter: []string{"a"}, wantAdd: []string{"a"}},
		{name: "rotation adds pending", published: []Info{k("a", 31)}, active: k("a", 31), pending: &Info{KID: "b", CreatedAt: now},
			wantAfter: []string{"a", "b"}, wantAdd: []string{"b"}},
		{name: "expired dropped", published: []Info{k("old", 61), k("a", 10)}, active: k("a", 10),
			wantAfter: []string{"a"}, wantDrop: []string{"old"}},
		{name: "active never dropped even when expired", published: []Info{k("a", 90)}, active: k("a", 90), wantAfter: []string{"a"}},
		{name: "cap keeps the 3 newest", published: []Info{k("k1", 50), k("k2", 40), k("k3", 30), k("a", 1)}, active: k("a", 1),
			wantAfter: []string{"k2", "k3", "a"}, wantDrop: []string{"k1"}},
		{name: "cap with pending keeps active, pending and the newest other", published: []Info{k("k1", 50), k("k2", 40), k("a", 31)},
			active: k("a", 31), pending: &Info{KID: "n", CreatedAt: now},
			wantAfter: []string{"k2", "a", "n"}, wantAdd: []string{"n"}, wantDrop: []string{"k1"}},
		{name: "unknown ages count as oldest under the cap", published: []Info{k("x", -1), k("k2", 40), k("k3", 30), k("a", 1)}, active: k("a", 1),
			wantAfter: []string{"k2", "k3", "a"}, wantDrop: []string{"x"}},
		{name: "unknown ages are never retired by age", published: []Info{k("x", -1), k("a", 1)}, active: k("a", 1),
			wantAfter: []string{"x", "a"}},
		{name: "active older than others still kept", published: []Info{k("n1", 1), k("n2", 2), k("n3", 3), k("a", 20)}, active: k("a", 20),
			wantAfter: []string{"n1", "n2", "a"}, wantDrop: []string{"n3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := policy.PlanJWKS(tc.published, tc.active, tc.pending, now)
			var dropped []string
			for _, d := range plan.Drop {
				dropped = append(dropped, d.KID)
			}
			if !slices.Equal(plan.After, tc.wantAfter) || !slices.Equal(plan.Add, tc.wantAdd) || !slices.Equal(dropped, tc.wantDrop) {
				t.Errorf("after %v add %v drop %v; want after %v add %v drop %v", plan.After, plan.Add, dropped, tc.wantAfter, tc.wantAdd, tc.wantDrop)
			}
			if !slices.Contains(plan.After, tc.active.KID) {
				t.Errorf("active key dropped")
			}
			if len(plan.After) > MaxPublished {
				t.Errorf("%d keys after the plan, cap %d", len(plan.After), MaxPublished)
			}
		})
	}
}

func TestRotationDueAndStates(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	policy := Policy{RotateAfter: 30 * 24 * time.Hour, RetireAfter: 60 * 24 * time.Hour}
	at := func(days int) Info { return Info{KID: "a", CreatedAt: now.Add(-time.Duration(days) * 24 * time.Hour)} }
	if policy.RotationDue(at(29), false, now) || !policy.RotationDue(at(30), false, now) || policy.RotationDue(at(31), true, now) {
		t.Error("rotation due: want false at 29 days, true at 30, false while a key is pending")
	}
	if policy.RotationDue(Info{KID: "a"}, false, now) {
		t.Error("unknown age must not trigger rotation")
	}
	tests := []struct {
		facts Facts
		want  []string
	}{
		{Facts{Info: at(1), Active: true, Published: true, Recorded: true}, []string{StateActive}},
		{Facts{Info: at(31), Active: true, Published: true, Recorded: true}, []string{StateActive, StateDue}},
		{Facts{Info: at(61), Published: true, Recorded: true}, []string{StatePublished, StateExpired}},
		{Facts{Info: at(1), Active: true, Recorded: true}, []string{StateActive, StateLocalOnly}},
		{Facts{Info: Info{KID: "r"}, Published: true}, []string{StatePublished, StateRemoteOnly}},
		{Facts{Info: at(0), Next: true, Published: true, Recorded: true}, []string{StateNext, StatePublished}},
	}
	for _, tc := range tests {
		if got := policy.States(tc.facts, now); !slices.Equal(got, tc.want) {
			t.Errorf("States(%+v) = %v, want %v", tc.facts, got, tc.want)
		}
	}
}

// A key that stopped signing stays published for the verification window
// (retire − rotate) whatever its age, and the cap never drops the key
// superseded last.
func TestVerificationWindow(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * day) }
	policy := Policy{RotateAfter: 30 * day, RetireAfter: 60 * day}
	if w := policy.VerificationWindow(); w != 30*day {
		t.Fatalf("window %v", w)
	}

	// Rotated at 65 days old, a minute ago: kept until 30 days from now.
	old := Info{KID: "old", CreatedAt: ago(65), SupersededAt: now.Add(-time.Minute)}
	active := Info{KID: "a", CreatedAt: now.Add(-time.Minute)}
	if policy.Expired(old, now) {
		t.Error("a key that stopped signing a minute ago expired")
	}
	if on, _ := policy.RetiresOn(old); !on.Equal(now.Add(-time.Minute).Add(30 * day)) {
		t.Errorf("retires on %v", on)
	}
	plan := policy.PlanJWKS([]Info{old, active}, active, nil, now)
	if plan.Changes() {
		t.Errorf("dropped a key in its verification window: %+v", plan.Drop)
	}
	if !policy.Expired(old, now.Add(30*day)) {
		t.Error("not expired after the window")
	}
	// Without a superseded time (a record from before it was kept), the age rule.
	if !policy.Expired(Info{KID: "x", CreatedAt: ago(61)}, now) {
		t.Error("age rule lost")
	}

	// Cap of 3 with active, next, the last superseded and a newer other key:
	// the last superseded stays, the other goes.
	last := Info{KID: "last", CreatedAt: ago(40), SupersededAt: ago(1)}
	newer := Info{KID: "newer", CreatedAt: ago(20)}
	next := Info{KID: "next", CreatedAt: now}
	policy.LastSuperseded = "last"
	plan = policy.PlanJWKS([]Info{last, newer, active}, active, &next, now)
	if !slices.Equal(plan.After, []string{"last", "a", "next"}) || len(plan.Drop) != 1 || plan.Drop[0].KID != "newer" {
		t.Errorf("cap: after %v drop %+v", plan.After, plan.Drop)
	}
	// An operator may still retire it explicitly.
	policy.Retire = []string{"last"}
	if plan = policy.PlanJWKS([]Info{last, active}, active, nil, now); len(plan.Drop) != 1 || plan.Drop[0].KID != "last" {
		t.Errorf("operator retire of the last superseded key: %+v", plan.Drop)
	}
}
