package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/metrics"
)

func (a *App) bootstrapCmd() *cobra.Command {
	var (
		dryRun, force bool
		output        string
	)
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Register or maintain the client: idempotent, headless, for container entrypoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			if !cfg.Enabled || cfg.Skip {
				a.log.Info("DCR bootstrap skipped", "DCR_ENABLED", cfg.Enabled, "SKIP_DCR_BOOTSTRAP", cfg.Skip)
				return nil
			}
			e, err := a.Engine()
			if err != nil {
				return err
			}
			report, runErr := e.Bootstrap(cmd.Context(), engine.Options{DryRun: dryRun, Force: force, Command: "bootstrap"})
			a.completed(report)
			if report != nil && (dryRun || runErr == nil) {
				if err := a.print(output, report, report.String()); err != nil {
					return err
				}
			}
			if !dryRun {
				a.reportMetrics(cmd.Context(), cfg, runErr)
			}
			if runErr == nil && report != nil {
				a.log.Info("bootstrap done", "outcome", report.Outcome, "client_id", report.ClientID, "active_kid", report.ActiveKID)
			}
			return runErr
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan; change nothing")
	cmd.Flags().BoolVar(&force, "force", false, "re-register (like DCR_FORCE_REPLACE=true)")
	outputFlag(cmd, &output, "text")
	return cmd
}

// reportMetrics pushes the outcome to the Pushgateway and writes the
// textfile (DCRCTL_METRICS_FILE); a failure of either is logged, never fatal.
func (a *App) reportMetrics(ctx context.Context, cfg *config.Config, runErr error) {
	if cfg.PushgatewayURL == "" && cfg.MetricsFile == "" {
		return
	}
	e, err := a.Engine()
	if err != nil {
		return
	}
	snap := e.MetricsSnapshot(runErr)
	if cfg.MetricsFile != "" {
		if err := metrics.WriteFile(cfg.MetricsFile, snap); err != nil {
			a.log.Warn("metrics file not written; bootstrap outcome unaffected", "err", err)
		}
	}
	if cfg.PushgatewayURL == "" {
		return
	}
	// A signal may have ended the run: the push still goes, bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
	defer cancel()
	if err := metrics.Push(ctx, e.IdP.HTTP, cfg.PushgatewayURL, cfg.PushgatewayJob, snap); err != nil {
		shown := cfg.PushgatewayURL
		if u, perr := url.Parse(shown); perr == nil {
			shown = u.Redacted() // a password in the URL stays out of the log
		}
		a.log.Warn("pushgateway push failed; bootstrap outcome unaffected", "url", shown, "err", a.redactor.Redact(err.Error()))
	}
}

func (a *App) statusCmd() *cobra.Command {
	var output string
	var exitCode bool
	var watch time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the client, the health of its registration access token, and each key's age and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for {
				st, err := a.status(cmd)
				if err != nil {
					return err
				}
				if output != "table" {
					err = writeData(a.Stdout, output, st)
				} else {
					if watch > 0 {
						fmt.Fprintf(a.Stdout, "--- %s\n", time.Now().Format(time.RFC3339))
					}
					writeStatusTable(a.text(), st)
				}
				if err != nil {
					return err
				}
				if watch <= 0 {
					if exitCode {
						return healthOf(st)
					}
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(watch):
				}
			}
		},
	}
	outputFlag(cmd, &output, "table")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit with the health's code (0 healthy; see README: Monitoring) for cron and monitoring checks")
	cmd.Flags().DurationVar(&watch, "watch", 0, "show the status again every `INTERVAL` (e.g. 30s) until interrupted")
	return cmd
}

