package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// mutation is what every changing command shares: plan, confirm, apply.
type mutation struct {
	yes, dryRun bool
	output      string
	planOut     string
}

func (m *mutation) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&m.yes, "yes", "y", false, "apply without asking (for scripts)")
	cmd.Flags().BoolVar(&m.dryRun, "dry-run", false, "print the plan; change nothing")
	cmd.Flags().StringVarP(&m.output, "output", "o", "text", "text, json or yaml")
	cmd.Flags().StringVar(&m.planOut, "plan-out", "", "write the plan to `FILE` for `dcrctl apply FILE` (a change ticket); change nothing")
}

// mutate shows the plan for opts, asks on a terminal (unless --yes), and
// applies exactly that plan: the apply passes the plan's basis, and a client
// that changed in between is refused (exit 79) with the new plan shown.
func (a *App) mutate(cmd *cobra.Command, m *mutation, opts engine.Options) error {
	if err := outputFormat(m.output, "text", "json", "yaml"); err != nil {
		return err
	}
	e, err := a.Engine()
	if err != nil {
		return err
	}
	planOpts := opts
	planOpts.DryRun = true
	plan, err := e.Bootstrap(cmd.Context(), planOpts)
	if err != nil {
		return err
	}
	if m.planOut != "" {
		if err := writePlanFile(m.planOut, cmd, a.cfg.StatePath, opts, plan); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "plan written to %s; nothing changed. Apply it with: dcrctl apply %s\n", m.planOut, m.planOut)
		return a.print(m.output, plan, plan.String())
	}
	if m.dryRun {
		return a.print(m.output, plan, plan.String())
	}
	if !m.yes {
		if !a.stdinIsTerminal() {
			fmt.Fprint(a.textErr(), plan.String())
			return usageError{errors.New("refusing to change the client without confirmation: stdin is not a terminal; pass --yes to apply, or --dry-run to only plan")}
		}
		fmt.Fprint(a.textErr(), plan.String())
		if len(plan.Steps) == 0 && plan.JWKS == nil {
			fmt.Fprintln(a.Stderr, "nothing to change")
			return nil
		}
		fmt.Fprint(a.Stderr, "apply this plan? [y/N] ")
		answer, _ := bufio.NewReader(a.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return declinedError{}
		}
		opts.Expect = plan.Basis // apply what was confirmed, or nothing
	}
	return a.apply(cmd, m.output, opts)
}

// apply runs opts for real. A stale plan (StalePlanError) prints the plan as
// it would be now, so that the operator can review it and run again.
func (a *App) apply(cmd *cobra.Command, output string, opts engine.Options) error {
	e, err := a.Engine()
	if err != nil {
		return err
	}
	report, err := e.Bootstrap(cmd.Context(), opts)
	a.completed(report)
	var stale *engine.StalePlanError
	if errors.As(err, &stale) {
		planOpts := opts
		planOpts.DryRun, planOpts.Expect = true, nil
		if plan, planErr := e.Bootstrap(cmd.Context(), planOpts); planErr == nil {
			fmt.Fprintf(a.textErr(), "the plan as it would be now:\n%s", plan.String())
		}
		return err
	}
	if err != nil {
		return err
	}
	return a.print(output, report, report.String())
}

// mutationCmd is a changing command: the engine options its arguments ask
// for, planned, confirmed and applied by mutate, with --yes, --dry-run and -o.
func (a *App) mutationCmd(use, short string, args cobra.PositionalArgs, options func(args []string) engine.Options) *cobra.Command {
	var m mutation
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := options(args)
			opts.Command = strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			return a.mutate(cmd, &m, opts)
		},
	}
	m.flags(cmd)
	return cmd
}

// declinedError: the operator answered no. Nothing failed, so nothing is
// logged as an error; the exit code is still 1, so that `dcrctl keys rotate
// && restart` does not go on.
type declinedError struct{}

func (declinedError) Error() string { return "cancelled; nothing changed" }

func (a *App) stdinIsTerminal() bool {
	_, ok := a.stdinTerminal()
	return ok
}

