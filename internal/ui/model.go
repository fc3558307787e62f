// Package ui is dcrctl's terminal UI (Bubble Tea v2): one screen for the
// client, its keys and its RAT, with a plan shown before every change. It
// talks to the engine only, through Backend; no IdP logic lives here.
package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/termsafe"
)

// Backend is what the TUI needs of the engine; *engine.Engine is one.
type Backend interface {
	Status(ctx context.Context) (*engine.Status, error)
	Bootstrap(ctx context.Context, opts engine.Options) (*engine.Report, error)
}

// Historian is a Backend that also keeps the audit trail (the engine
// does); the TUI shows it on h.
type Historian interface {
	History(n int) ([]audit.Entry, error)
}

// Doctor is a Backend that also runs the read-only checks (the engine
// does); the TUI shows them on d.
type Doctor interface {
	Doctor(ctx context.Context) []engine.Check
}

// RequestCounter is a Backend that counts its requests (the engine does):
// while one goes unanswered the busy line shows the attempts.
type RequestCounter interface {
	RequestsSent() int64
}

// Options configure the model.
type Options struct {
	// ASCII draws boxes, bullets and the selection marker with ASCII
	// characters, for a terminal whose locale is not UTF-8 (LC_ALL=C).
	ASCII         bool
	HasAdminToken bool             // BOOTSTRAP_ADMIN_TOKEN is configured; otherwise R asks for it
	Now           func() time.Time // clock for "read at"
	// Log receives every error the screen shows, whole (DCRCTL_LOG_FILE).
	Log *slog.Logger
	// AutoRefresh re-reads the client this often while idle; 0 is off.
	AutoRefresh time.Duration
	// Tick is the timer behind message expiry and auto-refresh (tea.Tick;
	// tests replace it with one that never fires, or fires at once).
	Tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	// Profile is the config file's profile open here ("" for none): the
	// header names it.
	Profile string
	// FromPicker: the profile was chosen in the picker; esc on the browse
	// screen, with nothing in flight, goes back to it.
	FromPicker bool
}

// mode is which screen or dialog has the keyboard.
type mode int

const (
	modeBrowse mode = iota
	modeConfirm
	modePrompt
	modeDetail
)

// action is an operator change: its name and the engine options for it.
type action struct {
	name string
	opts engine.Options
	// confirmText, when set, must be typed to confirm (the client_id for F).
	confirmText string
	// notice, when set, is shown above the plan (why it is shown again).
	notice string
}

// Messages from async work carry the id of the request they answer; stale
// replies (after esc, or a newer request) are dropped.
type (
	statusMsg struct {
		id     int
		status *engine.Status
		err    error
	}
	planMsg struct {
		id     int
		action action
		report *engine.Report
		err    error
	}
	doctorMsg struct {
		id     int
		checks []engine.Check
	}
	appliedMsg struct {
		id     int
		action action
		report *engine.Report
		err    error
	}
)

// Model is the root model.
type Model struct {
	backend Backend
	keys    KeyMap
	styles  Styles
	now     func() time.Time

	width, height int
	mode          mode

	status  *engine.Status
	browse  browseScreen
	spinner spinner.Model
	help    help.Model

	busy        string // what is in flight, "" when idle
	sentAtStart int64  // the backend's request count when it started
	cancel      context.CancelFunc
	reqID       int
	// background is what esc stopped waiting for, by request id: the
	// engine never abandons a request that may rotate the RAT, so its
	// answer still lands (and is saved); the screen says so when it does.
	background map[int]string
	work       *inFlight // every request running, for Wait

	message    string // last outcome; cleared after messageTTL
	quitting   bool   // q was pressed while a request was on its way: quit once it lands
	profile    string // Options.Profile
	fromPicker bool   // Options.FromPicker
	backToPick bool   // esc asked for the picker again
	staleTick  bool   // a one-second tick runs while the data is stale, so its age counts up
	messageSeq int    // which message a clearMessageMsg is for
	errText    string // last error, with its remedy (whole; cut on screen, e shows it)

	// lastRead is when a refresh last reached the IdP; lastAttempt when one
	// last tried. They differ while the IdP is down: the data is stale.
	lastRead, lastAttempt time.Time

	log         *slog.Logger
	autoRefresh time.Duration
	tick        func(time.Duration, func(time.Time) tea.Msg) tea.Cmd

	hasAdminToken bool
	adminToken    string // typed at the prompt; kept in memory for this session only

	confirm confirmDialog
	prompt  promptDialog
	detail  detailView

	initCmd tea.Cmd // the first status read, started by New
}

