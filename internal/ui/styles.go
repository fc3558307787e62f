package ui

import (
	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"

	"github.com/dcrctl/dcrctl/internal/keys"
)

// Styles is the theme: every style the TUI draws with. Colours are
// downsampled by the program's colour profile (set once, in the cli
// package: plain under NO_COLOR or TERM=dumb, and in tests).
type Styles struct {
	Title, Label, Value, Dim lipgloss.Style
	OK, Warn, Error          lipgloss.Style
	Dialog, DialogTitle      lipgloss.Style
	Table                    table.Styles
	Glyphs                   Glyphs
	state                    map[string]lipgloss.Style
}

// Glyphs are the non-letter characters the TUI draws, in ASCII for a
// terminal whose locale is not UTF-8 (they would show as garbage there).
type Glyphs struct {
	Marker         string // before the selected row: visible without colour (NO_COLOR, TERM=dumb)
	Ellipsis       string // a cut
	Dot            string // between header items
	Bullet         string // between help items
	OK, Fail, Skip string // doctor's marks
}

var (
	unicodeGlyphs = Glyphs{Marker: "▸", Ellipsis: "…", Dot: "·", Bullet: " • ", OK: "✓", Fail: "✗", Skip: "–"}
	asciiGlyphs   = Glyphs{Marker: ">", Ellipsis: "...", Dot: "-", Bullet: " | ", OK: "ok", Fail: "FAIL", Skip: "skip"}
)

// NewStyles builds the theme; ascii draws boxes with ASCII characters (for
// a terminal whose locale is not UTF-8).
func NewStyles(ascii bool) Styles {
	border, rule, glyphs := lipgloss.RoundedBorder(), lipgloss.NormalBorder(), unicodeGlyphs
	if ascii {
		border, rule, glyphs = lipgloss.ASCIIBorder(), lipgloss.ASCIIBorder(), asciiGlyphs
	}
	green, yellow, red, blue, grey := lipgloss.Color("2"), lipgloss.Color("3"), lipgloss.Color("1"), lipgloss.Color("4"), lipgloss.Color("8")
	s := Styles{
		Title:       lipgloss.NewStyle().Bold(true),
		Label:       lipgloss.NewStyle().Foreground(grey),
		Value:       lipgloss.NewStyle(),
		Dim:         lipgloss.NewStyle().Foreground(grey),
		OK:          lipgloss.NewStyle().Foreground(green),
		Warn:        lipgloss.NewStyle().Foreground(yellow),
		Error:       lipgloss.NewStyle().Foreground(red).Bold(true),
		Dialog:      lipgloss.NewStyle().Border(border).Padding(0, 1),
		DialogTitle: lipgloss.NewStyle().Bold(true),
		Table: table.Styles{
			Header:   lipgloss.NewStyle().Bold(true).Padding(0, 1).BorderStyle(rule).BorderBottom(true),
			Cell:     lipgloss.NewStyle().Padding(0, 1),
			Selected: lipgloss.NewStyle().Reverse(true),
		},
		Glyphs: glyphs,
	}
	s.state = map[string]lipgloss.Style{
		keys.StateActive:     s.OK,
		keys.StateNext:       lipgloss.NewStyle().Foreground(blue),
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
