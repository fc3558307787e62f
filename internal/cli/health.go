package cli

import (
	"fmt"
	"slices"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/keys"
)

// Health exit codes of `dcrctl status --exit-code`, worst first when
// several apply. They are above 1 and below sysexits' 64, distinct from
// every other exit code.
const (
	HealthRATRejected = 10 // the IdP rejects the RAT, or no longer knows the client
	HealthUnreachable = 11 // the IdP could not be read (or was not, for want of a writable state)
	HealthExpired     = 12 // a key past its retirement date is still published
	HealthDrift       = 13 // the registration differs from the configuration
	HealthDue         = 14 // the active key is past rotate-after
)

// healthError carries a health exit code; the message says why.
type healthError struct {
	code   int
	reason string
}

func (e healthError) Error() string { return e.reason }

// healthOf is nil for a healthy client, else the worst finding.
func healthOf(st *engine.Status) error {
	switch st.RAT.Health {
	case engine.RATRejected, engine.RATClientGone:
		return healthError{HealthRATRejected, "unhealthy: registration access token " + st.RAT.Health}
	case engine.RATUnreachable, engine.RATUnchecked:
		return healthError{HealthUnreachable, "unhealthy: the IdP was not read (" + st.RAT.Health + ")"}
	case engine.RATNotCached:
		return healthError{HealthRATRejected, "unhealthy: no client registered"}
	}
	var expired, due []string
	for _, k := range st.Keys {
		if slices.Contains(k.States, keys.StateExpired) && slices.Contains(k.States, keys.StatePublished) {
			expired = append(expired, k.KID)
		}
		if slices.Contains(k.States, keys.StateDue) {
			due = append(due, k.KID)
		}
	}
	switch {
	case len(expired) > 0:
		return healthError{HealthExpired, fmt.Sprintf("unhealthy: keys past retirement still published: %v", expired)}
	case len(st.Drift) > 0:
		return healthError{HealthDrift, fmt.Sprintf("unhealthy: %d member(s) drifted from the configuration", len(st.Drift))}
	case len(due) > 0:
		return healthError{HealthDue, fmt.Sprintf("unhealthy: rotation due for %v", due)}
	}
	return nil
}
