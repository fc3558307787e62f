package ui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/dcrctl/dcrctl/internal/engine"
)

func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

func newTestModel(b *fakeBackend, hasAdmin bool) Model {
	return New(b, Options{Renderer: asciiRenderer(), HasAdminToken: hasAdmin, Now: func() time.Time { return fixedNow }})
}

// run executes a command and feeds its message back, as the runtime would,
// following one level of batches; spinner ticks are ignored.
func run(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		return m
	}
	msg := cmd()
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			m = run(t, m, c)
		}
		return m
	case nil:
		return m
	}
	if _, tick := msg.(spinner.TickMsg); tick {
		return m
	}
	next, cmd := m.Update(msg)
	m = next.(Model)
	if _, isStatus := msg.(statusMsg); isStatus {
		return m // do not chase the spinner
	}
	return run(t, m, cmd)
}

func press(t *testing.T, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "ctrl+c":
			msg = tea.KeyMsg{Type: tea.KeyCtrlC}
		case "down":
			msg = tea.KeyMsg{Type: tea.KeyDown}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		next, c := m.Update(msg)
		m, cmd = next.(Model), c
	}
	return m, cmd
}

func loaded(t testing.TB, b *fakeBackend, hasAdmin bool) Model {
	t.Helper()
	m := newTestModel(b, hasAdmin)
	m = run(t, m, m.initCmd)
	if m.status == nil || m.busy != "" {
		t.Fatalf("status not loaded: busy %q err %q", m.busy, m.errText)
	}
	return m
}

func TestLoadShowsClientAndKeys(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	view := m.View()
	for _, want := range []string{"bff-orders", "private_key_jwt", "valid", "sha256:1a2b3c4d", "k-2026-11", "k-2026-10", "active", "published", "33d", "refreshed 09:30:00"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if got := len(m.table.Rows()); got != 2 {
		t.Errorf("rows %d", got)
	}
}

func TestStaleRepliesAreDropped(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	next, _ := m.Update(statusMsg{id: m.reqID - 1, status: sampleStatus("rejected")})
	if next.(Model).status.RAT.Health != engine.RATValid {
		t.Error("a stale status reply replaced the current one")
	}
}

func TestRotateShowsPlanThenAppliesOnYes(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	if m.busy == "" {
		t.Fatal("rotate should start planning")
	}
	m = run(t, m, cmd)
	if m.mode != modeConfirm || !strings.Contains(m.View(), "Plan: rotate") || !strings.Contains(m.View(), "rotation requested") {
		t.Fatalf("no plan dialog:\n%s", m.View())
	}
	if len(b.calls) != 1 || !b.calls[0].DryRun || !b.calls[0].Rotate {
		t.Fatalf("planning call %+v", b.calls)
	}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if len(b.calls) != 2 || b.calls[1].DryRun || !b.calls[1].Rotate {
		t.Fatalf("apply call %+v", b.calls)
	}
	if m.mode != modeBrowse || !strings.Contains(m.View(), "rotate: updated") {
		t.Errorf("after apply:\n%s", m.View())
	}
}

func TestCancelPlanAppliesNothing(t *testing.T) {
	for _, k := range []string{"n", "esc"} {
		b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
		m := loaded(t, b, true)
		m, cmd := press(t, m, "r")
		m = run(t, m, cmd)
		m, _ = press(t, m, k)
		if m.mode != modeBrowse || len(b.calls) != 1 || !strings.Contains(m.View(), "cancelled") {
			t.Errorf("%s: mode %v calls %d", k, m.mode, len(b.calls))
		}
	}
}

func TestRetireSelectedKey(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, _ = press(t, m, "down")
	m, cmd := press(t, m, "x")
	m = run(t, m, cmd)
	if len(b.calls) != 1 || b.calls[0].Retire != "k-2026-10" || m.mode != modeConfirm {
		t.Fatalf("retire call %+v mode %v", b.calls, m.mode)
	}
}

func TestRefusedActionShownInPlace(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), err: &engine.RefusedError{Problem: `key "k-2026-11" is the active signing key; rotate first, then retire it`}}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "x")
	m = run(t, m, cmd)
	if m.mode != modeBrowse || !strings.Contains(m.View(), "rotate first") {
		t.Errorf("refusal not shown:\n%s", m.View())
	}
}

