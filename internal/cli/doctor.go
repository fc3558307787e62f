package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// checksFailedError: doctor found a problem. Exit 1; the table says which.
type checksFailedError struct{ failed int }

func (e checksFailedError) Error() string {
	return fmt.Sprintf("%d check(s) failed; each says how to fix it", e.failed)
}

func (a *App) doctorCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Read-only checks of everything a run depends on, each with what was found and the fix (exit 1 when any fails)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFormat(output, "table", "json", "yaml"); err != nil {
				return err
			}
			e, err := a.Engine()
			if err != nil {
				return err
			}
			checks := e.Doctor(cmd.Context())
			if output != "table" {
				if err := writeData(a.Stdout, output, checks); err != nil {
					return err
				}
			} else {
				writeChecks(a, checks, !utf8Locale(os.Getenv))
			}
			failed := 0
			for _, c := range checks {
				if !c.OK {
					failed++
				}
			}
			if failed > 0 {
				return checksFailedError{failed}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	return cmd
}

func writeChecks(a *App, checks []engine.Check, ascii bool) {
	tw := tabwriter.NewWriter(a.text(), 0, 4, 2, ' ', 0)
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", checkMark(c, ascii), c.Name, c.Found)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(tw, "\t\tfix: %s\n", c.Fix)
		}
	}
	tw.Flush()
}

// checkMark is ✓, ✗ or – (ok, FAIL, skip in ASCII).
func checkMark(c engine.Check, ascii bool) string {
	switch {
	case c.Skipped && ascii:
		return "skip"
	case c.Skipped:
		return "–"
	case c.OK && ascii:
		return "ok"
	case c.OK:
		return "✓"
	case ascii:
		return "FAIL"
	}
	return "✗"
}
