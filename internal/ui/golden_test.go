package ui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Golden screens at a fixed size with the ASCII colour profile; refresh with
// `make golden` (go test ./internal/ui -run Golden -update).
func goldenRun(t *testing.T, b *fakeBackend, hasAdmin bool, width, height int, keys ...string) {
	t.Helper()
	m := newTestModel(b, hasAdmin)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("bff-orders")) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	for _, k := range keys {
		tm.Send(keyPress(k))
		if k == "r" || k == "F" {
			teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("Plan:")) },
				teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
		}
	}
	tm.Send(keyPress("ctrl+c"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	teatest.RequireEqualOutput(t, []byte(screen(final.(Model))))
}

func TestGoldenNormal(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus("")}, true, 80, 24)
}

func TestGoldenDueAndExpired(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus("due")}, true, 80, 24)
}

func TestGoldenRATRejected(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus("rejected")}, false, 80, 24)
}

func TestGoldenConfirmDialog(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus(""), report: sampleReport()}, true, 80, 24, "r")
}

func TestGoldenReregisterDialog(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus(""), report: sampleReport()}, true, 80, 24, "F")
}

func TestGoldenNarrow(t *testing.T) {
	goldenRun(t, &fakeBackend{status: sampleStatus("due")}, true, 50, 16)
}
