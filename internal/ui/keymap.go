package ui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// KeyMap is every binding of the TUI; it also feeds the help bar.
type KeyMap struct {
	Up, Down  key.Binding
	Rotate    key.Binding
	Retire    key.Binding
	RenewRAT  key.Binding
	Reregistr key.Binding
	Refresh   key.Binding
	Details   key.Binding
	Metadata  key.Binding
	Error     key.Binding // the last error, whole
	History   key.Binding // the audit trail
	Doctor    key.Binding // the doctor's checks
	Help      key.Binding
	Quit      key.Binding
	Cancel    key.Binding
	Confirm   key.Binding
	Submit    key.Binding // enter in a text field
	Deny      key.Binding
}

// DefaultKeyMap is the key map the README documents; ascii names the arrow
// keys in words (LC_ALL=C terminals show no arrows).
func DefaultKeyMap(ascii bool) KeyMap {
	up, down := "↑/k", "↓/j"
	if ascii {
		up, down = "up/k", "down/j"
	}
	return KeyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp(up, "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp(down, "down")),
		Rotate:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rotate")),
		Retire:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "retire key")),
		RenewRAT:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "renew RAT")),
		Reregistr: key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "re-register")),
		Refresh:   key.NewBinding(key.WithKeys("s", "ctrl+r"), key.WithHelp("s", "refresh")),
		Details:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "key details")),
		Metadata:  key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "metadata")),
		Error:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "last error, whole")),
		History:   key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
		Doctor:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "doctor")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Confirm:   key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "apply")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Deny:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
	}
}

// ShortHelp is the one-line help bar.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Rotate, k.Retire, k.RenewRAT, k.Reregistr, k.Refresh, k.Help, k.Quit}
}

// FullHelp is the `?` view, in the order it is read.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Details, k.Metadata, k.Error, k.History, k.Doctor},
		{k.Rotate, k.Retire, k.RenewRAT, k.Reregistr},
		{k.Refresh, k.Cancel, k.Help, k.Quit},
	}
}

// helpColumnGap is bubbles/help's separator between full-help columns.
const helpColumnGap = 4

// fullHelpFor lays every binding of FullHelp out in as many columns as
// width holds, so that no key is cut off at any size: the fewer columns
// fit, the more rows (the body gives them room, see bodyHeight).
func (k KeyMap) fullHelpFor(width int) [][]key.Binding {
	var all []key.Binding
	entry := 0
	for _, col := range k.FullHelp() {
		for _, b := range col {
			all = append(all, b)
			entry = max(entry, lipgloss.Width(b.Help().Key)+1+lipgloss.Width(b.Help().Desc))
		}
	}
	cols := max(1, (width+helpColumnGap)/(entry+helpColumnGap))
	rows := (len(all) + cols - 1) / cols
	var out [][]key.Binding
	for i := 0; i < len(all); i += rows {
		out = append(out, all[i:min(i+rows, len(all))])
	}
	return out
}
