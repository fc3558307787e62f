package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// dialogResult is what a key press did to a dialog.
type dialogResult int

const (
	dialogOpen dialogResult = iota
	dialogAccepted
	dialogCancelled
)

// confirmDialog shows a plan and asks before it is applied. For
// re-registration the operator must type the client_id.
type confirmDialog struct {
	styles Styles
	action action
	plan   string
	input  textinput.Model
	hint   string
}

func newConfirmDialog(s Styles) confirmDialog {
	in := textinput.New()
	in.Prompt = "client_id> "
	in.CharLimit = 256
	return confirmDialog{styles: s, input: in}
}

func (d confirmDialog) open(a action, report *engine.Report) confirmDialog {
	d.action, d.plan, d.hint = a, report.String(), ""
	d.input.SetValue("")
	if a.confirmText != "" {
		d.input.Focus()
	} else {
		d.input.Blur()
	}
	return d
}

func (d confirmDialog) update(msg tea.KeyPressMsg, km KeyMap) (confirmDialog, dialogResult, tea.Cmd) {
	if d.action.confirmText == "" {
		switch {
		case key.Matches(msg, km.Confirm):
			return d, dialogAccepted, nil
		case key.Matches(msg, km.Deny):
			return d, dialogCancelled, nil
		}
		return d, dialogOpen, nil
	}
	switch {
	case key.Matches(msg, km.Cancel):
		return d, dialogCancelled, nil
	case key.Matches(msg, km.Submit):
		if d.input.Value() == d.action.confirmText {
			return d, dialogAccepted, nil
		}
		d.hint = "that is not the client_id; type it exactly, or esc to cancel"
		return d, dialogOpen, nil
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, dialogOpen, cmd
}

func (d confirmDialog) view(width int) string {
	var b strings.Builder
	b.WriteString(d.styles.DialogTitle.Render("Plan: "+d.action.name) + "\n\n")
	if d.action.notice != "" {
		b.WriteString(d.styles.Error.Width(max(16, width-8)).Render(d.action.notice) + "\n\n")
	}
	b.WriteString(strings.TrimRight(d.plan, "\n") + "\n\n")
	if d.action.confirmText != "" {
		b.WriteString("This deletes the registration and registers a new client.\nType the client_id to confirm:\n")
		b.WriteString(d.input.View() + "\n")
		if d.hint != "" {
			b.WriteString(d.styles.Error.Render(d.hint) + "\n")
		}
		b.WriteString(d.styles.Dim.Render("enter apply " + d.styles.Glyphs.Dot + " esc cancel"))
	} else {
		b.WriteString(d.styles.Dim.Render("y/enter apply " + d.styles.Glyphs.Dot + " n/esc cancel"))
	}
	return d.styles.Dialog.Width(max(22, width-2)).Render(b.String()) // lipgloss v2: the width includes the border
}

// promptDialog asks for a secret in a masked input.
type promptDialog struct {
	styles       Styles
	title, about string
	input        textinput.Model
}

func newPromptDialog(s Styles) promptDialog {
	in := textinput.New()
	in.Prompt = "> "
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.CharLimit = 4096
	return promptDialog{styles: s, input: in}
}

func (d promptDialog) open(title, about string) promptDialog {
	d.title, d.about = title, about
	d.input.SetValue("")
	return d
}

func (d *promptDialog) focus() tea.Cmd { return d.input.Focus() }

func (d promptDialog) value() string { return d.input.Value() }

// clear forgets the typed secret.
func (d promptDialog) clear() promptDialog {
	d.input.SetValue("")
	d.input.Blur()
	return d
}

func (d promptDialog) update(msg tea.KeyPressMsg, km KeyMap) (promptDialog, dialogResult, tea.Cmd) {
	switch {
	case key.Matches(msg, km.Cancel):
		return d.clear(), dialogCancelled, nil
	case key.Matches(msg, km.Submit):
		if strings.TrimSpace(d.input.Value()) == "" {
			return d, dialogOpen, nil
		}
		return d, dialogAccepted, nil
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, dialogOpen, cmd
}

func (d promptDialog) view(width int) string {
	body := d.styles.DialogTitle.Render(d.title) + "\n\n" + d.about + "\n\n" + d.input.View() + "\n\n" +
		d.styles.Dim.Render("enter continue "+d.styles.Glyphs.Dot+" esc cancel")
	return d.styles.Dialog.Width(max(22, width-2)).Render(body)
}

// detailView shows a key's JWK or the client metadata in a scrollable viewport.
type detailView struct {
	styles Styles
	title  string
	vp     viewport.Model
}

func newDetailView(s Styles) detailView {
	return detailView{styles: s, vp: viewport.New(viewport.WithWidth(80), viewport.WithHeight(10))}
}

func (d detailView) openKey(k engine.KeyStatus, width, height int) detailView {
	var b strings.Builder
	fmt.Fprintf(&b, "kid:         %s\nstates:      %s\nthumbprint:  %s\n", k.KID, strings.Join(k.States, ", "), or(k.Thumbprint, "-"))
	if k.CreatedAt != nil {
		fmt.Fprintf(&b, "created_at:  %s (%d days)\n", k.CreatedAt.Format(time.RFC3339), *k.AgeDays)
	} else {
		b.WriteString("created_at:  unknown (no record here)\n")
	}
	b.WriteString("\npublic JWK as published (left/right scroll sideways; values are never broken, so a copy is exact):\n")
	if len(k.JWK) > 0 {
		b.WriteString(indentJSON(k.JWK))
	} else {
		b.WriteString("(not published)")
	}
	d = d.open("Key "+k.KID, "", width, height)
	// Not wrapped: a JWK's n broken over lines would copy with line breaks.
	d.vp.SetHorizontalStep(8)
	d.vp.SetContent(b.String())
	return d
}

func (d detailView) openMetadata(st *engine.Status, width, height int) detailView {
	data, _ := json.Marshal(st.Metadata)
	var b strings.Builder
	for _, dr := range st.Drift {
		fmt.Fprintf(&b, "DRIFT %s\n", dr)
	}
	if len(st.Drift) > 0 {
		b.WriteString("(bootstrap brings these in line with the configuration unless DCRCTL_RECONCILE=false)\n\n")
	}
	return d.open("Client metadata ("+st.ClientID+")", b.String()+indentJSON(data), width, height)
}

// openText shows text (an error) wrapped to the width.
func (d detailView) openText(title, text string, width, height int) detailView {
	return d.open(title, text, width, height)
}

// open shows content wrapped to the width, long tokens (a kid, a JWK's n)
// broken rather than cut, so that all of it can be read and copied.
func (d detailView) open(title, content string, width, height int) detailView {
	content = ansi.Wrap(content, max(10, width), "")
	d.title = title
	d.vp.SetWidth(width)
	d.vp.SetHeight(max(3, height-1))
	d.vp.SetContent(content)
	d.vp.GotoTop()
	return d
}

func (d detailView) update(msg tea.Msg) (detailView, tea.Cmd) {
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return d, cmd
}

func (d detailView) view() string {
	return d.styles.Title.Render(d.title) + "\n" + d.vp.View()
}

func indentJSON(data []byte) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return string(data)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}
