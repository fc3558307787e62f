package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// tmuxSession runs the real dcrctl TUI in a real terminal (tmux, 80×24).
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func startTUI(t *testing.T, c *client, args ...string) *tmuxSession {
	t.Helper()
	return startTmux(t, c, fmt.Sprintf("exec %s %s\n", testenv.Binary(t), strings.Join(args, " ")))
}

// startPrompt runs a dcrctl command on the terminal, then prints its exit
// code as "exit=N" and stays open for the screen to be read.
func startPrompt(t *testing.T, c *client, args ...string) *tmuxSession {
	t.Helper()
	return startTmux(t, c, fmt.Sprintf("%s %s 2>&1\necho \"exit=$?\"\nsleep 600\n", testenv.Binary(t), strings.Join(args, " ")))
}

func startTmux(t *testing.T, c *client, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux not installed (make test-deps installs it): %v", err)
	}
	// The environment goes through a script: tmux's server would not pass ours on.
	var script strings.Builder
	keys := make([]string, 0, len(c.env))
	for k := range c.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&script, "export %s='%s'\n", k, strings.ReplaceAll(c.env[k], "'", `'\''`))
	}
	script.WriteString(command)
	path := filepath.Join(c.dir, "tui.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("dcrctl-test-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "tui"}
	s.tmux("new-session", "-d", "-s", s.name, "-x", "80", "-y", "24", "sh "+path)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", s.name) }