func writeStatusTable(w io.Writer, st *engine.Status) {
	rat := st.RAT.Health
	if st.RAT.HTTPStatus != 0 {
		rat += fmt.Sprintf(" (HTTP %d)", st.RAT.HTTPStatus)
	}
	if st.RAT.Fingerprint != "" {
		rat += " " + st.RAT.Fingerprint
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"IdP", st.IdP},
		{"client_id", or(st.ClientID, "(not registered)")},
		{"name", or(st.ClientName, "-")},
		{"auth method", or(st.AuthMethod, "-")},
		{"redirect URIs", or(strings.Join(st.RedirectURIs, " "), "-")},
		{"client URI", or(st.ClientURI, "-")},
		{"management", or(st.Management, "-")},
		{"RAT", rat},
		{"thresholds", fmt.Sprintf("rotate after %d days, retire after %d days", st.RotateAfterDays, st.RetireAfterDays)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	tw.Flush()
	if st.RAT.Error != "" {
		fmt.Fprintf(w, "IdP said: %s\n", st.RAT.Error)
	}
	if st.RAT.Note != "" {
		fmt.Fprintf(w, "why: %s\n", st.RAT.Note)
	}
	if st.RAT.Next != "" {
		fmt.Fprintf(w, "next: %s\n", st.RAT.Next)
	}
	for _, d := range st.Drift {
		fmt.Fprintf(w, "drift: %s\n", d)
	}
	if len(st.Drift) > 0 {
		fmt.Fprintln(w, "next: dcrctl bootstrap brings the registration in line with the configuration (unless DCRCTL_RECONCILE=false)")
	}
	for _, k := range st.Keys {
		if k.SignsFrom != nil {
			fmt.Fprintf(w, "next key %s: published %s, signs from %s\n", k.KID, k.PublishedAt.Format(time.RFC3339), k.SignsFrom.Format(time.RFC3339))
		}
	}
	for _, ab := range st.AbandonedClients {
		fate := "it stays at the IdP until an administrator removes it"
		if ab.Deletable() {
			fate = "dcrctl deletes it on its next bootstrap"
		}
		fmt.Fprintf(w, "abandoned: client %s (replaced %s: %s): %s\n", ab.ClientID, ab.ReplacedAt.Format(time.RFC3339), ab.Reason, fate)
	}
	if st.Management == "none" {
		fmt.Fprintln(w, "keys: as dcrctl registered them (the IdP's copy cannot be read without RFC 7592)")
	} else if !st.JWKSCurrent && st.ClientID != "" {
		seen := "never"
		if st.JWKSSeenAt != nil {
			seen = st.JWKSSeenAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "keys: the IdP was not read; \"last-seen\" keys were published when last seen, at %s\n", seen)
	}
	fmt.Fprintln(w)
	writeKeysTable(w, st)
}

func writeKeysTable(w io.Writer, st *engine.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tUSE\tCREATED\tAGE\tRETIRES ON\tSTATE")
	for _, k := range st.Keys {
		created, age, retires := "-", "?", "-"
		if k.CreatedAt != nil {
			created = k.CreatedAt.Format(time.RFC3339)
			age = fmt.Sprintf("%dd", *k.AgeDays)
		}
		if k.RetiresOn != nil {
			retires = k.RetiresOn.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, or(k.Alg, "-"), or(k.Use, "-"), created, age, retires, strings.Join(k.States, ","))
	}
	tw.Flush()
}

func (a *App) configCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (secrets as fingerprints) and where each value came from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if key, bound := flagKeys[f.Name]; bound {
					flags[key] = "--" + f.Name
				}
			})
			settings := config.Effective(a.viper, flags)
			if output != "table" {
				return writeData(a.Stdout, output, settings)
			}
			// Text, then whether the configuration is valid (JSON and YAML
			// carry the settings alone, above).
			tw := tabwriter.NewWriter(a.text(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tENV\tVALUE\tSOURCE")
			for _, s := range settings {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Key, s.Env, or(s.Value, "-"), s.Source)
			}
			tw.Flush()
			_, err := a.Config()
			if err != nil {
				fmt.Fprintf(a.Stdout, "\ninvalid: %v\n", err)
			}
			return err
		},
	}
	outputFlag(cmd, &output, "table")
	return cmd
}

func (a *App) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(a.Stdout, "dcrctl %s\n", versionString())
			return nil
		},
	}
}

// BuildDate is set at build time (-ldflags "-X …/cli.BuildDate=…"); else
// the commit time from the build info stands in.
var BuildDate = ""

// Commit is set at build time too; else the build info's vcs.revision.
var Commit = ""

// versionString is the version, commit, build date and Go version.
func versionString() string {
	v, commit, date := Version, or(Commit, "unknown"), BuildDate
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if Commit != "" {
					continue
				}
				commit = s.Value
				if len(commit) > 12 {
					commit = commit[:12]
				}
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			case "vcs.modified":
				if s.Value == "true" {
					commit += "-dirty"
				}
			}
		}
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s, state stores: %s)", v, commit, or(date, "unknown"), runtime.Version(), stateStores)
}

func (a *App) print(format string, v any, text string) error {
	if format != "text" {
		return writeData(a.Stdout, format, v)
	}
	_, err := io.WriteString(a.text(), text)
	return err
}

// writeData writes v as JSON or YAML. YAML goes through JSON so that both
// use the same, documented field names.
func writeData(w io.Writer, format string, v any) error {
	if format != "yaml" {
		return writeJSON(w, v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(generic); err != nil {
		return err
	}
	return enc.Close()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
