package cli

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/state"
)

// exitCodeHelp is the exit code table `--help` shows (README: Exit codes).
var exitCodeHelp = []struct {
	code int
	what string
}{
	{ExitOK, "ready, or skipped"},
	{ExitError, "any other error; a declined prompt; doctor found a problem"},
	{HealthRATRejected, "status --exit-code: RAT rejected, client gone or not registered"},
	{HealthUnreachable, "status --exit-code: the IdP was not read"},
	{HealthExpired, "status --exit-code: a key past retirement still published"},
	{HealthDrift, "status --exit-code: the registration drifted from the configuration"},
	{HealthDue, "status --exit-code: rotation due"},
	{ExitUsage, "bad command line; an action refused (one the IdP offers no RFC 7592 management for, too)"},
	{ExitDataErr, "unusable IdP answer, refused update or registration, corrupt state, bad or weak PEM, a metadata document an AS would refuse"},
	{ExitNoInput, "an operator action on a state that holds no client"},
	{ExitUnavailable, "IdP unreachable until DCRCTL_RETRY_DEADLINE"},
	{ExitCantCreate, "the state cannot be written or read (BFF_CLIENT_CRED_PATH)"},
	{ExitTempFail, "state lock (or the Kubernetes Lease) not acquired in DCRCTL_LOCK_TIMEOUT"},
	{ExitNoPerm, "the IdP rejected the RAT (unrecovered), the IAT, or the key's token request"},
	{ExitConfig, "configuration error"},
	{ExitStalePlan, "the client changed between a plan and its application"},
	{130, "interrupted by SIGINT (after the request in flight was saved)"},
	{143, "interrupted by SIGTERM (after the request in flight was saved)"},
}

// rootHelp is dcrctl's long help: what it is, its exit codes and its
// environment variables.
func rootHelp() string {
	var b strings.Builder
	b.WriteString("Register and maintain a private_key_jwt OAuth client at its IdP (RFC 7591/7592).\n")
	b.WriteString("On a terminal without a command, the TUI. See README.md for the whole contract.\n\nExit codes:\n")
	for _, e := range exitCodeHelp {
		fmt.Fprintf(&b, "  %3d  %s\n", e.code, e.what)
	}
	b.WriteString("\nEnvironment (every secret also as NAME_FILE; `dcrctl config` shows the effective values):\n")
	for _, s := range config.Settings {
		line := "  " + strings.Join(s.Env, ", ")
		if s.Default != "" {
			line += " (default " + s.Default + ")"
		}
		if s.Help != "" {
			line += ": " + s.Help
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// outputValues reads the allowed -o values from the flag's usage
// ("table, json or yaml").
var outputValues = regexp.MustCompile(`[a-z]+`)

// completeOutputs completes -o on every command from its usage, and the kid
// of `keys retire` from the state file.
func completeOutputs(cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("output"); f != nil {
		values := outputValues.FindAllString(strings.ReplaceAll(f.Usage, " or ", ", "), -1)
		cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		})
	}
	for _, sub := range cmd.Commands() {
		completeOutputs(sub)
	}
}

// completeKIDs lists the kids the state file records, for `keys retire`.
func (a *App) completeKIDs(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, err := a.Config()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	st, err := state.Load(cfg.StatePath)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var kids []string
	for _, k := range st.Keys {
		kids = append(kids, k.KID)
	}
	return kids, cobra.ShellCompDirectiveNoFileComp
}