func (s *tmuxSession) send(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// waitFor polls the screen until re matches, at most 15 s.
func (s *tmuxSession) waitFor(re string) string {
	s.t.Helper()
	pattern := regexp.MustCompile(re)
	var screen string
	for attempt := 0; attempt < 300; attempt++ {
		screen = s.screen()
		if pattern.MatchString(screen) {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen never matched %q:\n%s", re, screen)
	return ""
}

// exited reports whether the TUI process has ended (the pane is gone).
func (s *tmuxSession) exited() bool {
	for attempt := 0; attempt < 100; attempt++ {
		if err := exec.Command("tmux", "-L", s.socket, "has-session", "-t", s.name).Run(); err != nil {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestTUIRotateWithConfirmationInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31)

	s := startTUI(t, c)
	screen := s.waitFor(`bff-initial .*active,due`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "valid") || !strings.Contains(screen, c.state().ClientID) {
		t.Fatalf("first screen:\n%s", screen)
	}

	s.send("r")
	screen = s.waitFor(`Plan: rotate`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "generate a new RS256 key") || c.state().ActiveKID != "bff-initial" {
		t.Fatalf("plan dialog, or a change before confirmation:\n%s", screen)
	}
	s.send("y")
	screen = s.waitFor(`rotate: updated`)
	c.outputs = append(c.outputs, screen)
	active := c.state().ActiveKID
	if active == "bff-initial" {
		t.Fatal("rotation not applied")
	}
	screen = s.waitFor(regexp.QuoteMeta(active[:20]) + `.* active`)
	if !strings.Contains(screen, "bff-initial") || !strings.Contains(screen, "published") {
		t.Errorf("old key should still be published:\n%s", screen)
	}
	assertKeyMatchesState(t, c)

	s.send("q")
	if !s.exited() {
		t.Fatal("q did not quit")
	}
}

func TestTUIRenewRejectedRATInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.revokeRAT()

	s := startTUI(t, c)
	screen := s.waitFor(`press R to renew`)
	if !strings.Contains(screen, "rejected (HTTP 401)") {
		t.Fatalf("rejected RAT not shown:\n%s", screen)
	}
	s.send("R")
	s.waitFor(`Bootstrap admin token`)
	s.send("-l", testenv.AdminToken)
	screen = s.screen()
	c.outputs = append(c.outputs, screen)
	s.send("Enter")
	screen = s.waitFor(`Plan: renew RAT`)
	c.outputs = append(c.outputs, screen)
	s.send("Enter")
	screen = s.waitFor(`renew RAT: updated`)
	c.outputs = append(c.outputs, screen)
	s.waitFor(`RAT +valid`)
	if c.state().RegistrationAccessToken == revokedRAT {
		t.Fatal("RAT not renewed")
	}
	s.send("C-c")
	if !s.exited() {
		t.Fatal("ctrl+c did not quit")
	}
}

// The TUI plans a rotation; a bootstrap rotates meanwhile; y then applies
// nothing, because the plan is stale: the TUI shows the plan as it is now
// and asks again; the second y applies that one. Nothing is lost.
func TestTUIAndBootstrapTogetherLoseNothing(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31)

	s := startTUI(t, c)
	s.waitFor(`bff-initial .*active,due`)
	s.send("r")
	c.outputs = append(c.outputs, s.waitFor(`Plan: rotate`))

	c.mustRun(0, "bootstrap") // another replica rotates first
	afterBootstrap := c.state().ActiveKID
	if afterBootstrap == "bff-initial" {
		t.Fatal("bootstrap did not rotate")
	}

	idp.ResetRequests(t)
	s.send("y")
	c.outputs = append(c.outputs, s.waitFor(`(?s)The client changed since the plan.*Plan: rotate|Plan: rotate.*The client changed since`))
	if st := c.state(); st.ActiveKID != afterBootstrap {
		t.Fatal("a stale plan was applied")
	}
	for _, r := range methods(idp.Requests(t)) {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("a stale plan sent %s", r)
		}
	}
	s.send("y")
	c.outputs = append(c.outputs, s.waitFor(`rotate: updated`))
	st := c.state()
	if st.ActiveKID == afterBootstrap {
		t.Fatal("the TUI's rotation was lost")
	}
	if !slices.Contains(c.publishedKIDs(), afterBootstrap) {
		t.Errorf("the bootstrap's key %q was dropped by the TUI's update", afterBootstrap)
	}
	assertKeyMatchesState(t, c)
	c.mustRun(0, "bootstrap") // the RAT both rotated is the one saved
	s.send("q")
}

// esc while a confirmed rotation's update is slow (the IdP applied it and
// rotated the RAT, its answer held back 3 s): the screen stops waiting, the
// update finishes in the background, its RAT is saved, and the screen says
// so when it lands.
func TestTUIEscDuringASlowUpdateKeepsTheRATInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	before := c.state().RegistrationAccessToken

	s := startTUI(t, c)
	s.waitFor(`bff-initial .*active`)
	s.send("r")
	c.outputs = append(c.outputs, s.waitFor(`Plan: rotate`))
	idp.Delay(t, "PUT", 3*time.Second)
	defer idp.Delay(t, "PUT", 0)
	idp.ResetRequests(t)
	s.send("y")
	for attempt := 0; attempt < 200 && !slices.Contains(methods(idp.Requests(t)), "PUT /reg/"+c.state().ClientID); attempt++ {
		time.Sleep(50 * time.Millisecond)
	}
	s.send("Escape")
	c.outputs = append(c.outputs, s.waitFor(`goes on in the background`))
	c.outputs = append(c.outputs, s.waitFor(`finished in the background: updated \(saved\)`))
	idp.Delay(t, "PUT", 0)
	if c.state().RegistrationAccessToken == before {
		t.Fatal("the RAT the update rotated was not saved")
	}
	s.send("q")
	if !s.exited() {
		t.Fatal("q did not quit")
	}
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("RAT after esc: %s", h)
	}
	assertKeyMatchesState(t, c)
}

// The CLI prompt applies the plan it showed or nothing: another shell rotates
// while the operator reads it; y then exits 79 with the plan as it is now.
func TestPromptRefusesAStalePlanInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "keys", "rotate", "--yes")

	s := startPrompt(t, c, "keys", "retire", "bff-initial")
	c.outputs = append(c.outputs, s.waitFor(`apply this plan\? \[y/N\]`))
	c.mustRun(0, "keys", "rotate", "--yes") // another shell
	s.send("y", "Enter")
	screen := s.waitFor(`exit=\d+`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "exit=79") || !strings.Contains(screen, "the plan as it would be now") {
		t.Errorf("stale plan at the prompt:\n%s", screen)
	}
	if !slices.Contains(c.publishedKIDs(), "bff-initial") {
		t.Error("the stale plan was applied")
	}
}

