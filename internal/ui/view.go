package ui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// View is the program's frame: the screen, in the alternate screen buffer.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// compactHeight is below which the header shrinks to one line and the help
// bar goes, so that the header never scrolls away on a small screen.
const compactHeight = 12

func (m Model) compact() bool { return m.height < compactHeight }

// render draws the screen: header, body (table, dialog or detail), status, help.
func (m Model) render() string {
	var b strings.Builder
	b.WriteString(m.header())
	if !m.compact() {
		b.WriteString("\n")
	}
	var body string
	switch m.mode {
	case modeConfirm:
		body = m.confirm.view(m.width)
	case modePrompt:
		body = m.prompt.view(m.width)
	case modeDetail:
		body = m.detail.view()
	default:
		body = m.browse.view()
	}
	// The body never pushes the status and help lines off the screen.
	b.WriteString(clipLines(body, m.bodyHeight()))
	b.WriteString("\n")
	b.WriteString(m.statusLine())
	if !m.compact() {
		b.WriteString("\n")
		if m.help.ShowAll {
			b.WriteString(m.help.FullHelpView(m.keys.fullHelpFor(m.width)))
		} else {
			b.WriteString(m.help.View(m.keys))
		}
	}
	return b.String()
}

// header is four lines (one when compact): where, the client, the RAT, the keys.
func (m Model) header() string {
	s, g := m.styles, m.styles.Glyphs
	line := func(label, value string) string {
		return s.Label.Render(fmt.Sprintf("%-8s", label)) + " " + ansi.Truncate(value, max(1, m.width-9), g.Ellipsis) + "\n"
	}
	st := m.status
	if st == nil {
		if m.compact() {
			return s.Title.Render("dcrctl") + " " + g.Ellipsis + "\n"
		}
		return s.Title.Render("dcrctl") + "\n" + line("client", g.Ellipsis) + line("RAT", g.Ellipsis) + line("keys", g.Ellipsis)
	}
	rat := st.RAT.Health
	switch st.RAT.Health {
	case engine.RATValid:
		rat = s.OK.Render(rat)
	case engine.RATNone, engine.RATDocument:
		rat = s.Dim.Render(rat)
	case engine.RATNotCached:
		rat = s.Warn.Render(rat)
	default:
		if st.RAT.HTTPStatus != 0 {
			rat += fmt.Sprintf(" (HTTP %d)", st.RAT.HTTPStatus)
		}
		rat = s.Error.Render(rat)
	}
	if st.RAT.Fingerprint != "" {
		rat += " " + s.Dim.Render(st.RAT.Fingerprint)
	}
	name := "dcrctl"
	if m.profile != "" {
		name += " [" + m.profile + "]"
	}
	title := s.Title.Render(name) + " " + s.Dim.Render(g.Dot+" "+st.IdP+" "+g.Dot+" ") + m.freshness()
	if m.compact() {
		return ansi.Truncate(title+" "+s.Dim.Render(g.Dot)+" RAT "+rat, m.width, g.Ellipsis) + "\n"
	}
	return ansi.Truncate(title, m.width, g.Ellipsis) + "\n" +
		line("client", driftNote(st, s)+or(st.ClientID, "(not registered)")+"  "+s.Dim.Render(or(st.AuthMethod, "-"))) +
		line("RAT", rat) +
		line("keys", keysLine(st, s))
}

// freshness says when the IdP was last read. A refresh that could not read
// it does not move that time: the data is marked stale, with its age, and
// the failed attempt is named.
func (m Model) freshness() string {
	s := m.styles
	switch {
	case m.lastRead.IsZero() && m.lastAttempt.IsZero():
		return s.Dim.Render("reading" + s.Glyphs.Ellipsis)
	case m.lastRead.Equal(m.lastAttempt):
		return s.Dim.Render("read " + m.lastRead.Format("15:04:05"))
	case m.lastRead.IsZero():
		return s.Warn.Render("IdP not reached at " + m.lastAttempt.Format("15:04:05"))
	}
	age := m.now().Sub(m.lastRead).Round(time.Second)
	return s.Warn.Render(fmt.Sprintf("STALE %s (read %s) %s IdP not reached %s", age, m.lastRead.Format("15:04"), s.Glyphs.Dot, m.lastAttempt.Format("15:04")))
}