func TestRenewRATAsksForTokenMasked(t *testing.T) {
	const secret = "typed-admin-token-secret"
	b := &fakeBackend{status: sampleStatus("rejected"), report: sampleReport()}
	m := loaded(t, b, false)
	if !strings.Contains(m.View(), "press R to renew") {
		t.Errorf("rejected RAT remedy missing:\n%s", m.View())
	}
	m, _ = press(t, m, "R")
	if m.mode != modePrompt {
		t.Fatalf("R without a configured admin token should prompt; mode %v", m.mode)
	}
	m, _ = press(t, m, secret)
	if strings.Contains(m.View(), secret) {
		t.Fatal("the admin token is echoed on screen")
	}
	m, cmd := press(t, m, "enter")
	m = run(t, m, cmd)
	if len(b.calls) != 1 || !b.calls[0].RenewRAT || b.calls[0].AdminToken != secret || !b.calls[0].DryRun {
		t.Fatalf("renew call %+v", b.calls)
	}
	if strings.Contains(m.View(), secret) || m.prompt.value() != "" {
		t.Error("the admin token lingers in the prompt or view")
	}
}

func TestRenewRATWithConfiguredTokenSkipsPrompt(t *testing.T) {
	b := &fakeBackend{status: sampleStatus("rejected"), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "R")
	m = run(t, m, cmd)
	if m.mode != modeConfirm || len(b.calls) != 1 || b.calls[0].AdminToken != "" {
		t.Fatalf("mode %v calls %+v", m.mode, b.calls)
	}
}

func TestForceReregisterNeedsTypedClientID(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "F")
	m = run(t, m, cmd)
	if m.mode != modeConfirm || !b.calls[0].Force {
		t.Fatalf("mode %v calls %+v", m.mode, b.calls)
	}
	m, _ = press(t, m, "y") // y is typed, not a confirmation
	m, _ = press(t, m, "enter")
	if m.mode != modeConfirm || len(b.calls) != 1 || !strings.Contains(m.View(), "not the client_id") {
		t.Fatalf("wrong client_id accepted:\n%s", m.View())
	}
	m.confirm.input.SetValue("")
	m, _ = press(t, m, "bff-orders")
	m, cmd = press(t, m, "enter")
	m = run(t, m, cmd)
	if len(b.calls) != 2 || !b.calls[1].Force || b.calls[1].DryRun {
		t.Fatalf("apply call %+v", b.calls)
	}
}

// esc stops waiting, never the request: a plan's context is cancelled (the
// engine stops between requests) and its late reply opens no dialog.
func TestEscStopsWaitingForAPlan(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport(), block: make(chan struct{})}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	ctxDone := make(chan tea.Msg, 1)
	go func() { ctxDone <- backendReply(cmd) }()
	m, _ = press(t, m, "esc")
	if m.busy != "" || !strings.Contains(m.View(), "stopped waiting: planning: rotate goes on in the background") {
		t.Fatalf("esc did not stop waiting:\n%s", m.View())
	}
	msg := <-ctxDone // the backend saw its context cancelled
	next, _ := m.Update(msg)
	if next.(Model).mode != modeBrowse {
		t.Error("a reply after esc opened a dialog")
	}
	if pm, ok := msg.(planMsg); !ok || !errors.Is(pm.err, context.Canceled) {
		t.Errorf("backend reply %#v", msg)
	}
}

// An apply whose request cannot be abandoned lands after esc: the screen
// says what it did, refreshes, and Wait returns only once it has ended.
func TestEscDuringAnApplyReportsItWhenItLands(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	if m.mode != modeConfirm {
		t.Fatalf("no plan dialog:\n%s", m.View())
	}
	b.block, b.critical = make(chan struct{}), true
	m, cmd = press(t, m, "y")
	reply := make(chan tea.Msg, 1)
	go func() { reply <- backendReply(cmd) }()
	m, _ = press(t, m, "esc")
	if !strings.Contains(m.View(), "applying: rotate goes on in the background") {
		t.Fatalf("esc during an apply:\n%s", m.View())
	}
	for attempt := 0; attempt < 500 && b.callCount() < 2; attempt++ {
		time.Sleep(10 * time.Millisecond) // until the apply is running
	}
	waited := make(chan struct{})
	go func() { m.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("Wait returned while the apply was in flight")
	case <-time.After(50 * time.Millisecond): // a short look; the check cannot pass early by accident
	}
	close(b.block)
	next, refresh := m.Update(<-reply)
	m = next.(Model)
	if !strings.Contains(m.View(), "applying: rotate finished in the background: updated (saved)") {
		t.Errorf("landed apply not reported:\n%s", m.View())
	}
	if refresh == nil {
		t.Error("no refresh after the apply landed")
	}
	<-waited
}

