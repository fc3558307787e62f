package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// outputFlag registers -o on cmd: human (the form for a person, "table" or
// "text"), json or yaml, checked before the command runs (exit 64).
func outputFlag(cmd *cobra.Command, dest *string, human string) {
	cmd.Flags().StringVarP(dest, "output", "o", human, human+", json or yaml")
	next := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if err := outputFormat(*dest, human, "json", "yaml"); err != nil {
			return err
		}
		if next != nil {
			return next(c, args)
		}
		return nil
	}
}

// printResult is the one printer of data commands: v as JSON or YAML (the
// documented field names), or written for a person by human, through the
// writer that escapes what came from the IdP.
func (a *App) printResult(format string, v any, human func(w io.Writer)) error {
	if format == "json" || format == "yaml" {
		return writeData(a.Stdout, format, v)
	}
	human(a.text())
	return nil
}
