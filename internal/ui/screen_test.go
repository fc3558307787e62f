package ui

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/idp"
)

func resized(m Model, w, h int) Model {
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return next.(Model)
}

// lineWith is the first table row (or line) holding text.
func lineWith(screen, text string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, text) && (strings.Contains(l, "RS256") || text == "STATE") {
			return l
		}
	}
	return ""
}

// Without colour the selected row is still marked, and the marker follows
// the cursor.
func TestSelectionMarkerWithoutColour(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	if l := lineWith(screen(m), "k-2026-11"); !strings.Contains(l, "▸ k-2026-11") {
		t.Errorf("first row not marked: %q", l)
	}
	m, _ = press(t, m, "j")
	if l := lineWith(screen(m), "k-2026-10"); !strings.Contains(l, "▸ k-2026-10") {
		t.Errorf("marker did not follow the cursor: %q", l)
	}
	if l := lineWith(screen(m), "k-2026-11"); strings.Contains(l, "▸") {
		t.Errorf("old row still marked: %q", l)
	}
}

// Under a locale that is not UTF-8 nothing outside ASCII is drawn: not in
// the table, the help bar, the plan dialog or the header.
func TestASCIIGlyphs(t *testing.T) {
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	m := New(b, Options{ASCII: true, HasAdminToken: true, Now: func() time.Time { return fixedNow }, Tick: neverTick})
	m = run(t, m, m.initCmd)
	check := func(what string) {
		for i, r := range screen(m) {
			if r >= utf8.RuneSelf {
				t.Fatalf("%s: non-ASCII %q at byte %d:\n%s", what, r, i, screen(m))
			}
		}
	}
	check("main screen")
	if !strings.Contains(screen(m), "> k-2026-11") {
		t.Errorf("ASCII marker missing:\n%s", screen(m))
	}
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	check("plan dialog")
}

// Below 12 rows the header is one line and stays on screen; the whole frame
// fits the height.
func TestSmallScreenKeepsTheHeader(t *testing.T) {
	m := resized(loaded(t, &fakeBackend{status: sampleStatus("due")}, true), 80, 8)
	lines := strings.Split(screen(m), "\n")
	if len(lines) > 8 {
		t.Errorf("%d lines on an 8-row screen:\n%s", len(lines), screen(m))
	}
	if !strings.HasPrefix(lines[0], "dcrctl") || !strings.Contains(lines[0], "RAT valid") {
		t.Errorf("first line is not the header: %q", lines[0])
	}
}

// At 400 columns the STATE column sits next to the data.
func TestWideScreenKeepsColumnsTogether(t *testing.T) {
	m := resized(loaded(t, &fakeBackend{status: sampleStatus("")}, true), 400, 24)
	header := lineWith(screen(m), "STATE")
	if i := strings.Index(header, "STATE"); i < 0 || i > 80 {
		t.Errorf("STATE at column %d:\n%s", i, header)
	}
}

// The re-registration dialog keeps its client_id field on an 80x24 screen
// with a long client_id, and the key details wrap a long kid whole.
func TestLongValuesStayReadable(t *testing.T) {
	st := sampleStatus("")
	st.ClientID = strings.Repeat("c", 120)
	st.Keys[0].KID = "kid-" + strings.Repeat("k", 150)
	st.Keys[0].JWK = []byte(`{"kty":"RSA","kid":"x","n":"` + strings.Repeat("n", 300) + `","e":"AQAB"}`)
	b := &fakeBackend{status: st, report: sampleReport()}
	m := loaded(t, b, true)
	m, cmd := press(t, m, "F")
	m = run(t, m, cmd)
	s := screen(m)
	if !strings.Contains(s, "client_id>") {
		t.Errorf("client_id field pushed off the screen:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line wider than the screen (%d): %q", w, l)
		}
	}
	m, _ = press(t, m, "esc")
	m, _ = press(t, m, "enter") // details of the selected (first) key
	joined := strings.ReplaceAll(screen(m), "\n", "")
	if !strings.Contains(joined, st.Keys[0].KID) {
		t.Errorf("kid cut in the details:\n%s", screen(m))
	}
}

