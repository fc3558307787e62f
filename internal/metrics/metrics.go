// Package metrics pushes the bootstrap outcome to a Prometheus Pushgateway,
// as the helper dcrctl replaces did: bff_dcr_status{status="success"} 1.
package metrics

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

// PushStatus replaces the job's group with one sample of bff_dcr_status.
// Only the outcome and the client_id label leave the process, never a secret.
func PushStatus(ctx context.Context, client *http.Client, gatewayURL, job string, success bool) error {
	status := "failure"
	if success {
		status = "success"
	}
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bff_dcr_status",
		Help: "Outcome of the last dcrctl bootstrap: 1 for the status label that applies.",
	}, []string{"status"})
	gauge.WithLabelValues(status).Set(1)
	return push.New(gatewayURL, job).Client(client).Collector(gauge).PushContext(ctx)
}
