package ui

import (
	"fmt"
	"strings"

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

// render draws the screen: header, body (table, dialog or detail), status, help.
func (m Model) render() string {
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteString("\n")
	var body string
	switch m.mode {
	case modeConfirm:
		body = m.confirm.view(m.width)
	case modePrompt:
		body = m.prompt.view(m.width)
	case modeDetail:
		body = m.detail.view()
	default:
		body = m.table.View()
	}
	// The body never pushes the status and help lines off a small screen.
	b.WriteString(clipLines(body, m.bodyHeight()+2))
	b.WriteString("\n")
	b.WriteString(m.statusLine())
	b.WriteString("\n")
	b.WriteString(m.help.View(m.keys))
	return b.String()
}

func (m Model) header() string {
	s := m.styles
	line := func(label, value string) string {
		return s.Label.Render(fmt.Sprintf("%-8s", label)) + " " + ansi.Truncate(value, max(1, m.width-9), "…") + "\n"
	}
	st := m.status
	if st == nil {
		return s.Title.Render("dcrctl") + "\n" + line("client", "…") + line("RAT", "…") + line("keys", "…")
	}
	rat := st.RAT.Health
	switch st.RAT.Health {
	case engine.RATValid:
		rat = s.OK.Render(rat)
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
	title := s.Title.Render("dcrctl") + " " + s.Dim.Render("· "+st.IdP+" · refreshed "+m.refreshedAt.Format("15:04:05"))
	return ansi.Truncate(title, m.width, "…") + "\n" +
		line("client", or(st.ClientID, "(not registered)")+"  "+s.Dim.Render(or(st.AuthMethod, "-"))) +
		line("RAT", rat) +
		line("keys", keysLine(st, s))
}

// keysLine summarises the keys; when the IdP was not read it says that the
// keys shown are as last seen, and when.
func keysLine(st *engine.Status, s Styles) string {
	out := fmt.Sprintf("%d · rotate after %dd · retire after %dd · active %s", len(st.Keys), st.RotateAfterDays, st.RetireAfterDays, or(st.ActiveKID, "-"))
	if !st.JWKSCurrent && st.ClientID != "" {
		seen := "never read"
		if st.JWKSSeenAt != nil {
			seen = "as last seen " + st.JWKSSeenAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		out = s.Warn.Render("IdP not read: keys "+seen) + " · " + out
	}
	return out
}

// statusLine is two lines: what is happening or happened, and any error.
func (m Model) statusLine() string {
	s := m.styles
	first := m.message
	if m.busy != "" {
		first = m.spinner.View() + " " + m.busy + " (esc stops waiting)"
	}
	second := ""
	switch {
	case m.errText != "":
		second = s.Error.Render(truncate(m.errText, m.width))
	case m.busy != "" && m.message != "":
		second = truncate(m.message, m.width)
	case m.status != nil && m.status.RAT.Health == engine.RATRejected:
		second = s.Error.Render(truncate("registration access token rejected — press R to renew it with the bootstrap admin token, or F to re-register", m.width))
	}
	return truncate(first, m.width) + "\n" + second
}

func truncate(s string, width int) string {
	r := []rune(s)
	if width > 1 && len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}

// clipLines keeps the first n lines of s.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
