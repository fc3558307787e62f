package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/metrics"
)

// exitCodeError ends dcrctl with a given code: `dcrctl run` exits with its
// child's.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string {
	return fmt.Sprintf("the application exited with code %d", e.code)
}

// maintainer keeps the registration healthy while the application runs:
// bootstrap on a schedule, retried with backoff, its health served.
type maintainer struct {
	a        *App
	e        *engine.Engine
	interval time.Duration

	mu      sync.Mutex
	lastErr error
	lastRun time.Time
	// What /metrics keeps across a failed maintenance, as the Pushgateway
	// does (README, Monitoring: the same series through every channel).
	lastSuccess time.Time
	ratHealthy  *bool
	active      string    // the active kid after the last run
	child       *exec.Cmd // the supervised application, once started
}

func (a *App) runCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run [-- COMMAND ARGS...]",
		Short: "Bootstrap, then keep the registration healthy while the application runs (as its supervisor, or alone as a sidecar)",
		Long: `Bootstrap, then start COMMAND (if given) and stay as a light supervisor: signals are
forwarded to it and dcrctl exits with its code. Maintenance runs again every
DCRCTL_CHECK_INTERVAL (with jitter), finishes a promotion once DCRCTL_ACTIVATE_AFTER
has passed, and when the active key changes writes the PEM and kid and tells the
application (DCRCTL_ON_KEY_CHANGE). Health and metrics on DCRCTL_LISTEN:
/healthz, /readyz, /metrics. A failed maintenance never stops the application:
it is retried with backoff and shows in readiness and metrics.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			// Small heap headroom: a long-running supervisor should stay
			// light next to the application (README: Long-running services).
			debug.SetGCPercent(25)
			m := &maintainer{a: a, e: e, interval: e.Cfg.CheckInterval}
			// The first bootstrap must succeed: without it the application
			// has no client and no key (the orchestrator restarts us).
			if err := m.maintain(cmd.Context()); err != nil {
				return err
			}
			stopHTTP, err := m.serve(e.Cfg.Listen)
			if err != nil {
				return err
			}
			defer stopHTTP()
			if len(args) == 0 {
				m.loop(cmd.Context()) // a sidecar: until a signal
				return nil
			}
			return m.supervise(cmd.Context(), args)
		},
	}
}

// fleetFreshness is how recent another replica's verification must be for
// a maintenance to skip its read: where replicas share the state
// (DCRCTL_FRESH_FOR > 0), three quarters of the check interval, so that
// across the fleet one replica reads per interval, not every one.
func fleetFreshness(freshFor, interval time.Duration) time.Duration {
	if freshFor <= 0 {
		return 0
	}
	return max(freshFor, interval*3/4)
}

// maintain is one bootstrap; a changed active key is announced.
func (m *maintainer) maintain(ctx context.Context) error {
	report, err := m.e.Bootstrap(ctx, engine.Options{Command: "run", FreshFor: fleetFreshness(m.e.Cfg.FreshFor, m.interval)})
	m.a.completed(report)
	m.a.reportMetrics(ctx, m.e.Cfg, err)
	m.mu.Lock()
	before := m.active
	m.lastErr, m.lastRun = err, time.Now()
	if err == nil && report != nil {
		m.active = report.ActiveKID
	}
	if err == nil {
		m.lastSuccess = m.lastRun
	}
	if h := m.e.MetricsSnapshot(err).RATHealthy; h != nil {
		m.ratHealthy = h // known after a success or a rejected RAT; else the last known
	}
	after := m.active
	m.mu.Unlock()
	if err != nil {
		m.a.log.Error("maintenance failed; the application keeps running, retrying with backoff", "err", m.a.redactor.Redact(err.Error()))
		return err
	}
	if before != "" && after != before {
		m.a.log.Info("the active key changed", "kid", after, "was", before)
		m.keyChanged(after)
	}
	return nil
}

// next is the wait before the following maintenance: the interval with
// ±10% jitter (a fleet does not hit the IdP at once), or a backoff after a
// failure (1 min doubling, capped at the interval).
func next(interval time.Duration, failures int) time.Duration {
	if failures > 0 {
		return min(interval, time.Minute<<min(failures-1, 10))
	}
	jitter := time.Duration(rand.Int64N(int64(interval)/5+1)) - interval/10
	return interval + jitter
}

// loop runs maintenance until ctx ends.
func (m *maintainer) loop(ctx context.Context) {
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(next(m.interval, failures)):
		}
		if m.maintain(ctx) != nil {
			failures++
		} else {
			failures = 0
		}
	}
}

// supervise starts the application, forwards signals to it, keeps
// maintaining, and returns its exit code.
func (m *maintainer) supervise(ctx context.Context, args []string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, m.a.Stdout, m.a.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	m.mu.Lock()
	m.child = cmd
	m.mu.Unlock()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(signals)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	loopCtx, stopLoop := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoop()
	loopDone := make(chan struct{})
	go func() { m.loop(loopCtx); close(loopDone) }()
	for {
		select {
		case sig := <-signals:
			cmd.Process.Signal(sig) // the application decides how to stop
		case err := <-exited:
			// A maintenance under way finishes first: a request that may
			// rotate the RAT is never abandoned.
			stopLoop()
			<-loopDone
			// The application's exit is ours, not an interruption.
			m.a.interrupt.mu.Lock()
			m.a.interrupt.signal = 0
			m.a.interrupt.mu.Unlock()
			var ee *exec.ExitError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ee) && ee.ExitCode() >= 0:
				return exitCodeError{ee.ExitCode()}
			case errors.As(err, &ee):
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return exitCodeError{128 + int(ws.Signal())}
				}
			}
			return err
		}
	}
}

// keyChanged tells the application: DCRCTL_ON_KEY_CHANGE is a signal for
// the child ("SIGHUP", "signal:SIGUSR1") or a shell command, run with
// DCRCTL_ACTIVE_KID set.
func (m *maintainer) keyChanged(kid string) {
	hook := strings.TrimSpace(m.e.Cfg.OnKeyChange)
	if hook == "" {
		return
	}
	if sig, ok := signalNamed(strings.TrimPrefix(hook, "signal:")); ok {
		m.mu.Lock()
		c := m.child
		m.mu.Unlock()
		if c != nil && c.Process != nil {
			c.Process.Signal(sig)
		}
		return
	}
	cmd := exec.Command("sh", "-c", hook)
	cmd.Env = append(os.Environ(), "DCRCTL_ACTIVE_KID="+kid)
	cmd.Stdout, cmd.Stderr = m.a.Stderr, m.a.Stderr
	if err := cmd.Run(); err != nil {
		m.a.log.Warn("DCRCTL_ON_KEY_CHANGE command failed", "err", err)
	}
}

func signalNamed(name string) (syscall.Signal, bool) {
	s, ok := map[string]syscall.Signal{"SIGHUP": syscall.SIGHUP, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
		"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT}[strings.ToUpper(name)]
	return s, ok
}

// serve answers /healthz, /readyz and /metrics on addr ("" = off).
func (m *maintainer) serve(addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("DCRCTL_LISTEN %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	if cfg := m.e.Cfg; cfg.DocPath != "" {
		mux.Handle("GET "+cfg.DocPath, documentHandler(cfg.ClientDocFile, cfg.DocCache))
	}
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		m.mu.Lock()
		err, at := m.lastErr, m.lastRun
		m.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "last maintenance at %s failed: %s\n", at.Format(time.RFC3339), m.a.redactor.Redact(err.Error()))
			return
		}
		fmt.Fprintf(w, "ok: last maintenance at %s\n", at.Format(time.RFC3339))
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		err, lastSuccess, ratHealthy := m.lastErr, m.lastSuccess, m.ratHealthy
		m.mu.Unlock()
		snap := m.e.MetricsSnapshot(err)
		snap.LastSuccess = lastSuccess // zero until a maintenance succeeded
		if snap.RATHealthy == nil {
			snap.RATHealthy = ratHealthy
		}
		reg := metrics.Registry(snap)
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	m.a.log.Info("health and metrics", "listen", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// documentHandler serves the client metadata document as written last, for
// deployments without another static host: 200 with the file (read on each
// request, so a rotation shows at once), Cache-Control max-age
// DCRCTL_DOC_CACHE (the wait a new key observes before it signs), a strong
// ETag for conditional requests, and never a redirect (an AS follows none).
func documentHandler(file string, maxAge time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := os.ReadFile(file)
		if err != nil {
			http.Error(w, "no client metadata document yet", http.StatusServiceUnavailable)
			return
		}
		sum := sha256.Sum256(data)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", int(maxAge.Seconds())))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
	})
}
