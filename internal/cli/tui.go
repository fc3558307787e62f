package cli

import (
	"errors"
	"io"
	"log/slog"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dcrctl/dcrctl/internal/ui"
)

func (a *App) tuiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Interactive view of the client and its keys: rotate, retire, renew the RAT, re-register",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runTUI(cmd) },
	}
}

// runTUI runs the TUI on the terminal. Without a terminal it prints help and
// exits 64 rather than hang.
func (a *App) runTUI(cmd *cobra.Command) error {
	in, inOK := a.Stdin.(*os.File)
	out, outOK := a.Stdout.(*os.File)
	if !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		cmd.Root().SetOut(a.Stderr)
		cmd.Root().Help()
		return usageError{errors.New("the TUI needs a terminal; use the commands above in scripts")}
	}
	// The TUI owns the terminal: logs go to DCRCTL_LOG_FILE, or nowhere.
	logOut := io.Discard
	if path := os.Getenv("DCRCTL_LOG_FILE"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = f
	}
	a.log = slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{ReplaceAttr: a.redactAttr}))
	e, err := a.Engine()
	if err != nil {
		return err
	}
	model := ui.New(e, ui.Options{Renderer: newRenderer(out), HasAdminToken: e.Cfg.AdminToken != ""})
	_, err = tea.NewProgram(model, tea.WithAltScreen(), tea.WithInput(in), tea.WithOutput(out), tea.WithContext(cmd.Context())).Run()
	// Quitting (q, ctrl+c, a signal) never abandons a request that may
	// rotate the RAT: wait for what is in flight (every copy of the model
	// shares one count) to be answered and saved.
	model.Wait()
	if errors.Is(err, tea.ErrProgramKilled) && cmd.Context().Err() != nil {
		return nil // a signal: Run reports it with its own exit code
	}
	return err
}

// newRenderer is the TUI's renderer on out, plain when NO_COLOR is set
// (https://no-color.org: present, whatever its value).
func newRenderer(out io.Writer) *lipgloss.Renderer {
	renderer := lipgloss.NewRenderer(out)
	if _, noColor := os.LookupEnv("NO_COLOR"); noColor {
		renderer.SetColorProfile(termenv.Ascii)
	}
	return renderer
}