// New returns the model; Init starts the first refresh.
func New(backend Backend, opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick == nil {
		opts.Tick = tea.Tick
	}
	styles := NewStyles(opts.ASCII)
	sp := spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(styles.Dim))
	m := Model{
		backend:       backend,
		keys:          DefaultKeyMap(opts.ASCII),
		profile:       opts.Profile,
		fromPicker:    opts.FromPicker,
		styles:        styles,
		now:           opts.Now,
		width:         80,
		height:        24,
		browse:        newBrowseScreen(styles),
		spinner:       sp,
		help:          help.New(),
		hasAdminToken: opts.HasAdminToken,
		background:    map[int]string{},
		work:          newInFlight(),
		log:           opts.Log,
		autoRefresh:   opts.AutoRefresh,
		tick:          opts.Tick,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.help.ShortSeparator = styles.Glyphs.Bullet
	m.help.Ellipsis = styles.Glyphs.Ellipsis
	m.prompt = newPromptDialog(styles)
	m.confirm = newConfirmDialog(styles)
	m.detail = newDetailView(styles)
	m.resize()
	m, m.initCmd = m.refresh()
	return m
}

// Init runs the first status read (with its spinner), and the
// auto-refresh clock when it is on.
func (m Model) Init() tea.Cmd { return tea.Batch(m.initCmd, m.autoRefreshTick()) }

// messageTTL is how long an outcome stays on the status line.
const messageTTL = 8 * time.Second

type (
	clearMessageMsg struct{ seq int }
	autoRefreshMsg  struct{}
)

// say shows an outcome for messageTTL.
func (m *Model) say(text string) tea.Cmd {
	m.message = text
	m.messageSeq++
	seq := m.messageSeq
	return m.tick(messageTTL, func(time.Time) tea.Msg { return clearMessageMsg{seq: seq} })
}

// fail shows an error (whole in the log and behind e) until the next action.
func (m *Model) fail(err error) {
	m.errText = termsafe.Text(friendly(err)) // it may quote the IdP
	m.log.Error("tui", "err", m.errText)
}

func (m Model) autoRefreshTick() tea.Cmd {
	if m.autoRefresh <= 0 {
		return nil
	}
	return m.tick(m.autoRefresh, func(time.Time) tea.Msg { return autoRefreshMsg{} })
}

// historyMsg carries the audit trail read for h.
type historyMsg struct {
	entries []audit.Entry
	err     error
}

// staleTickMsg redraws the STALE age once a second.
type staleTickMsg struct{}

// stale reports whether the data shown is older than the last attempt to
// read the IdP (which failed).
func (m Model) stale() bool {
	return !m.lastRead.IsZero() && !m.lastRead.Equal(m.lastAttempt)
}

// countStaleAge keeps one one-second tick running while the data is
// stale, so that "STALE 15s" counts up instead of standing still.
func (m Model) countStaleAge() (Model, tea.Cmd) {
	if !m.stale() || m.staleTick {
		return m, nil
	}
	m.staleTick = true
	return m, m.tick(time.Second, func(time.Time) tea.Msg { return staleTickMsg{} })
}

// quitIdleMsg checks whether a quit waiting for a request can go ahead.
type quitIdleMsg struct{}

// quitIdlePoll is how often a pending quit checks for the request's end.
const quitIdlePoll = 200 * time.Millisecond

func (m Model) quitWhenIdle() tea.Cmd {
	return m.tick(quitIdlePoll, func(time.Time) tea.Msg { return quitIdleMsg{} })
}

// BackToPicker reports whether the operator left with esc to choose
// another profile.
func (m Model) BackToPicker() bool { return m.backToPick }

// Running reports whether a request the model started is on its way.
func (m Model) Running() bool { return m.work.running() > 0 }

