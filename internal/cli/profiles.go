package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/config"
)

// profileHealth is one line of `dcrctl profiles`.
type profileHealth struct {
	Profile  string `json:"profile"`
	IdP      string `json:"idp,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	RAT      string `json:"registration_access_token"`
	Health   string `json:"health"` // "healthy", or the status --exit-code finding
	Error    string `json:"error,omitempty"`
}

func (a *App) profilesCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "List the config file's profiles (named clients) with their health (one status read each)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.file == nil {
				return usageError{fmt.Errorf("profiles live in a config file: give one with --config or DCRCTL_CONFIG")}
			}
			var out []profileHealth
			for _, name := range config.ProfileNames(a.file) {
				out = append(out, a.profileHealth(cmd, name))
			}
			if out == nil {
				out = []profileHealth{}
			}
			return a.printResult(output, out, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PROFILE\tIDP\tCLIENT\tRAT\tHEALTH")
				for _, p := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Profile, or(p.IdP, "-"), or(p.ClientID, "-"), or(p.RAT, "-"), or(p.Error, p.Health))
				}
				tw.Flush()
			})
		},
	}
	outputFlag(cmd, &output, "table")
	return cmd
}

// profileHealth reads one profile's status with its own configuration.
func (a *App) profileHealth(cmd *cobra.Command, name string) profileHealth {
	p := profileHealth{Profile: name}
	v := config.New()
	v.SetConfigFile(a.configFile)
	if err := v.ReadInConfig(); err != nil {
		p.Error = err.Error()
		return p
	}
	if err := config.UseProfile(v, a.file, name, "profile "+name); err != nil {
		p.Error = err.Error()
		return p
	}
	cfg, err := config.Load(v)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	a.redactor.Add(cfg.Secrets()...)
	e, err := a.newEngine(cfg)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	st, err := e.Status(cmd.Context())
	if err != nil {
		p.Error = a.redactor.Redact(err.Error())
		return p
	}
	p.IdP, p.ClientID, p.RAT, p.Health = st.IdP, st.ClientID, st.RAT.Health, "healthy"
	if herr := healthOf(st); herr != nil {
		p.Health = herr.Error()
	}
	return p
}
