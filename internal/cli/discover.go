package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/idp"
)

// discoverCmd is MCP-style discovery (RFC 9728, then RFC 8414): given a
// protected resource, which authorization servers protect it and how a
// private_key_jwt client would be given to each. It reads only: no state,
// no credential sent.
func (a *App) discoverCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "discover RESOURCE_URL",
		Short: "Find a protected resource's authorization servers (RFC 9728) and say, for each, whether to use a Client ID Metadata Document or RFC 7591 registration",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			httpClient, err := idp.NewHTTPClient(cfg.Timeout, cfg.CAFile)
			if err != nil {
				return err
			}
			client := &idp.Client{HTTP: httpClient, RetryDeadline: cfg.RetryDeadline, Log: a.log, Redactor: a.redactor}
			rep, err := client.DiscoverResource(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printResult(output, rep, func(w io.Writer) { writeResourceReport(w, rep) })
		},
	}
	outputFlag(cmd, &output, "table")
	return cmd
}

func writeResourceReport(w io.Writer, rep *idp.ResourceReport) {
	fmt.Fprintf(w, "resource:  %s\nmetadata:  %s (found by %s)\n\n", rep.Resource, rep.MetadataURL, rep.How)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AUTHORIZATION SERVER\tCIMD\tRFC 7591\tPRIVATE_KEY_JWT\tCHOICE")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, as := range rep.AuthorizationServers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", as.Issuer, yes(as.CIMD), yes(as.RegistrationEndpoint != ""), yes(as.PrivateKeyJWT), as.Choice)
	}
	tw.Flush()
	for _, as := range rep.AuthorizationServers {
		fmt.Fprintf(w, "%s: %s\n", as.Issuer, as.Why)
	}
}
