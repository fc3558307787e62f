package cli

import (
	"fmt"
	"io"
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
			e, err := a.Engine()
			if err != nil {
				return err
			}
			checks := e.Doctor(cmd.Context())
			if err := a.printResult(output, checks, func(w io.Writer) { writeChecks(w, checks, !utf8Locale(os.Getenv)) }); err != nil {
				return err
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
	outputFlag(cmd, &output, "table")
	return cmd
}

func writeChecks(w io.Writer, checks []engine.Check, ascii bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
