package engine

import (
	"testing"
	"time"
)

func TestCheckClock(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		idp  time.Time
		ok   bool
		skip bool
	}{
		{now.Add(-5 * time.Second), true, false},
		{now.Add(-2 * time.Minute), false, false},
		{now.Add(45 * time.Second), false, false},
		{time.Time{}, true, true},
	} {
		c := checkClock(tc.idp, now)
		if c.OK != tc.ok || c.Skipped != tc.skip || (!c.OK && c.Fix == "") {
			t.Errorf("IdP date %v: %+v", tc.idp, c)
		}
	}
}