// driftNote names the members that drifted from the configuration (m shows
// both values), first on the client line so that a long client_id cannot
// push it off the screen.
func driftNote(st *engine.Status, s Styles) string {
	if len(st.Drift) == 0 {
		return ""
	}
	members := make([]string, len(st.Drift))
	for i, d := range st.Drift {
		members[i] = d.Member
	}
	return s.Warn.Render("drift: "+strings.Join(members, ", ")+" (m)") + "  "
}

// keysLine summarises the keys; when the IdP was not read it says that the
// keys shown are as last seen, and when.
func keysLine(st *engine.Status, s Styles) string {
	d := s.Glyphs.Dot
	out := fmt.Sprintf("%d %s rotate after %dd %s retire after %dd %s active %s", len(st.Keys), d, st.RotateAfterDays, d, st.RetireAfterDays, d, or(st.ActiveKID, "-"))
	for _, k := range st.Keys {
		if k.SignsFrom != nil {
			out += fmt.Sprintf(" %s next %s signs from %s", d, k.KID, k.SignsFrom.Local().Format("15:04"))
		}
	}
	if !st.JWKSCurrent && st.ClientID != "" {
		seen := "never read"
		if st.JWKSSeenAt != nil {
			seen = "as last seen " + st.JWKSSeenAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		out = s.Warn.Render("IdP not read: keys "+seen) + " " + d + " " + out
	}
	return out
}

// statusLine is two lines: what is happening or happened, and any error
// (cut to the width; `e` shows it whole).
func (m Model) statusLine() string {
	s := m.styles
	first := m.message
	if m.busy != "" {
		first = m.spinner.View() + " " + m.busy + " (esc stops waiting)"
		if n := m.requestsSent() - m.sentAtStart; n > 1 {
			first += fmt.Sprintf(" %s %d attempts", s.Glyphs.Dot, n) // the IdP is slow or down: retrying
		}
	}
	second := ""
	switch {
	case m.errText != "":
		second = s.Error.Render(m.truncate(m.errText+" (e: full error)", m.width))
	case m.busy != "" && m.message != "":
		second = m.truncate(m.message, m.width)
	case m.status != nil && abandoned(m.status, false) > 0:
		second = s.Warn.Render(m.truncate(fmt.Sprintf("%d abandoned client(s) at the IdP: an administrator must remove them (dcrctl status lists them)", abandoned(m.status, false)), m.width))
	case m.status != nil && abandoned(m.status, true) > 0:
		second = s.Dim.Render(m.truncate(fmt.Sprintf("%d replaced client(s) still at the IdP: the next bootstrap deletes them", abandoned(m.status, true)), m.width))
	case m.status != nil && m.status.ClientID == "" && m.busy == "":
		second = s.Warn.Render(m.truncate("no client registered yet: dcrctl bootstrap (or dcrctl register) registers one with the initial access token (DCR_IAT)", m.width))
	case m.status != nil && m.status.RAT.Health == engine.RATRejected:
		second = s.Error.Render(m.truncate("registration access token rejected — press R to renew it with the bootstrap admin token, or F to re-register", m.width))
	}
	return m.truncate(first, m.width) + "\n" + second
}

// abandoned counts the replaced clients dcrctl can still delete (deletable)
// or that wait for an administrator (!deletable).
func abandoned(st *engine.Status, deletable bool) int {
	n := 0
	for _, ab := range st.AbandonedClients {
		if ab.Deletable() == deletable {
			n++
		}
	}
	return n
}

func (m Model) truncate(s string, width int) string {
	return ansi.Truncate(s, max(1, width), m.styles.Glyphs.Ellipsis)
}

// clipLines keeps the first n lines of s.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