// Outcomes expire; a failed refresh does not move "read at", marks the data
// stale and says when dcrctl gave up; e shows the whole error, which the log
// also has.
func TestMessagesExpireAndStaleDataIsMarked(t *testing.T) {
	var log bytes.Buffer
	b := &fakeBackend{status: sampleStatus(""), report: sampleReport()}
	clock := fixedNow
	fire := func(_ time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		return func() tea.Msg { return fn(clock) }
	}
	m := New(b, Options{HasAdminToken: true, Now: func() time.Time { return clock }, Tick: neverTick,
		Log: slog.New(slog.NewTextHandler(&log, nil))})
	m = run(t, m, m.initCmd)

	m.tick = fire
	cmd := m.say("rotate: updated")
	next, _ := m.Update(cmd())
	if m = next.(Model); strings.Contains(screen(m), "rotate: updated") {
		t.Error("message did not expire")
	}

	clock = fixedNow.Add(5 * time.Minute)
	down := sampleStatus("")
	down.RAT = engine.RATHealth{Health: engine.RATUnreachable, Error: "idp: read http://127.0.0.1:4000/reg/bff-orders: unreachable after 7 attempts: connection refused"}
	down.JWKSCurrent = false
	b.status = down
	m, cmd = press(t, m, "s")
	m = run(t, m, cmd)
	s := screen(m)
	for _, want := range []string{"STALE 5m0s (read 09:30)", "IdP not reached 09:35", "gave up at 09:35:00"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	// The age counts up while the data is stale (issue 17 §13).
	clock = clock.Add(15 * time.Second)
	next, _ = m.Update(staleTickMsg{})
	if m = next.(Model); !strings.Contains(screen(m), "STALE 5m15s") {
		t.Errorf("the STALE age does not count up:\n%s", screen(m))
	}
	m, _ = press(t, m, "e")
	if full := strings.ReplaceAll(screen(m), "\n", ""); !strings.Contains(full, "after 7 attempts: connection refused") || !strings.Contains(screen(m), "Last error") {
		t.Errorf("e does not show the whole error:\n%s", screen(m))
	}
	if !strings.Contains(log.String(), "after 7 attempts") {
		t.Errorf("the error is not in the log:\n%s", log.String())
	}
}

// On a client that is not registered, r offers a registration and R says
// there is nothing to renew.
func TestNotRegisteredOffersRegistration(t *testing.T) {
	st := sampleStatus("")
	st.ClientID, st.RAT = "", engine.RATHealth{Health: engine.RATNotCached}
	b := &fakeBackend{status: st, report: sampleReport()}
	m := loaded(t, b, true)
	if !strings.Contains(screen(m), "no client registered yet: dcrctl bootstrap") {
		t.Errorf("the empty state does not say how to register:\n%s", screen(m))
	}
	m, cmd := press(t, m, "r")
	m = run(t, m, cmd)
	if !strings.Contains(screen(m), "Plan: register") || b.calls[0].Rotate {
		t.Errorf("r on an unregistered client: calls %+v\n%s", b.calls, screen(m))
	}
	m, _ = press(t, m, "n", "R")
	if !strings.Contains(screen(m), "nothing to renew") || len(b.calls) != 1 {
		t.Errorf("R with nothing to renew:\n%s", screen(m))
	}
}

// A wrong admin token typed at R is forgotten once the renewal is refused:
// the next R asks again.
func TestRejectedAdminTokenIsAskedAgain(t *testing.T) {
	b := &fakeBackend{status: sampleStatus("rejected"), report: sampleReport()}
	m := loaded(t, b, false)
	m, cmd := press(t, m, "R")
	m = run(t, m, cmd)
	m, _ = press(t, m, "wrong-token")
	m, cmd = press(t, m, "enter")
	m = run(t, m, cmd) // plan
	b.err = &engine.RATRejectedError{ClientID: "bff-orders", Cause: errors.New("HTTP 401"), Renewal: &idp.Error{Op: "renew", Status: 401}, Remedy: "r"}
	m, cmd = press(t, m, "y")
	m = run(t, m, cmd)
	if m.adminToken != "" {
		t.Fatal("the refused admin token was kept")
	}
	b.err = nil
	m, _ = press(t, m, "R")
	if m.mode != modePrompt {
		t.Errorf("R after a refused token did not ask again:\n%s", screen(m))
	}
}

// Auto-refresh re-reads while idle, and only then.
func TestAutoRefresh(t *testing.T) {
	b := &fakeBackend{status: sampleStatus("")}
	m := New(b, Options{HasAdminToken: true, Now: func() time.Time { return fixedNow }, Tick: neverTick, AutoRefresh: time.Minute})
	m = run(t, m, m.initCmd)
	next, cmd := m.Update(autoRefreshMsg{})
	if m = next.(Model); m.busy == "" || cmd == nil {
		t.Error("auto-refresh did not start a read while idle")
	}
}

// h shows the audit trail.
func TestHistoryView(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	m, cmd := press(t, m, "h")
	m = run(t, m, cmd) // the trail is read by a command, not inside Update
	s := screen(m)
	for _, want := range []string{"History", "tui: rotate", "by ops@bastion", `publish key "k-2026-12"`, "RAT sha256:aaaa -> sha256:bbbb"} {
		if !strings.Contains(s, want) {
			t.Errorf("history view lacks %q:\n%s", want, s)
		}
	}
}

// d runs the doctor's checks and shows each with its mark and fix.
func TestDoctorView(t *testing.T) {
	m := loaded(t, &fakeBackend{status: sampleStatus("")}, true)
	m, cmd := press(t, m, "d")
	m = run(t, m, cmd)
	s := screen(m)
	for _, want := range []string{"Doctor", "✓ configuration: valid", "✗ clock against the IdP", "fix: synchronise", "– registration access token"} {
		if !strings.Contains(s, want) {
			t.Errorf("doctor view lacks %q:\n%s", want, s)
		}
	}
}

// countingBackend sends requests that go unanswered.
type countingBackend struct {
	*fakeBackend
	sent int64
}

func (c *countingBackend) RequestsSent() int64 { return c.sent }

// While the IdP does not answer, the busy line counts the attempts.
func TestBusyLineCountsAttempts(t *testing.T) {
	b := &countingBackend{fakeBackend: &fakeBackend{status: sampleStatus("")}}
	m := New(b, Options{HasAdminToken: true, Now: func() time.Time { return fixedNow }, Tick: neverTick})
	m = run(t, m, m.initCmd)
	m, _ = press(t, m, "s") // a refresh starts; its reply is not fed back
	b.sent += 4
	if s := screen(m); !strings.Contains(s, "4 attempts") {
		t.Errorf("busy line without attempts:\n%s", s)
	}
}
