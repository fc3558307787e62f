// Package cli is dcrctl's command line: cobra commands over the engine, the
// dependency struct they share, and the one map from errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/termsafe"
)

// Version is set at build time (-ldflags "-X github.com/dcrctl/dcrctl/internal/cli.Version=…").
var Version = "dev"

// App is the dependencies commands share, built lazily so that a command
// only pays for what it uses.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	viper      *viper.Viper
	configFile string
	file       *viper.Viper // the config file alone (its profiles), when given
	profile    string
	logFormat  string
	logLevel   string

	cfg      *config.Config
	engine   *engine.Engine
	log      *slog.Logger
	redactor *secret.Redactor

	interrupt interruption
}

// NewApp returns an App on the given streams.
func NewApp(stdin io.Reader, stdout, stderr io.Writer) *App {
	return &App{Stdin: stdin, Stdout: stdout, Stderr: stderr, viper: config.New(), redactor: &secret.Redactor{}}
}

// text is standard output for text meant for a person: control
// characters in what came from the IdP or a file are shown escaped, never
// sent to the terminal (JSON and YAML escape them themselves).
func (a *App) text() io.Writer { return termsafe.Writer{W: a.Stdout} }

// textErr is standard error for such text (plans, prompts' context).
func (a *App) textErr() io.Writer { return termsafe.Writer{W: a.Stderr} }

// Main runs dcrctl with args and returns the exit code.
func Main(args []string) int {
	app := NewApp(os.Stdin, os.Stdout, os.Stderr)
	ctx, stop := app.catchSignals(context.Background())
	defer stop()
	return app.Run(ctx, args)
}

// Run executes one command line.
func (a *App) Run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	if code, line, ok := a.interrupted(); ok {
		fmt.Fprintf(a.Stderr, "dcrctl: %s\n", line)
		if a.log != nil {
			a.log.Warn("dcrctl interrupted", "summary", line, "exit_code", code)
		}
		return code
	}
	if errors.As(err, new(exitCodeError)) {
		return ExitCode(err) // the supervised application's own exit
	}
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) && cfgErr.Missing && a.profile == "" && a.file != nil {
		if names := config.ProfileNames(a.file); len(names) > 0 {
			err = &config.Error{Name: "--profile", Problem: fmt.Sprintf("names the client to work on: %s holds the profiles %s (or set DCRCTL_PROFILE; without one, %s)",
				a.configFile, strings.Join(names, ", "), cfgErr.Error())}
		}
	}
	if err != nil {
		msg := a.redactor.Redact(err.Error())
		// An error may quote the IdP (error_description) or a file.
		fmt.Fprintf(a.Stderr, "dcrctl: %s\n", termsafe.Text(msg))
		// On a terminal the line above is the error, once; the log line is
		// for machines (JSON logs, or stderr that is not a terminal).
		if a.log != nil && !errors.As(err, new(declinedError)) && !a.humanStderr() {
			a.log.Error("dcrctl failed", "err", msg, "exit_code", ExitCode(err))
		}
	}
	return ExitCode(err)
}

func (a *App) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "dcrctl",
		Short:         "Register and maintain a private_key_jwt OAuth client at its IdP (RFC 7591/7592)",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
		// No command: the TUI on a terminal, help and exit 64 elsewhere.
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.runTUI(cmd) },
		Version: versionString(),
		Long:    rootHelp(),
	}
	root.SetVersionTemplate("dcrctl {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", os.Getenv("DCRCTL_CONFIG"), "YAML config file (env DCRCTL_CONFIG)")
	pf.StringVar(&a.profile, "profile", os.Getenv("DCRCTL_PROFILE"), "the named client in the config file's profiles (env DCRCTL_PROFILE)")
	pf.StringVar(&a.logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text, json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.String("state-file", "", "state JSON path (BFF_CLIENT_CRED_PATH)")
	pf.String("signing-key", "", "PEM path of the signing key (BFF_JWT_SIGNING_KEY)")
	pf.String("idp-base-url", "", "IdP base URL (IDP_BASE_URL)")
	for flag, key := range flagKeys {
		a.viper.BindPFlag(key, pf.Lookup(flag))
	}
	root.AddCommand(a.bootstrapCmd(), a.statusCmd(), a.keysCmd(), a.jwksCmd(), a.ratCmd(), a.registerCmd(), a.configCmd(), a.versionCmd(), a.tuiCmd(), a.applyCmd(), a.historyCmd(), a.doctorCmd(), a.profilesCmd(), a.runCmd(), a.discoverCmd(), a.cimdCmd(), a.migrateCmd())
	argsAreUsage(root)
	completeOutputs(root)
	return root
}

// RootCmd is the command tree, for generated documentation (man pages).
func (a *App) RootCmd() *cobra.Command { return a.rootCmd() }