// n at the prompt: exit 1, "cancelled; nothing changed", and no ERROR line.
func TestDeclinedPromptInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	before := c.state()

	s := startPrompt(t, c, "--log-format", "json", "keys", "rotate")
	c.outputs = append(c.outputs, s.waitFor(`apply this plan\? \[y/N\]`))
	s.send("n", "Enter")
	screen := s.waitFor(`exit=\d+`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "exit=1") || !strings.Contains(screen, "cancelled; nothing changed") || strings.Contains(screen, `"level":"ERROR"`) {
		t.Errorf("declined prompt:\n%s", screen)
	}
	if st := c.state(); st.ActiveKID != before.ActiveKID || st.RegistrationAccessToken != before.RegistrationAccessToken {
		t.Error("a declined plan changed the client")
	}
}

// Keys typed in one burst are each handled; the selection shows without
// colour; under LC_ALL=C nothing but ASCII is drawn; e shows the last error
// whole. In a real terminal.
func TestTUIBurstKeysPlainAndASCIIInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "keys", "rotate", "--yes")
	c.mustRun(0, "keys", "rotate", "--yes") // three keys
	c.env["NO_COLOR"] = "1"
	c.env["LC_ALL"] = "C"

	s := startTUI(t, c)
	s.waitFor(`bff-initial`)
	s.send("-l", "jj") // one write, two keys: the third row is selected
	screen := s.waitFor(`(?m)^\s+\S.*RS256.*\n\s+\S.*RS256.*\n\s+> \S.*RS256`)
	c.outputs = append(c.outputs, screen)
	for i, r := range screen {
		if r > 127 {
			t.Fatalf("non-ASCII %q at %d under LC_ALL=C:\n%s", r, i, screen)
		}
	}
	s.send("r")
	screen = s.waitFor(`Plan: rotate`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "+---") {
		t.Errorf("the plan box is not drawn in ASCII:\n%s", screen)
	}
	s.send("n")

	// The IdP goes away: the refresh fails, the data is marked stale, and e
	// shows the whole error.
	idp.Stop()
	s.send("s")
	screen = s.waitFor(`STALE`)
	c.outputs = append(c.outputs, screen)
	s.send("e")
	screen = s.waitFor(`Last error`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(strings.ReplaceAll(screen, "\n", ""), "gave up at") {
		t.Errorf("full error view:\n%s", screen)
	}
	s.send("q", "q")
}

// rat renew on a terminal without BOOTSTRAP_ADMIN_TOKEN asks for the token in
// a masked prompt: what is typed never shows.
func TestRenewAsksForTheAdminTokenMaskedInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.revokeRAT()

	s := startPrompt(t, c, "rat", "renew")
	c.outputs = append(c.outputs, s.waitFor(`bootstrap admin token \(not shown\):`))
	s.send("-l", testenv.AdminToken)
	s.send("Enter")
	c.outputs = append(c.outputs, s.waitFor(`apply this plan\? \[y/N\]`))
	s.send("y", "Enter")
	screen := s.waitFor(`exit=\d+`)
	c.outputs = append(c.outputs, screen) // checked for the token at cleanup
	if !strings.Contains(screen, "exit=0") {
		t.Fatalf("rat renew with a typed token:\n%s", screen)
	}
	if h := ratHealth(t, c); h != "valid" {
		t.Errorf("after the renewal: %s", h)
	}
}

// Drift and the doctor in a real terminal: the client line names the
// drifted member, m shows both values, d runs the checks.
func TestTUIDriftAndDoctorInTmux(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.env["DCR_REDIRECT_URIS"] = "https://bff.example.test/v2/callback"
	c.env["LANG"] = "C.UTF-8"

	s := startTUI(t, c)
	c.outputs = append(c.outputs, s.waitFor(`drift: redirect_uris`))
	s.send("m")
	screen := s.waitFor(`DRIFT redirect_uris`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "v2/callback") {
		t.Errorf("metadata view lacks the configured value:\n%s", screen)
	}
	s.send("Escape")
	s.waitFor(`RETIRES ON`) // back on the table (an ESC followed at once by d reads as alt+d)
	s.send("d")
	screen = s.waitFor(`✓ registration access token: valid`)
	c.outputs = append(c.outputs, screen)
	if !strings.Contains(screen, "Doctor") || !strings.Contains(screen, "✓ configuration") {
		t.Errorf("doctor view:\n%s", screen)
	}
	s.send("Escape", "q")
}
