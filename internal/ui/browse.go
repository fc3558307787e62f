package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// browseScreen is the main screen's body: the client's keys as a table and
// which one is selected, and what the operator's keys there ask for. It
// sends no request and opens no dialog: a key that asks for work comes back
// to the root model as a browseIntent, which the model carries out (it owns
// requests, dialogs, the header and the status line).
type browseScreen struct {
	styles Styles
	table  table.Model
}

// browseIntent is what a key press on the browse screen asks for.
type browseIntent int

const (
	intentNone       browseIntent = iota
	intentCancel                  // esc: stop waiting, or back to the picker
	intentHelp                    // ?: toggle the full help
	intentDetails                 // enter: the selected key's details
	intentMetadata                // m: the registered metadata
	intentHistory                 // h: the audit trail
	intentDoctor                  // d: the doctor's checks
	intentRefresh                 // g: read the IdP again
	intentRotate                  // r: rotate (or register, when nothing is)
	intentRetire                  // x: retire the selected key
	intentRenew                   // R: renew the RAT
	intentReregister              // F: register anew
)

// startsWork reports whether the intent sends a request that changes or
// reads the client: refused while another is in flight.
func (i browseIntent) startsWork() bool {
	return i >= intentRefresh
}

func newBrowseScreen(styles Styles) browseScreen {
	return browseScreen{styles: styles, table: table.New(table.WithFocused(true), table.WithStyles(styles.Table))}
}

// update moves the selection itself and maps every other key to an intent.
func (b browseScreen) update(msg tea.KeyPressMsg, keys KeyMap) (browseScreen, browseIntent, tea.Cmd) {
	switch {
	case key.Matches(msg, keys.Up, keys.Down):
		var cmd tea.Cmd
		b.table, cmd = b.table.Update(msg)
		return b, intentNone, cmd
	case key.Matches(msg, keys.Cancel):
		return b, intentCancel, nil
	case key.Matches(msg, keys.Help):
		return b, intentHelp, nil
	case key.Matches(msg, keys.Details):
		return b, intentDetails, nil
	case key.Matches(msg, keys.History):
		return b, intentHistory, nil
	case key.Matches(msg, keys.Metadata):
		return b, intentMetadata, nil
	case key.Matches(msg, keys.Doctor):
		return b, intentDoctor, nil
	case key.Matches(msg, keys.Refresh):
		return b, intentRefresh, nil
	case key.Matches(msg, keys.Rotate):
		return b, intentRotate, nil
	case key.Matches(msg, keys.Retire):
		return b, intentRetire, nil
	case key.Matches(msg, keys.RenewRAT):
		return b, intentRenew, nil
	case key.Matches(msg, keys.Reregistr):
		return b, intentReregister, nil
	}
	return b, intentNone, nil
}

// selected is the key under the cursor, or nil.
func (b browseScreen) selected(st *engine.Status) *engine.KeyStatus {
	if st == nil || len(st.Keys) == 0 {
		return nil
	}
	i := b.table.Cursor()
	if i < 0 || i >= len(st.Keys) {
		return nil
	}
	return &st.Keys[i]
}

func (b browseScreen) view() string { return b.table.View() }

// narrowWidth is below which USE and CREATED give their room to KID and STATE.
const narrowWidth = 70

// layout fits the table to width × height and to st's keys: KID takes what
// the others leave. The cursor stays on its row.
func (b *browseScreen) layout(st *engine.Status, width, height int) {
	narrow := width < narrowWidth
	var rows []table.Row
	// The table reports a cursor of -1 while it is empty.
	cursor := 0
	if st != nil {
		cursor = min(max(b.table.Cursor(), 0), max(len(st.Keys)-1, 0))
		rows = keyRows(st, b.styles, narrow, cursor)
	}
	stateWidth := len("STATE")
	for _, row := range rows {
		if w := ansi.StringWidth(row[len(row)-1]); w > stateWidth {
			stateWidth = w
		}
	}
	cols := []table.Column{{Title: "KID"}, {Title: "ALG", Width: 6}}
	if !narrow {
		cols = append(cols, table.Column{Title: "USE", Width: 4}, table.Column{Title: "AGE", Width: 5}, table.Column{Title: "RETIRES ON", Width: 10})
	} else {
		cols = append(cols, table.Column{Title: "AGE", Width: 5})
	}
	cols = append(cols, table.Column{Title: "STATE", Width: stateWidth})
	used := 2 // KID's own padding
	for _, c := range cols[1:] {
		used += c.Width + 2 // cell padding
	}
	// KID takes the room left, but no more than the longest kid needs: on a
	// wide terminal STATE stays next to the data, not at column 386.
	kidWidth := len("KID") + 2
	for _, row := range rows {
		kidWidth = max(kidWidth, ansi.StringWidth(row[0]))
	}
	cols[0].Width = max(8, min(width-used, kidWidth))
	for _, row := range rows {
		// Cut here, with the locale's ellipsis, before the table would.
		row[0] = ansi.Truncate(row[0], cols[0].Width, b.styles.Glyphs.Ellipsis)
	}
	// Columns and rows change together (a row must match the columns).
	b.table.SetRows(nil)
	b.table.SetColumns(cols)
	b.table.SetRows(rows)
	b.table.SetCursor(cursor)
	b.table.SetWidth(width)
	b.table.SetHeight(height)
}

// keyRows are the table rows, newest first as the engine orders the keys.
// The selected row carries a marker, so that it shows without colour
// (NO_COLOR, TERM=dumb: the reverse video of the table's style is gone).
func keyRows(st *engine.Status, s Styles, narrow bool, cursor int) []table.Row {
	rows := make([]table.Row, 0, len(st.Keys))
	for i, k := range st.Keys {
		kid := "  " + k.KID
		if i == cursor {
			kid = s.Glyphs.Marker + " " + k.KID
		}
		age, retires := "?", "-"
		if k.CreatedAt != nil {
			age = fmt.Sprintf("%dd", *k.AgeDays)
		}
		if k.RetiresOn != nil {
			retires = k.RetiresOn.Format("2006-01-02")
		}
		state := s.StateStyle(k.States).Render(strings.Join(k.States, ","))
		if narrow {
			rows = append(rows, table.Row{kid, or(k.Alg, "-"), age, state})
			continue
		}
		rows = append(rows, table.Row{kid, or(k.Alg, "-"), or(k.Use, "-"), age, retires, state})
	}
	return rows
}
