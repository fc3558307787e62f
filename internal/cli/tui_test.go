package cli

import (
	"bytes"
	"testing"

	"github.com/muesli/termenv"
)

func TestNoColorForcesPlainProfile(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	if got := newRenderer(&bytes.Buffer{}).ColorProfile(); got != termenv.Ascii {
		t.Errorf("NO_COLOR set: profile %v, want Ascii", got)
	}
}

func TestTUIWithoutTerminalPrintsHelpAndExits64(t *testing.T) {
	var stdout, stderr bytes.Buffer
	app := NewApp(&bytes.Buffer{}, &stdout, &stderr)
	if code := app.Run(t.Context(), nil); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("Available Commands")) || !bytes.Contains(stderr.Bytes(), []byte("needs a terminal")) {
		t.Errorf("help and reason expected on stderr:\n%s", stderr.String())
	}
}