// Wait blocks until every request the model started has ended: after the
// program quits, so that a request that may rotate the RAT is answered and
// saved before the process exits.
func (m Model) Wait() {
	m.work.wait()
}

// track counts fn as running until it returns; after Wait it does not run.
func (m Model) track(fn func() tea.Msg) tea.Cmd {
	return func() tea.Msg {
		if !m.work.begin() {
			return nil
		}
		defer m.work.end()
		return fn()
	}
}

// showStatus takes a status read. The IdP counts as read unless it could
// not be reached (or was not asked): then the data is kept, marked stale,
// and why and when dcrctl gave up is shown.
func (m *Model) showStatus(st *engine.Status) {
	now := m.now()
	m.status, m.lastAttempt = st, now
	switch st.RAT.Health {
	case engine.RATUnreachable, engine.RATUnchecked:
		m.errText = fmt.Sprintf("IdP not reached; gave up at %s: %s", now.Format("15:04:05"), st.RAT.Error)
		if st.RAT.Next != "" {
			m.errText += " — next: " + st.RAT.Next
		}
		m.log.Error("tui", "err", m.errText)
	default:
		m.lastRead = now
	}
	m.resize()
}

// landedInBackground handles a reply to a request esc stopped waiting for.
func (m *Model) landedInBackground(id int, what string, err error) bool {
	name, ok := m.background[id]
	if !ok {
		return false
	}
	delete(m.background, id)
	if err != nil {
		m.fail(fmt.Errorf("%s finished in the background: %w", name, err))
	} else {
		m.message = fmt.Sprintf("%s finished in the background: %s (saved)", name, what)
	}
	return true
}

