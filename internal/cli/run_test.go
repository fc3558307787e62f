package cli

import (
	"testing"
	"time"
)

// Across a fleet that shares its state (DCRCTL_FRESH_FOR > 0), a
// maintenance relies on another replica's verification younger than three
// quarters of the interval, so one replica reads per interval; a single
// container (0) reads every time.
func TestFleetFreshness(t *testing.T) {
	for _, tc := range []struct{ freshFor, interval, want time.Duration }{
		{0, 6 * time.Hour, 0},
		{5 * time.Minute, 6 * time.Hour, 270 * time.Minute},
		{5 * time.Minute, time.Minute, 5 * time.Minute},
	} {
		if got := fleetFreshness(tc.freshFor, tc.interval); got != tc.want {
			t.Errorf("fresh for %s, interval %s: %s, want %s", tc.freshFor, tc.interval, got, tc.want)
		}
	}
}
