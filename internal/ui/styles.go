package ui

import (
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/lipgloss"

	"github.com/dcrctl/dcrctl/internal/keys"
)

// Styles is the theme: every style the TUI draws with, built once from a
// renderer so that tests (and NO_COLOR) can force a plain profile.
type Styles struct {
	Title, Label, Value, Dim lipgloss.Style
	OK, Warn, Error          lipgloss.Style
	Dialog, DialogTitle      lipgloss.Style
	Table                    table.Styles
	state                    map[string]lipgloss.Style
}

// NewStyles builds the theme on r.
func NewStyles(r *lipgloss.Renderer) Styles {
	green, yellow, red, blue, grey := lipgloss.Color("2"), lipgloss.Color("3"), lipgloss.Color("1"), lipgloss.Color("4"), lipgloss.Color("8")
	s := Styles{
		Title:       r.NewStyle().Bold(true),
		Label:       r.NewStyle().Foreground(grey),
		Value:       r.NewStyle(),
		Dim:         r.NewStyle().Foreground(grey),
		OK:          r.NewStyle().Foreground(green),
		Warn:        r.NewStyle().Foreground(yellow),
		Error:       r.NewStyle().Foreground(red).Bold(true),
		Dialog:      r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		DialogTitle: r.NewStyle().Bold(true),
		Table: table.Styles{
			Header:   r.NewStyle().Bold(true).Padding(0, 1).BorderStyle(lipgloss.NormalBorder()).BorderBottom(true),
			Cell:     r.NewStyle().Padding(0, 1),
			Selected: r.NewStyle().Reverse(true),
		},
	}
	s.state = map[string]lipgloss.Style{
		keys.StateActive:     s.OK,
		keys.StateNext:       r.NewStyle().Foreground(blue),
		keys.StatePublished:  s.Value,
		keys.StateDue:        s.Warn,
		keys.StateExpired:    s.Error,
		keys.StateLocalOnly:  s.Warn,
		keys.StateRemoteOnly: s.Dim,
	}
	return s
}

// severity orders states so a key's colour is that of its worst state.
var severity = []string{keys.StateExpired, keys.StateDue, keys.StateLocalOnly, keys.StateRemoteOnly, keys.StateActive, keys.StateNext, keys.StatePublished}

// StateStyle is the colour of a key with these states.
func (s Styles) StateStyle(states []string) lipgloss.Style {
	for _, sev := range severity {
		for _, st := range states {
			if st == sev {
				return s.state[sev]
			}
		}
	}
	return s.Value
}
