package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/engine"
)

// planFileVersion is the plan file format; apply refuses any other.
const planFileVersion = 1

// planFile is a plan written by --plan-out for `dcrctl apply FILE` later
// (a change ticket). It holds fingerprints, never a secret.
type planFile struct {
	Version   int            `json:"dcrctl_plan"`
	Command   string         `json:"command"`
	StateFile string         `json:"state_file"`
	CreatedAt time.Time      `json:"created_at"`
	Options   planOptions    `json:"options"`
	Plan      *engine.Report `json:"plan"`
}

// planOptions are the operator's choices the plan was made with.
type planOptions struct {
	Rotate   bool   `json:"rotate,omitempty"`
	Migrate  bool   `json:"migrate_to_document,omitempty"`
	Retire   string `json:"retire,omitempty"`
	RenewRAT bool   `json:"renew_rat,omitempty"`
	Force    bool   `json:"force,omitempty"`
}

func writePlanFile(path string, cmd *cobra.Command, statePath string, opts engine.Options, plan *engine.Report) error {
	pf := planFile{
		Version:   planFileVersion,
		Command:   strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "),
		StateFile: statePath,
		CreatedAt: time.Now().UTC().Truncate(time.Second),
		Options:   planOptions{Rotate: opts.Rotate, Retire: opts.Retire, RenewRAT: opts.RenewRAT, Force: opts.Force, Migrate: opts.MigrateToDocument},
		Plan:      plan,
	}
	data, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("--plan-out: %w", err)
	}
	return nil
}

func readPlanFile(path string) (*planFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("plan file: %w", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, usageError{fmt.Errorf("plan file %s: %w", path, err)}
	}
	var pf planFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return nil, usageError{fmt.Errorf("plan file %s is not a dcrctl plan: %w", path, err)}
	}
	switch {
	case pf.Version != planFileVersion:
		return nil, usageError{fmt.Errorf("plan file %s: format %d, this dcrctl reads %d (write it with --plan-out)", path, pf.Version, planFileVersion)}
	case pf.Plan == nil || pf.Plan.Basis == nil:
		return nil, usageError{fmt.Errorf("plan file %s holds no plan basis (write it with --plan-out)", path)}
	}
	return &pf, nil
}

func (a *App) applyCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply a plan written with --plan-out, exactly as it was planned, or nothing (exit 79 if the client changed since)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pf, err := readPlanFile(args[0])
			if err != nil {
				return err
			}
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			if pf.StateFile != cfg.StatePath {
				return usageError{errors.New("plan file " + args[0] + " was made for the state file " + pf.StateFile + ", not " + cfg.StatePath + " (BFF_CLIENT_CRED_PATH)")}
			}
			fmt.Fprintf(a.textErr(), "applying the plan of `dcrctl %s` made at %s:\n%s", pf.Command, pf.CreatedAt.Format(time.RFC3339), pf.Plan.String())
			o := pf.Options
			return a.apply(cmd, output, engine.Options{Rotate: o.Rotate, Retire: o.Retire, RenewRAT: o.RenewRAT, Force: o.Force, MigrateToDocument: o.Migrate, Expect: pf.Plan.Basis,
				Command: "apply " + args[0] + " (" + pf.Command + ")"})
		},
	}
	outputFlag(cmd, &output, "text")
	// The plan file is the confirmation; --yes is accepted so that a
	// script written for the other commands works here too.
	cmd.Flags().BoolP("yes", "y", false, "accepted for symmetry: the plan file is the confirmation")
	return cmd
}