// startRequest cancels anything in flight and returns a context and id for
// a new request.
func (m *Model) startRequest(what string) (context.Context, int) {
	if m.cancel != nil {
		m.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.reqID++
	m.busy = what
	m.sentAtStart = m.requestsSent()
	return ctx, m.reqID
}

func (m *Model) finishRequest() {
	if m.cancel != nil {
		m.cancel()
	}
	m.cancel, m.busy = nil, ""
}

// settle ends the request a reply answers. It is false for a stale reply
// (dropped) and for an error (shown with its remedy).
func (m *Model) settle(id int, err error) bool {
	if id != m.reqID {
		return false
	}
	m.finishRequest()
	if err != nil {
		m.fail(err)
		return false
	}
	return true
}

func (m Model) refresh() (Model, tea.Cmd) {
	ctx, id := m.startRequest("reading the client from the IdP")
	backend := m.backend
	return m, tea.Batch(m.spinner.Tick, m.track(func() tea.Msg {
		st, err := backend.Status(ctx)
		termsafe.Sanitize(st) // what the IdP said never steers the terminal
		return statusMsg{id: id, status: st, err: err}
	}))
}

func (m Model) plan(a action) (Model, tea.Cmd) {
	m.errText, m.message = "", ""
	ctx, id := m.startRequest("planning: " + a.name)
	backend, opts := m.backend, a.opts
	opts.DryRun = true
	return m, tea.Batch(m.spinner.Tick, m.track(func() tea.Msg {
		report, err := backend.Bootstrap(ctx, opts)
		termsafe.Sanitize(report)
		return planMsg{id: id, action: a, report: report, err: err}
	}))
}

func (m Model) apply(a action) (Model, tea.Cmd) {
	ctx, id := m.startRequest("applying: " + a.name)
	backend, opts := m.backend, a.opts
	opts.Command = "tui: " + a.name
	return m, tea.Batch(m.spinner.Tick, m.track(func() tea.Msg {
		report, err := backend.Bootstrap(ctx, opts)
		termsafe.Sanitize(report)
		return appliedMsg{id: id, action: a, report: report, err: err}
	}))
}

// Update routes messages to the active screen or dialog.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case quitIdleMsg:
		if m.work.running() == 0 {
			m.finishRequest()
			return m, tea.Quit
		}
		return m, m.quitWhenIdle()
	case spinner.TickMsg:
		if m.busy == "" {
			return m, nil // idle: let the tick chain end; the next request restarts it
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case clearMessageMsg:
		if msg.seq == m.messageSeq {
			m.message = ""
		}
		return m, nil
	case autoRefreshMsg:
		if m.busy == "" && m.mode == modeBrowse {
			next, cmd := m.refresh()
			return next, tea.Batch(cmd, m.autoRefreshTick())
		}
		return m, m.autoRefreshTick()
	case statusMsg:
		if m.landedInBackground(msg.id, "refreshed", msg.err) && msg.err == nil {
			m.showStatus(msg.status)
			return m.countStaleAge()
		}
		if m.settle(msg.id, msg.err) {
			m.showStatus(msg.status)
		} else if msg.id == m.reqID || msg.err != nil {
			m.lastAttempt = m.now()
		}
		return m.countStaleAge()
	case historyMsg:
		if msg.err != nil {
			m.fail(msg.err)
			return m, nil
		}
		m.detail = m.detail.openText("History (audit trail, newest last)", historyText(msg.entries), m.width, m.bodyHeight())
		m.detail.vp.GotoBottom()
		m.mode = modeDetail
		return m, nil
	case staleTickMsg:
		m.staleTick = false
		return m.countStaleAge()
	case doctorMsg:
		if msg.id != m.reqID {
			return m, nil
		}
		m.finishRequest()
		m.detail = m.detail.openText("Doctor (read-only checks)", checksText(msg.checks, m.styles.Glyphs), m.width, m.bodyHeight())
		m.mode = modeDetail
		return m, nil
	case planMsg:
		if m.landedInBackground(msg.id, "planned, nothing applied", msg.err) {
			return m, nil
		}
		if m.settle(msg.id, msg.err) {
			// y applies this plan or nothing: the engine re-reads under
			// the lock and refuses when the client is no longer what the
			// plan was computed from.
			a := msg.action
			a.opts.Expect = msg.report.Basis
			m.confirm = m.confirm.open(a, msg.report)
			m.mode = modeConfirm
		}
		return m, nil
	case appliedMsg:
		outcome := ""
		if msg.report != nil {
			outcome = msg.report.Outcome
		}
		if m.landedInBackground(msg.id, outcome, msg.err) {
			if m.busy != "" {
				return m, nil
			}
			return m.refresh()
		}
		if msg.id != m.reqID {
			return m, nil
		}
		var stale *engine.StalePlanError
		if errors.As(msg.err, &stale) {
			// Nothing was applied: show the plan as it is now and ask again.
			m.finishRequest()
			next := msg.action
			next.opts.Expect = nil
			next.notice = "The client changed since the plan you confirmed (" + strings.Join(stale.Differences, "; ") + "). Nothing was applied. This is the plan now:"
			return m.plan(next)
		}
		var cmd tea.Cmd
		if m.settle(msg.id, msg.err) {
			cmd = m.say(fmt.Sprintf("%s: %s", msg.action.name, msg.report.Outcome))
		} else if engine.AdminTokenRejected(msg.err) {
			// A wrong admin token typed at R is not kept for the next R.
			m.adminToken = ""
		}
		next, refresh := m.refresh() // after a failure too: the IdP may have changed
		return next, tea.Batch(cmd, refresh)
	case tea.KeyPressMsg:
		if m.mode == modeBrowse && m.errText != "" && key.Matches(msg, m.keys.Error) {
			m.detail = m.detail.openText("Last error", m.errText, m.width, m.bodyHeight())
			m.mode = modeDetail
			return m, nil
		}
		if key.Matches(msg, m.keys.Quit) && (msg.String() == "ctrl+c" || m.mode == modeBrowse) {
			if m.work.running() > 0 && !m.quitting {
				// Keep the screen while the answer is awaited: quitting
				// now would leave a blank terminal for up to
				// DCRCTL_UPDATE_TIMEOUT.
				m.quitting = true
				m.message = "finishing the request in flight (its answer is saved when it lands), then quitting; ctrl+c quits the screen now (dcrctl still waits for the answer)"
				return m, m.quitWhenIdle()
			}
			m.finishRequest()
			return m, tea.Quit
		}
		switch m.mode {
		case modeConfirm:
			return m.updateConfirm(msg)
		case modePrompt:
			return m.updatePrompt(msg)
		case modeDetail:
			return m.updateDetail(msg)
		}
		return m.updateBrowse(msg)
	}
	return m, nil
}

