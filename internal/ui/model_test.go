package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dcrctl/dcrctl/internal/engine"
)

func newTestModel(b *fakeBackend, hasAdmin bool) Model {
	return New(b, Options{HasAdminToken: hasAdmin, Now: func() time.Time { return fixedNow }, Tick: neverTick})
}

// neverTick is a timer that does not fire: messages stay, nothing refreshes.
func neverTick(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }

// screen is what the model draws, without colour codes.
func screen(m Model) string { return ansi.Strip(m.View().Content) }

// keyPress is the message a terminal sends for the key named k.
func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
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
		next, c := m.Update(keyPress(k))
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
	view := screen(m)
	for _, want := range []string{"bff-orders", "private_key_jwt", "valid", "sha256:1a2b3c4d", "k-2026-11", "k-2026-10", "active", "published", "33d", "read 09:30:00"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if got := len(m.browse.table.Rows()); got != 2 {
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
	if m.mode != modeConfirm || !strings.Contains(screen(m), "Plan: rotate") || !strings.Contains(screen(m), "rotation requested") {
		t.Fatalf("no plan dialog:\n%s", screen(m))
	}
	if len(b.calls) != 1 || !b.calls[0].DryRun || !b.calls[0].Rotate {
		t.Fatalf("planning call %+v", b.calls)
	}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if len(b.calls) != 2 || b.calls[1].DryRun || !b.calls[1].Rotate {
		t.Fatalf("apply call %+v", b.calls)
	}
	if m.mode != modeBrowse || !strings.Contains(screen(m), "rotate: updated") {
		t.Errorf("after apply:\n%s", screen(m))
	}
}

func TestCancelPlanAppliesNothing(t *testing.T) {
	for _, k := range []string{"n", "esc"} {
		b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
		m := loaded(t, b, true)
		m, cmd := press(t, m, "r")
		m = run(t, m, cmd)
		m, _ = press(t, m, k)
		if m.mode != modeBrowse || len(b.calls) != 1 || !strings.Contains(screen(m), "cancelled") {
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
	if m.mode != modeBrowse || !strings.Contains(screen(m), "rotate first") {
		t.Errorf("refusal not shown:\n%s", screen(m))
	}
}

func TestRenewRATAsksForTokenMasked(t *testing.T) {
	const secret = "typed-admin-token-secret"
	b := &fakeBackend{status: sampleStatus("rejected"), report: sampleReport()}
	m := loaded(t, b, false)
	if !strings.Contains(screen(m), "press R to renew") {
		t.Errorf("rejected RAT remedy missing:\n%s", screen(m))
	}
	m, _ = press(t, m, "R")
	if m.mode != modePrompt {
		t.Fatalf("R without a configured admin token should prompt; mode %v", m.mode)
	}
	m, _ = press(t, m, secret)
	if strings.Contains(screen(m), secret) {
		t.Fatal("the admin token is echoed on screen")
	}
	m, cmd := press(t, m, "enter")
	m = run(t, m, cmd)
	if len(b.calls) != 1 || !b.calls[0].RenewRAT || b.calls[0].AdminToken != secret || !b.calls[0].DryRun {
		t.Fatalf("renew call %+v", b.calls)
	}
	if strings.Contains(screen(m), secret) || m.prompt.value() != "" {
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
	if m.mode != modeConfirm || len(b.calls) != 1 || !strings.Contains(screen(m), "not the client_id") {
		t.Fatalf("wrong client_id accepted:\n%s", screen(m))
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
	if m.busy != "" || !strings.Contains(screen(m), "stopped waiting: planning: rotate goes on in the background") {
		t.Fatalf("esc did not stop waiting:\n%s", screen(m))
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
		t.Fatalf("no plan dialog:\n%s", screen(m))
	}
	b.block, b.critical = make(chan struct{}), true
	m, cmd = press(t, m, "y")
	reply := make(chan tea.Msg, 1)
	go func() { reply <- backendReply(cmd) }()
	m, _ = press(t, m, "esc")
	if !strings.Contains(screen(m), "applying: rotate goes on in the background") {
		t.Fatalf("esc during an apply:\n%s", screen(m))
	}
	for attempt := 0; attempt < 500 && b.callCount() < 2; attempt++ {
		time.Sleep(10 * time.Millisecond) // until the apply is running
	}
	if !m.Running() {
		t.Fatal("the apply is not counted as in flight: Wait would not wait for it")
	}
	waited := make(chan struct{})
	go func() { m.Wait(); close(waited) }()
	close(b.block)
	next, refresh := m.Update(<-reply)
	m = next.(Model)
	if !strings.Contains(screen(m), "applying: rotate finished in the background: updated (saved)") {
		t.Errorf("landed apply not reported:\n%s", screen(m))
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
	if m.mode != modeConfirm || !strings.Contains(screen(m), "The client changed since the plan") {
		t.Fatalf("the new plan is not shown with the reason:\n%s", screen(m))
	}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if len(b.calls) != 4 || b.calls[3].DryRun || b.calls[3].Expect == nil || !strings.Contains(screen(m), "rotate: updated") {
		t.Fatalf("second confirmation not applied; calls %+v\n%s", b.calls, screen(m))
	}
}

func TestActionKeysWhileBusyAreNotLost(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := newTestModel(b, true) // still reading
	m, cmd := press(t, m, "r")
	if cmd != nil || !strings.Contains(screen(m), "busy") {
		t.Errorf("an action while busy should say busy:\n%s", screen(m))
	}
}

func TestDetailsAndMetadataViews(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	m, _ = press(t, m, "enter")
	view := screen(m)
	if m.mode != modeDetail || !strings.Contains(view, "tp-active") || !strings.Contains(view, `"kty": "RSA"`) {
		t.Fatalf("key details:\n%s", view)
	}
	m, _ = press(t, m, "esc")
	m, _ = press(t, m, "m")
	if m.mode != modeDetail || !strings.Contains(screen(m), `"token_endpoint_auth_method": "private_key_jwt"`) {
		t.Fatalf("metadata:\n%s", screen(m))
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
	for i, line := range strings.Split(screen(m), "\n") {
		if w := lipgloss.Width(line); w > 60 {
			t.Errorf("line %d is %d wide at width 60: %q", i, w, line)
		}
	}
	if got := len(strings.Split(screen(m), "\n")); got > 16 {
		t.Errorf("%d lines at height 16", got)
	}
	m, _ = press(t, m, "?")
	if !strings.Contains(screen(m), "key details") {
		t.Errorf("full help not shown:\n%s", screen(m))
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
	if m.busy != "" || !strings.Contains(screen(m), "press R to renew") {
		t.Fatalf("the apply error was lost:\n%s", screen(m))
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

// A client_name and an IdP error holding terminal control sequences are
// shown escaped: the raw sequences never reach the screen (issue 17 §8).
func TestIdPStringsCannotSteerTheTerminal(t *testing.T) {
	st := sampleStatus("")
	st.ClientName = "orders\x1b]0;owned\x07\x1b[2J"
	st.Keys[0].KID = "k\x1b[31m"
	m := loaded(t, &fakeBackend{status: st}, true)
	raw := m.View().Content
	for _, injected := range []string{"\x1b]0;owned", "\x1b[2J", "\x07", "k\x1b[31m"} {
		if strings.Contains(raw, injected) {
			t.Errorf("the view sends %q to the terminal", injected)
		}
	}
	if view := screen(m); !strings.Contains(view, `k\x1b[31m`) {
		t.Errorf("the escaped kid is not shown:\n%s", view)
	}
	m.fail(errors.New("idp: update: HTTP 400 invalid_client_metadata: \x1b[2Jbad"))
	if strings.Contains(m.errText, "\x1b") {
		t.Errorf("error text keeps ESC: %q", m.errText)
	}
}

// `?` shows every key at every size: the columns wrap, and the body gives
// the full help the rows it needs (issue 17 §10). Under ASCII the arrows
// are words.
func TestFullHelpShowsEveryKeyAtEverySize(t *testing.T) {
	for _, ascii := range []bool{false, true} {
		for _, size := range [][2]int{{40, 24}, {60, 16}, {80, 24}, {120, 30}} {
			b := &fakeBackend{status: sampleStatus("")}
			m := New(b, Options{HasAdminToken: true, Now: func() time.Time { return fixedNow }, Tick: neverTick, ASCII: ascii})
			m = run(t, m, m.initCmd)
			next, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			m, _ = press(t, next.(Model), "?")
			view := screen(m)
			for _, want := range []string{"up", "down", "key details", "metadata", "last error", "history", "doctor", "rotate", "retire key", "renew RAT", "re-register", "refresh", "cancel", "help", "quit"} {
				if !strings.Contains(view, want) {
					t.Errorf("ascii=%v %dx%d: help lacks %q:\n%s", ascii, size[0], size[1], want, view)
				}
			}
			if ascii && strings.ContainsAny(view, "↑↓") {
				t.Errorf("%dx%d: arrows under ASCII:\n%s", size[0], size[1], view)
			}
			if lines := strings.Count(view, "\n") + 1; lines > size[1] {
				t.Errorf("ascii=%v %dx%d: %d lines", ascii, size[0], size[1], lines)
			}
		}
	}
}

// q while an apply is in flight keeps the screen and says what it waits
// for, then quits once the answer has landed (issue 17 §11).
func TestQuitDuringAnApplyKeepsTheScreenUntilItLands(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	b.block, b.critical = make(chan struct{}), true
	m, cmd = press(t, m, "y")
	reply := make(chan tea.Msg, 1)
	go func() { reply <- backendReply(cmd) }()
	testWait(t, "the apply to start", func() bool { return m.Running() })
	m, cmd = press(t, m, "q")
	if quits(cmd) {
		t.Fatal("q quit with a request in flight")
	}
	if view := screen(m); !strings.Contains(view, "finishing the request in flight") || !strings.Contains(view, "k-2026-11") {
		t.Fatalf("the screen while quitting:\n%s", view)
	}
	next, cmd := m.Update(quitIdleMsg{}) // the poll (the test's clock never ticks by itself)
	if quits(cmd) {
		t.Fatal("quit before the answer landed")
	}
	close(b.block)
	<-reply
	testWait(t, "the apply to end", func() bool { return !next.(Model).Running() })
	_, cmd = next.Update(quitIdleMsg{})
	if !quits(cmd) {
		t.Fatal("no quit once the answer landed")
	}
}

func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, quit := cmd().(tea.QuitMsg)
	return quit
}

// testWait polls cond every 10 ms for at most 5 s.
func testWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 5s", what)
}

// A key's details show its JWK's n on one line, never broken inside the
// value (a copy must be exact); it scrolls sideways (issue 17 §13).
func TestKeyDetailsNeverBreakAValue(t *testing.T) {
	st := sampleStatus("")
	n := strings.Repeat("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw", 1)
	st.Keys[0].JWK = []byte(`{"kty":"RSA","kid":"k-2026-11","n":"` + n + `","e":"AQAB"}`)
	m := loaded(t, &fakeBackend{status: st}, true)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 30})
	m, _ = press(t, next.(Model), "enter")
	lines := 0
	for _, line := range strings.Split(screen(m), "\n") {
		if strings.Contains(line, n[:20]) || strings.Contains(line, n[100:120]) || strings.Contains(line, n[len(n)-20:]) {
			lines++
		}
	}
	if lines != 1 {
		t.Errorf("n shows on %d lines, want 1 (scrolled, not wrapped):\n%s", lines, screen(m))
	}
}

// A Client ID Metadata Document client shows as naturally as a registered
// one (issue 20): its URL as the client, no RAT to worry about, no alarm,
// and when the next key signs.
func TestDocumentClientIsShownPlainly(t *testing.T) {
	st := sampleStatus("")
	st.ClientID, st.Management = "https://bff.example.test/oauth/client.json", "metadata-document"
	st.RAT = engine.RATHealth{Health: engine.RATDocument}
	from := fixedNow.Add(5 * time.Minute)
	st.Keys[0].SignsFrom = &from
	m := loaded(t, &fakeBackend{status: st}, true)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
	view := screen(next.(Model))
	for _, want := range []string{"https://bff.example.test/oauth/client.json", "none (client ID metadata document)", "signs from"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "rejected") || strings.Contains(view, "IdP not reached") {
		t.Errorf("a document client is shown as a problem:\n%s", view)
	}
}
