package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/audit"
)

func (a *App) historyCmd() *cobra.Command {
	var output string
	var last int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "The audit trail: every change dcrctl applied (bootstrap, commands, the TUI), oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			entries, err := e.History(last)
			if err != nil {
				return err
			}
			if entries == nil {
				entries = []audit.Entry{}
			}
			return a.printResult(output, entries, func(w io.Writer) {
				if len(entries) == 0 {
					fmt.Fprintf(w, "no changes recorded in %s\n", e.Cfg.AuditPath())
					return
				}
				writeHistoryTable(w, entries)
			})
		},
	}
	outputFlag(cmd, &output, "table")
	cmd.Flags().IntVarP(&last, "last", "n", 20, "show the last N changes (0: all)")
	return cmd
}

func writeHistoryTable(w io.Writer, entries []audit.Entry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCOMMAND\tOUTCOME\tCLIENT\tKEYS\tRAT\tBY")
	for _, e := range entries {
		client := or(e.After.ClientID, "-")
		if e.Before.ClientID != e.After.ClientID && e.Before.ClientID != "" {
			client = e.Before.ClientID + " -> " + client
		}
		var kids []string
		for _, k := range e.KIDsAdded {
			kids = append(kids, "+"+k)
		}
		for _, k := range e.KIDsDropped {
			kids = append(kids, "-"+k)
		}
		rat := "same"
		if e.Before.RAT != e.After.RAT {
			rat = or(e.Before.RAT, "none") + " -> " + or(e.After.RAT, "none")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s@%s\n", e.Time.Format(time.RFC3339), e.Command, e.Outcome, client,
			or(strings.Join(kids, " "), "-"), rat, e.User, e.Host)
	}
	tw.Flush()
}
