package engine

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

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
	if st := e.lastState(); st != nil {
		if st.ClientID != "" && st.RegistrationAccessToken == "" {
			s.RATHealthy = nil // a client without a RAT (RFC 7591 alone, a metadata document): no such series
		}
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
	s.Rotations, s.Renewals = e.auditCounts.of(e.Cfg.AuditPath())
	return s
}

// lastState is the state as the last run of this engine left it, else as
// the store holds it: /metrics asks on every scrape, and a shared store's
// read is an API request.
func (e *Engine) lastState() *state.State {
	if st := e.last.Load(); st != nil {
		return st
	}
	st, err := e.store().Load(context.Background())
	if err != nil {
		return nil
	}
	return st
}

// auditCounts are the rotations and renewals the audit trail records,
// counted again only when the file changed: /metrics may be scraped every
// few seconds, and the trail only grows by a line per change.
type auditCounts struct {
	mu                  sync.Mutex
	size                int64
	mod                 time.Time
	rotations, renewals int
}

func (c *auditCounts) of(path string) (rotations, renewals int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0
	}
	if fi.Size() == c.size && fi.ModTime().Equal(c.mod) {
		return c.rotations, c.renewals
	}
	entries, _, err := audit.Read(path, 0)
	if err != nil {
		return c.rotations, c.renewals
	}
	c.rotations, c.renewals = 0, 0
	for _, en := range entries {
		if en.Outcome == "failed" {
			continue
		}
		if len(en.KIDsAdded) > 0 {
			c.rotations++
		}
		for _, step := range en.Steps {
			if strings.HasPrefix(step, "renew the registration access token") {
				c.renewals++
			}
		}
	}
	c.size, c.mod = fi.Size(), fi.ModTime()
	return c.rotations, c.renewals
}
