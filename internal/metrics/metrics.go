// Package metrics reports dcrctl's health as Prometheus series: pushed to a
// Pushgateway after bootstrap (the helper dcrctl replaces pushed
// bff_dcr_status), written for node_exporter's textfile collector
// (DCRCTL_METRICS_FILE), and scraped from `dcrctl run`. One set of series,
// built from a Snapshot, for all three. Labels carry kids and states, never
// a secret.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
)

// KeyAge is one key's age and state.
type KeyAge struct {
	KID   string
	State string // active, next or published
	Age   time.Duration
}

// Snapshot is what the series say.
type Snapshot struct {
	Success bool
	// RATHealthy is 1 or 0 when known (nil: the run ended before it knew).
	RATHealthy *bool
	Keys       []KeyAge
	// LastSuccess is when a run last succeeded: this one, when it did.
	LastSuccess time.Time
	// Rotations and Renewals are the changes in the audit trail so far.
	Rotations, Renewals int
}

// Registry holds every series of s.
func Registry(s Snapshot) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	status := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bff_dcr_status",
		Help: "Outcome of the last dcrctl run: 1 for the status label that applies.",
	}, []string{"status"})
	outcome := "failure"
	if s.Success {
		outcome = "success"
	}
	status.WithLabelValues(outcome).Set(1)
	reg.MustRegister(status)

	keyAge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bff_dcr_key_age_seconds",
		Help: "Age of each signing key dcrctl holds a record of, by kid and state (active, next, published).",
	}, []string{"kid", "state"})
	for _, k := range s.Keys {
		keyAge.WithLabelValues(k.KID, k.State).Set(k.Age.Seconds())
	}
	reg.MustRegister(keyAge)

	if s.RATHealthy != nil {
		rat := prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bff_dcr_rat_healthy",
			Help: "1 when the IdP accepted the registration access token on the last run, 0 when it rejected it.",
		})
		if *s.RATHealthy {
			rat.Set(1)
		}
		reg.MustRegister(rat)
	}
	if !s.LastSuccess.IsZero() {
		last := prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bff_dcr_last_success_timestamp_seconds",
			Help: "Unix time of the last successful dcrctl run.",
		})
		last.Set(float64(s.LastSuccess.Unix()))
		reg.MustRegister(last)
	}
	for name, n := range map[string]int{"bff_dcr_rotations_total": s.Rotations, "bff_dcr_rat_renewals_total": s.Renewals} {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "Changes of this kind in dcrctl's audit trail."})
		c.Add(float64(n))
		reg.MustRegister(c)
	}
	return reg
}

// Push sends s to the Pushgateway under job. A success replaces the group;
// a failure only adds to it, so that the last success time pushed before
// stays (Pushgateway PUT and POST semantics).
func Push(ctx context.Context, client *http.Client, gatewayURL, job string, s Snapshot) error {
	p := push.New(gatewayURL, job).Client(client).Gatherer(Registry(s))
	if s.Success {
		return p.PushContext(ctx)
	}
	return p.AddContext(ctx)
}

// WriteFile writes s in the text exposition format for node_exporter's
// textfile collector, atomically (the collector must never read half a file).
func WriteFile(path string, s Snapshot) error {
	families, err := Registry(s).Gather()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("DCRCTL_METRICS_FILE: %w", err)
	}
	return nil
}