// y applies the plan shown or nothing: the apply carries the plan's basis,
// and a stale plan is shown again, as it is now, to be confirmed anew.
func TestStalePlanIsShownAgain(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport(), stale: true}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if len(b.calls) != 3 || b.calls[1].Expect == nil || !b.calls[2].DryRun {
		t.Fatalf("want plan, refused apply with the plan's basis, new plan; calls %+v", b.calls)
	}
	if m.mode != modeConfirm || !strings.Contains(m.View(), "The client changed since the plan") {
		t.Fatalf("the new plan is not shown with the reason:\n%s", m.View())
	}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if len(b.calls) != 4 || b.calls[3].DryRun || b.calls[3].Expect == nil || !strings.Contains(m.View(), "rotate: updated") {
		t.Fatalf("second confirmation not applied; calls %+v\n%s", b.calls, m.View())
	}
}

func TestActionKeysWhileBusyAreNotLost(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := newTestModel(b, true) // still reading
	m, cmd := press(t, m, "r")
	if cmd != nil || !strings.Contains(m.View(), "busy") {
		t.Errorf("an action while busy should say busy:\n%s", m.View())
	}
}

func TestDetailsAndMetadataViews(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	m, _ = press(t, m, "enter")
	view := m.View()
	if m.mode != modeDetail || !strings.Contains(view, "tp-active") || !strings.Contains(view, `"kty": "RSA"`) {
		t.Fatalf("key details:\n%s", view)
	}
	m, _ = press(t, m, "esc")
	m, _ = press(t, m, "m")
	if m.mode != modeDetail || !strings.Contains(m.View(), `"token_endpoint_auth_method": "private_key_jwt"`) {
		t.Fatalf("metadata:\n%s", m.View())
	}
	m, _ = press(t, m, "q")
	if m.mode != modeBrowse {
		t.Error("q should close the detail view, not quit")
	}
	_, cmd := press(t, m, "q")
	if cmd == nil {
		t.Error("q should quit from the main screen")
	}
}

func TestResizeAndHelp(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 60, Height: 16})
	m = next.(Model)
	for i, line := range strings.Split(m.View(), "\n") {
		if w := lipgloss.Width(line); w > 60 {
			t.Errorf("line %d is %d wide at width 60: %q", i, w, line)
		}
	}
	if got := len(strings.Split(m.View(), "\n")); got > 16 {
		t.Errorf("%d lines at height 16", got)
	}
	m, _ = press(t, m, "?")
	if !strings.Contains(m.View(), "key details") {
		t.Errorf("full help not shown:\n%s", m.View())
	}
}

func TestApplyFailureStaysOnScreenAfterTheRefresh(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	b.err = &engine.RATRejectedError{ClientID: "bff-orders", Fingerprint: "sha256:00", Cause: errors.New("HTTP 401")}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if m.busy != "" || !strings.Contains(m.View(), "press R to renew") {
		t.Fatalf("the apply error was lost:\n%s", m.View())
	}
}

// backendReply runs cmd (and any batch in it) and returns the first message
// that is not a spinner tick: the backend's answer.
func backendReply(cmd tea.Cmd) tea.Msg {
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return msg
	}
	for _, c := range batch {
		if c == nil {
			continue
		}
		if reply := backendReply(c); reply != nil {
			if _, tick := reply.(spinner.TickMsg); !tick {
				return reply
			}
		}
	}
	return nil
}

func TestSpinnerStopsWhenIdle(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	if _, cmd := m.Update(m.spinner.Tick()); cmd != nil {
		t.Error("an idle model keeps the spinner ticking")
	}
}
