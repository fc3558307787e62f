package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Picker chooses one of several profiles (named clients of the config
// file) before the main screen opens.
type Picker struct {
	names  []string
	cursor int
	Chosen string // "" when the operator quit
	styles Styles
	keys   KeyMap
}

// NewPicker lists names to choose from.
func NewPicker(names []string, ascii bool) Picker {
	return Picker{names: names, styles: NewStyles(ascii), keys: DefaultKeyMap(ascii)}
}

func (p Picker) Init() tea.Cmd { return nil }

func (p Picker) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(k, p.keys.Quit), key.Matches(k, p.keys.Cancel):
		return p, tea.Quit
	case key.Matches(k, p.keys.Up):
		p.cursor = max(0, p.cursor-1)
	case key.Matches(k, p.keys.Down):
		p.cursor = min(len(p.names)-1, p.cursor+1)
	case key.Matches(k, p.keys.Submit):
		p.Chosen = p.names[p.cursor]
		return p, tea.Quit
	}
	return p, nil
}

func (p Picker) View() tea.View {
	var b strings.Builder
	b.WriteString(p.styles.Title.Render("dcrctl") + " " + p.styles.Dim.Render("choose a profile") + "\n\n")
	for i, name := range p.names {
		mark := "  "
		if i == p.cursor {
			mark = p.styles.Glyphs.Marker + " "
		}
		b.WriteString(mark + name + "\n")
	}
	b.WriteString("\n" + p.styles.Dim.Render("enter open "+p.styles.Glyphs.Dot+" q quit"))
	v := tea.NewView(b.String())
	v.AltScreen = true
	return v
}
