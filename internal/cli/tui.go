package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/internal/config"
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
	in, inOK := a.stdinTerminal()
	out, outOK := a.stdoutTerminal()
	if !inOK || !outOK {
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
	// Several profiles and none chosen: pick one first, and again after
	// esc on a profile's screen.
	picking := a.file != nil && a.profile == "" && len(config.ProfileNames(a.file)) > 1
	for {
		if picking {
			final, err := tea.NewProgram(ui.NewPicker(config.ProfileNames(a.file), !utf8Locale(os.Getenv)), tea.WithInput(in), tea.WithOutput(out),
				tea.WithContext(cmd.Context()), tea.WithColorProfile(colorProfile(os.Getenv, out))).Run()
			if err != nil {
				return err
			}
			chosen := final.(ui.Picker).Chosen
			if chosen == "" {
				return nil
			}
			if err := a.useProfile(cmd, chosen); err != nil {
				return err
			}
			a.profile = chosen
		}
		back, err := a.browse(cmd, in, out, picking)
		if err != nil || !back {
			return err
		}
		// Back to the picker: forget this profile's settings (the file is
		// read afresh; the next profile is merged over it alone).
		if err := a.viper.ReadInConfig(); err != nil {
			return err
		}
		a.cfg, a.engine, a.profile = nil, nil, ""
	}
}

// browse runs the TUI on the configured client until the operator quits;
// back reports esc to the profile picker.
func (a *App) browse(cmd *cobra.Command, in, out *os.File, fromPicker bool) (back bool, err error) {
	e, err := a.Engine()
	if err != nil {
		return false, err
	}
	model := ui.New(e, ui.Options{HasAdminToken: e.Cfg.AdminToken != "", ASCII: !utf8Locale(os.Getenv),
		Log: a.log, AutoRefresh: e.Cfg.TUIRefresh, Profile: a.profile, FromPicker: fromPicker})
	final, err := tea.NewProgram(model, tea.WithInput(in), tea.WithOutput(out), tea.WithContext(cmd.Context()),
		tea.WithColorProfile(colorProfile(os.Getenv, out))).Run()
	// Quitting (q, ctrl+c, a signal) never abandons a request that may
	// rotate the RAT: wait for what is in flight (every copy of the model
	// shares one count) to be answered and saved.
	if model.Running() {
		fmt.Fprintln(a.Stderr, "dcrctl: finishing the request in flight so that its answer is saved (DCRCTL_UPDATE_TIMEOUT at most)")
	}
	model.Wait()
	if errors.Is(err, tea.ErrProgramKilled) && cmd.Context().Err() != nil {
		return false, nil // a signal: Run reports it with its own exit code
	}
	if fm, ok := final.(ui.Model); ok && err == nil {
		return fm.BackToPicker(), nil
	}
	return false, err
}

// colorProfile is the TUI's colour profile, set once for the program:
// plain when NO_COLOR is set (https://no-color.org: present, whatever its
// value) or TERM is dumb, else what the terminal on out supports.
func colorProfile(getenv func(string) string, out *os.File) colorprofile.Profile {
	if _, noColor := os.LookupEnv("NO_COLOR"); noColor || getenv("TERM") == "dumb" {
		return colorprofile.Ascii
	}
	if out == os.Stdout {
		// lipgloss detected stdout's profile at start-up (its package
		// variable Writer). Detecting again costs a second `tmux info`
		// process inside tmux: 30-50 ms before the first frame.
		return lipgloss.Writer.Profile
	}
	return colorprofile.Detect(out, os.Environ())
}

// utf8Locale reports whether the terminal's locale is UTF-8 (POSIX order:
// LC_ALL, then LC_CTYPE, then LANG); under LC_ALL=C the TUI draws boxes,
// bullets and its selection marker in ASCII.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}
