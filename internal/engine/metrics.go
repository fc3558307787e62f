package engine

import (
	"errors"
	"strings"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/metrics"
	"github.com/dcrctl/dcrctl/internal/state"
)

// MetricsSnapshot is what the metrics say after a run that ended with
// runErr: from the state file and the audit trail, no request.
func (e *Engine) MetricsSnapshot(runErr error) metrics.Snapshot {
	s := metrics.Snapshot{Success: runErr == nil}
	now := e.Now()
	var rejected *RATRejectedError
	switch {
	case runErr == nil:
		healthy := true
		s.RATHealthy, s.LastSuccess = &healthy, now
	case errors.As(runErr, &rejected):
		healthy := false
		s.RATHealthy = &healthy
	}
	if st, err := state.Load(e.Cfg.StatePath); err == nil {
		for _, k := range st.Keys {
			kind := "published"
			switch k.KID {
			case st.ActiveKID:
				kind = "active"
			case st.PendingKID:
				kind = "next"
			}
			s.Keys = append(s.Keys, metrics.KeyAge{KID: k.KID, State: kind, Age: now.Sub(k.CreatedAt)})
		}
	}
	if entries, _, err := audit.Read(e.Cfg.AuditPath(), 0); err == nil {
		for _, en := range entries {
			if en.Outcome == "failed" {
				continue
			}
			if len(en.KIDsAdded) > 0 {
				s.Rotations++
			}
			for _, step := range en.Steps {
				if strings.HasPrefix(step, "renew the registration access token") {
					s.Renewals++
				}
			}
		}
	}
	return s
}
