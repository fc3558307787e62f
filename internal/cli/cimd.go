package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/cimd"
	"github.com/dcrctl/dcrctl/internal/idp"
)

// lintFailedError: the document has problems an AS would refuse it for.
// Exit 65 (bad data).
type lintFailedError struct{ n int }

func (e lintFailedError) Error() string {
	return fmt.Sprintf("%d problem(s) an authorization server would refuse the document for", e.n)
}

// cimdCmd groups the Client ID Metadata Document commands.
func (a *App) cimdCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cimd", Short: "Client ID Metadata Documents: check a document as an authorization server would"}
	var clientID, output string
	lint := &cobra.Command{
		Use:   "lint FILE|URL",
		Short: "Check a client metadata document (a file, or fetched from its https URL as an AS fetches it: 200 only, no redirect, 5 KB) against what an AS refuses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			source := args[0]
			var data []byte
			var err error
			if strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://") {
				if clientID == "" {
					clientID = source // served there, it is its own client_id
				}
				cfg, cfgErr := a.Config()
				if cfgErr != nil {
					return cfgErr
				}
				client, httpErr := idp.NewHTTPClient(cfg.Timeout, cfg.CAFile)
				if httpErr != nil {
					return httpErr
				}
				data, err = cimd.Fetch(cmd.Context(), client, source)
			} else {
				data, err = os.ReadFile(source)
			}
			if err != nil {
				return err
			}
			if clientID == "" {
				return usageError{errors.New("--client-id: the URL the document is served at is required to lint a file")}
			}
			problems := cimd.Lint(data, clientID)
			if problems == nil {
				problems = []cimd.Problem{}
			}
			err = a.printResult(output, problems, func(w io.Writer) {
				if len(problems) == 0 {
					fmt.Fprintf(w, "ok: an authorization server would accept this document for client_id %s\n", clientID)
				}
				for _, p := range problems {
					fmt.Fprintf(w, "problem: %s\n", p)
				}
			})
			if err == nil && len(problems) > 0 {
				return lintFailedError{len(problems)}
			}
			return err
		},
	}
	lint.Flags().StringVar(&clientID, "client-id", "", "the `URL` the document is served at (its client_id); default: the URL linted")
	outputFlag(lint, &output, "text")
	cmd.AddCommand(lint)
	return cmd
}