// argsAreUsage makes every argument error (an unknown command, a missing or
// extra argument) a usage error, exit 64 as documented; a command group run
// without a subcommand (`dcrctl keys`, `dcrctl keys bogus`) is one too.
func argsAreUsage(cmd *cobra.Command) {
	validate := cmd.Args
	if validate == nil && !cmd.Runnable() {
		validate = cobra.NoArgs
		cmd.RunE = func(c *cobra.Command, _ []string) error {
			return usageError{fmt.Errorf("%s needs a subcommand: %s", c.CommandPath(), strings.Join(subcommandNames(c), ", "))}
		}
	}
	if validate != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := validate(c, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsage(sub)
	}
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		names = append(names, sub.Name())
	}
	return names
}

// flagKeys are the global flags bound to settings: flag name → setting key.
var flagKeys = map[string]string{"state-file": "state_file", "signing-key": "signing_key", "idp-base-url": "idp_base_url"}

// setup reads the config file and sets up logging; the config itself is
// validated by the commands that need it.
func (a *App) setup(cmd *cobra.Command) error {
	if a.configFile != "" {
		a.viper.SetConfigFile(a.configFile)
		if err := a.viper.ReadInConfig(); err != nil {
			return &config.Error{Name: "--config " + a.configFile, Problem: err.Error()}
		}
		file := viper.New() // the file alone: its keys, not the env's or the defaults'
		file.SetConfigFile(a.configFile)
		if err := file.ReadInConfig(); err != nil {
			return &config.Error{Name: "--config " + a.configFile, Problem: err.Error()}
		}
		if err := config.CheckFileKeys(a.configFile, file.AllKeys()); err != nil {
			return err
		}
		a.file = file
	}
	if a.profile != "" {
		if err := a.useProfile(cmd, a.profile); err != nil {
			return err
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level: %q is not a log level (debug, info, warn, error)", a.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: a.redactAttr}
	switch a.logFormat {
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.Stderr, opts))
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.Stderr, opts))
	case "auto":
		if _, ok := a.stderrTerminal(); ok {
			a.log = slog.New(slog.NewTextHandler(a.Stderr, opts))
		} else {
			a.log = slog.New(slog.NewJSONHandler(a.Stderr, opts))
		}
	default:
		return usageError{fmt.Errorf("--log-format: %q is not auto, text or json", a.logFormat)}
	}
	return nil
}

// useProfile selects a profile of the config file.
func (a *App) useProfile(cmd *cobra.Command, name string) error {
	from := "DCRCTL_PROFILE"
	if f := cmd.Flags().Lookup("profile"); f != nil && f.Changed {
		from = "--profile"
	}
	if a.file == nil {
		return &config.Error{Name: from, Problem: "names a profile, but no config file is given (--config or DCRCTL_CONFIG)"}
	}
	return config.UseProfile(a.viper, a.file, name, from)
}

// humanStderr reports whether stderr is a terminal read by a person, with
// text logs.
func (a *App) humanStderr() bool {
	_, ok := a.stderrTerminal()
	return ok && a.logFormat != "json"
}

// redactAttr is the last guard: any string logged passes the redactor.
func (a *App) redactAttr(_ []string, attr slog.Attr) slog.Attr {
	if attr.Value.Kind() == slog.KindString {
		attr.Value = slog.StringValue(a.redactor.Redact(attr.Value.String()))
	}
	return attr
}

// Config validates and returns the configuration (once).
func (a *App) Config() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := config.Load(a.viper)
	if err != nil {
		return nil, err
	}
	a.redactor.Add(cfg.Secrets()...)
	a.cfg = cfg
	return cfg, nil
}

// Engine builds the engine from the config (once).
func (a *App) Engine() (*engine.Engine, error) {
	if a.engine != nil {
		return a.engine, nil
	}
	cfg, err := a.Config()
	if err != nil {
		return nil, err
	}
	e, err := a.newEngine(cfg)
	if err != nil {
		return nil, err
	}
	a.engine = e
	return e, nil
}

// newEngine builds an engine for cfg, on this App's log and redactor.
func (a *App) newEngine(cfg *config.Config) (*engine.Engine, error) {
	httpClient, err := idp.NewHTTPClient(cfg.Timeout, cfg.CAFile)
	if err != nil {
		return nil, &config.Error{Name: "DCRCTL_CA_FILE", Problem: err.Error()}
	}
	e := &engine.Engine{
		Cfg: cfg,
		IdP: &idp.Client{HTTP: httpClient, RetryDeadline: cfg.RetryDeadline, Log: a.log, Redactor: a.redactor, AuthScheme: cfg.AuthScheme},
		Log: a.log,
		Now: time.Now,
	}
	if cfg.StateStore == "kubernetes" {
		store, err := a.kubernetesStore(cfg)
		if err != nil {
			return nil, err
		}
		e.Store = store
	}
	switch {
	case cfg.IAT != "":
		e.IAT = idp.StaticIAT(cfg.IAT)
	case cfg.IATTokenURL != "":
		e.IAT = idp.ClientCredentialsIAT{HTTP: httpClient, Config: clientcredentials.Config{
			ClientID:     cfg.IATClientID,
			ClientSecret: cfg.IATClientSecret,
			TokenURL:     cfg.IATTokenURL,
			Scopes:       strings.Fields(cfg.IATScope),
		}}
	}
	return e, nil
}

// outputFormat validates -o.
func outputFormat(value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("-o: %q is not one of %s", value, strings.Join(allowed, ", "))}
}
