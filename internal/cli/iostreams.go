package cli

import (
	"os"

	"golang.org/x/term"
)

// terminal is the one place that asks whether a stream is a terminal (as
// gh's IOStreams does): the file behind it, and true, only for a terminal.
// Tests give the App buffers, which are never terminals.
func terminal(stream any) (*os.File, bool) {
	f, ok := stream.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, false
	}
	return f, true
}

// stdinTerminal, stdoutTerminal and stderrTerminal are the App's streams.
func (a *App) stdinTerminal() (*os.File, bool)  { return terminal(a.Stdin) }
func (a *App) stdoutTerminal() (*os.File, bool) { return terminal(a.Stdout) }
func (a *App) stderrTerminal() (*os.File, bool) { return terminal(a.Stderr) }