func (a *App) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "List, rotate and retire the client's signing keys"}
	var listOutput string
	list := &cobra.Command{
		Use:   "list",
		Short: "Every key with kid, alg, use, created_at, age and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.status(cmd)
			if err != nil {
				return err
			}
			return a.printResult(listOutput, st.Keys, func(w io.Writer) { writeKeysTable(w, st) })
		},
	}
	outputFlag(list, &listOutput, "table")

	rotate := a.mutationCmd("rotate", "Publish a new key and make it the signing key, whatever the active key's age", cobra.NoArgs,
		func([]string) engine.Options { return engine.Options{Rotate: true} })
	// A kid may start with "-" (an older thumbprint, or one set by hand):
	// `dcrctl keys retire -- -Zx…` takes it after "--".
	retire := a.mutationCmd("retire [--] KID", "Unpublish a key (never the active one), or discard the next key; put the kid after -- if it starts with -", cobra.ExactArgs(1),
		func(args []string) engine.Options { return engine.Options{Retire: args[0]} })
	retire.ValidArgsFunction = a.completeKIDs
	cmd.AddCommand(list, rotate, retire)
	return cmd
}

func (a *App) jwksCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "jwks",
		Short: "Print the public JWKS as the IdP publishes it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.status(cmd)
			if err != nil {
				return err
			}
			if st.RAT.Health == engine.RATNone {
				// Nothing to read at the IdP: what dcrctl registered.
				e, err := a.Engine()
				if err != nil {
					return err
				}
				set, err := e.LocalJWKS(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintln(a.Stderr, "dcrctl: this IdP offers no RFC 7592 management; these are the public keys dcrctl holds and registered")
				return writeJSON(a.Stdout, set)
			}
			if st.RAT.Health != engine.RATValid && st.RAT.Health != engine.RATDocument {
				return fmt.Errorf("cannot read the client from the IdP: RAT %s: %s", st.RAT.Health, st.RAT.Error)
			}
			jwks, ok := st.Metadata["jwks"]
			if !ok {
				jwks = map[string]any{"keys": []any{}}
			}
			return writeJSON(a.Stdout, jwks)
		},
	}
}

func (a *App) ratCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rat", Short: "Manage the registration access token"}
	var fromStdin bool
	var token string // for this run only: never saved, logged or shown
	renew := a.mutationCmd("renew", "Get a new registration access token with BOOTSTRAP_ADMIN_TOKEN (asked for on a terminal when unset)", cobra.NoArgs,
		func([]string) engine.Options { return engine.Options{RenewRAT: true, AdminToken: token} })
	renew.Flags().BoolVar(&fromStdin, "admin-token-stdin", false, "read the bootstrap admin token from standard input (one line; needs --yes or --dry-run)")
	renew.PreRunE = func(*cobra.Command, []string) error {
		cfg, err := a.Config()
		if err != nil {
			return err
		}
		switch {
		case fromStdin:
			token, err = readSecretLine(a.Stdin)
			if err != nil {
				return usageError{fmt.Errorf("--admin-token-stdin: %w", err)}
			}
		case cfg.AdminToken == "" && cfg.HasRecovery() && a.stdinIsTerminal():
			// Typed, not put on a command line or in shell history.
			fmt.Fprint(a.Stderr, "bootstrap admin token (not shown): ")
			in, _ := a.stdinTerminal()
			raw, err := term.ReadPassword(int(in.Fd()))
			fmt.Fprintln(a.Stderr)
			if err != nil {
				return fmt.Errorf("reading the admin token: %w", err)
			}
			token = strings.TrimSpace(string(raw))
		}
		a.redactor.Add(token)
		return nil
	}
	cmd.AddCommand(renew)
	return cmd
}

// readSecretLine reads one line (a token) from r.
func readSecretLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("standard input held no token")
	}
	return line, nil
}

func (a *App) registerCmd() *cobra.Command {
	var force bool
	cmd := a.mutationCmd("register", "Register the client (with --force: delete the registration and register again)", cobra.NoArgs,
		func([]string) engine.Options { return engine.Options{Force: force} })
	cmd.Flags().BoolVar(&force, "force", false, "re-register even when the client is registered")
	return cmd
}

// migrateCmd moves the registered client to a Client ID Metadata Document.
func (a *App) migrateCmd() *cobra.Command {
	return a.mutationCmd("migrate", "Move the registered client to a Client ID Metadata Document at DCRCTL_CLIENT_ID_URL: write it, prove a token with it at the AS, delete the registration (RFC 7592) or record it as abandoned, then switch", cobra.NoArgs,
		func([]string) engine.Options { return engine.Options{MigrateToDocument: true} })
}

func (a *App) status(cmd *cobra.Command) (*engine.Status, error) {
	e, err := a.Engine()
	if err != nil {
		return nil, err
	}
	return e.Status(cmd.Context())
}