func (m Model) updateBrowse(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	b, intent, cmd := m.browse.update(msg, m.keys)
	m.browse = b
	switch {
	case intent == intentNone:
		m.resize() // the selection marker follows the cursor
		return m, cmd
	case intent == intentDoctor && m.busy != "":
		return m, nil
	case intent.startsWork() && m.busy != "":
		m.message = "busy: " + m.busy + " (esc stops waiting)"
		return m, nil
	}
	return m.carryOut(intent)
}

// carryOut does what a key on the browse screen asked for.
func (m Model) carryOut(intent browseIntent) (tea.Model, tea.Cmd) {
	switch intent {
	case intentCancel:
		if m.busy != "" {
			// Stop waiting, not the request: the engine finishes one that
			// may rotate the RAT and saves its answer; the reply is shown
			// when it lands.
			m.background[m.reqID] = m.busy
			m.message = "stopped waiting: " + m.busy + " goes on in the background"
			m.reqID++
			m.finishRequest()
			return m, nil
		}
		if m.fromPicker && m.work.running() == 0 {
			m.backToPick = true
			return m, tea.Quit
		}
	case intentHelp:
		m.help.ShowAll = !m.help.ShowAll
		m.resize()
	case intentDetails:
		if k := m.selectedKey(); k != nil {
			m.detail = m.detail.openKey(*k, m.width, m.bodyHeight())
			m.mode = modeDetail
		}
	case intentHistory:
		h, ok := m.backend.(Historian)
		if !ok {
			return m, nil
		}
		// Read by a command, never inside Update: the file may be large or
		// on a slow volume.
		return m, func() tea.Msg {
			entries, err := h.History(50)
			termsafe.Sanitize(entries)
			return historyMsg{entries: entries, err: err}
		}
	case intentMetadata:
		if m.status != nil && m.status.Metadata != nil {
			m.detail = m.detail.openMetadata(m.status, m.width, m.bodyHeight())
			m.mode = modeDetail
		} else {
			m.errText = "no metadata: the client could not be read from the IdP"
		}
	case intentDoctor:
		d, ok := m.backend.(Doctor)
		if !ok {
			return m, nil
		}
		ctx, id := m.startRequest("doctor: checking")
		return m, tea.Batch(m.spinner.Tick, m.track(func() tea.Msg {
			checks := d.Doctor(ctx)
			termsafe.Sanitize(checks)
			return doctorMsg{id: id, checks: checks}
		}))
	case intentRefresh:
		m.errText = ""
		return m.refresh()
	case intentRotate:
		if !m.registered() {
			// Nothing to rotate yet: offer what bootstrap would do.
			return m.plan(action{name: "register", opts: engine.Options{}})
		}
		return m.plan(action{name: "rotate", opts: engine.Options{Rotate: true, AdminToken: m.adminToken}})
	case intentRetire:
		k := m.selectedKey()
		if k == nil {
			return m, nil
		}
		return m.plan(action{name: "retire " + k.KID, opts: engine.Options{Retire: k.KID, AdminToken: m.adminToken}})
	case intentRenew:
		if !m.registered() {
			return m, m.say("nothing to renew: no client is registered (r registers one)")
		}
		if !m.hasAdminToken && m.adminToken == "" {
			m.prompt = m.prompt.open("Bootstrap admin token", "Renewing the registration access token needs the bootstrap admin token. It is used for this session only: never shown, logged or saved.")
			m.mode = modePrompt
			return m, m.prompt.focus()
		}
		return m.plan(m.renewAction())
	case intentReregister:
		clientID := ""
		if m.status != nil {
			clientID = m.status.ClientID
		}
		return m.plan(action{name: "re-register", opts: engine.Options{Force: true, AdminToken: m.adminToken}, confirmText: clientID})
	}
	return m, nil
}

// checksText lists the doctor's checks with a mark each, and the fix of
// every failed one.
func checksText(checks []engine.Check, g Glyphs) string {
	var b strings.Builder
	for _, c := range checks {
		mark := g.OK
		switch {
		case c.Skipped:
			mark = g.Skip
		case !c.OK:
			mark = g.Fail
		}
		fmt.Fprintf(&b, "%s %s: %s\n", mark, c.Name, c.Found)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(&b, "    fix: %s\n", c.Fix)
		}
	}
	return b.String()
}

// historyText is the audit trail as the TUI lists it.
func historyText(entries []audit.Entry) string {
	if len(entries) == 0 {
		return "no changes recorded yet"
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s  %s  %s  by %s@%s\n", e.Time.Format("2006-01-02 15:04:05"), e.Command, e.Outcome, e.User, e.Host)
		for _, step := range e.Steps {
			fmt.Fprintf(&b, "    - %s\n", step)
		}
		if e.Error != "" {
			fmt.Fprintf(&b, "    error: %s\n", e.Error)
		}
		if e.Before.RAT != e.After.RAT {
			fmt.Fprintf(&b, "    RAT %s -> %s\n", or(e.Before.RAT, "none"), or(e.After.RAT, "none"))
		}
	}
	return b.String()
}

func (m Model) requestsSent() int64 {
	if c, ok := m.backend.(RequestCounter); ok {
		return c.RequestsSent()
	}
	return 0
}

// registered reports whether the state holds a client (as last read).
func (m Model) registered() bool { return m.status != nil && m.status.ClientID != "" }

func (m Model) renewAction() action {
	return action{name: "renew RAT", opts: engine.Options{RenewRAT: true, AdminToken: m.adminToken}}
}

func (m Model) updateConfirm(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d, result, cmd := m.confirm.update(msg, m.keys)
	m.confirm = d
	switch result {
	case dialogCancelled:
		m.mode = modeBrowse
		m.message = "cancelled; nothing changed"
	case dialogAccepted:
		m.mode = modeBrowse
		return m.apply(d.action)
	}
	return m, cmd
}

func (m Model) updatePrompt(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d, result, cmd := m.prompt.update(msg, m.keys)
	m.prompt = d
	switch result {
	case dialogCancelled:
		m.mode = modeBrowse
		m.message = "cancelled"
	case dialogAccepted:
		m.mode = modeBrowse
		m.adminToken = d.value()
		m.prompt = m.prompt.clear()
		return m.plan(m.renewAction())
	}
	return m, cmd
}

func (m Model) updateDetail(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.keys.Cancel) || msg.String() == "q" {
		m.mode = modeBrowse
		return m, nil
	}
	var cmd tea.Cmd
	m.detail, cmd = m.detail.update(msg)
	return m, cmd
}

func (m Model) selectedKey() *engine.KeyStatus { return m.browse.selected(m.status) }

// friendly turns an engine error into what to do about it.
func friendly(err error) string {
	var rejected *engine.RATRejectedError
	var missingIAT *engine.MissingIATError
	switch {
	case errors.As(err, &rejected):
		return "registration access token rejected — press R to renew it with the bootstrap admin token, or F to re-register. " + err.Error()
	case errors.As(err, &missingIAT):
		return "no initial access token: set DCR_IAT (or DCRCTL_IAT_TOKEN_URL and its client) to register. "
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return err.Error()
}

// bodyHeight is what the header (4 lines and a blank, or 1 when compact),
// the two status lines and the help bar leave for the body.
func (m Model) bodyHeight() int {
	fixed := 4 + 1 + 2 + 1
	switch {
	case m.compact():
		fixed = 1 + 2
	case m.help.ShowAll:
		// Every key is shown: the body gives up rows for it, down to one.
		fixed += m.helpRows() - 1
		return max(1, m.height-fixed)
	}
	return max(3, m.height-fixed)
}

// helpRows is how many lines the full help takes at this width.
func (m Model) helpRows() int {
	rows := 0
	for _, col := range m.keys.fullHelpFor(m.width) {
		rows = max(rows, len(col))
	}
	return rows
}

// resize fits the screen's parts to the terminal.
func (m *Model) resize() {
	m.help.SetWidth(m.width)
	// The client_id field scrolls inside the dialog (border, padding and
	// its prompt take 16 columns) instead of pushing it off the screen.
	m.confirm.input.SetWidth(max(8, m.width-16))
	m.browse.layout(m.status, m.width, m.bodyHeight())
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
