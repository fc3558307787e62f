package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/audit"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Every applied change, from bootstrap, a command or the TUI, is one line
// of the audit trail beside the state (0600, fingerprints only); a run that
// changes nothing adds none; `dcrctl history` shows it.
func TestAuditTrail(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.mustRun(0, "bootstrap") // no change: no entry
	c.mustRun(0, "keys", "rotate", "--yes")
	c.mustRun(0, "keys", "retire", "--yes", "--", "bff-initial")
	c.mustRun(0, "keys", "rotate", "--dry-run") // a plan: no entry

	s := startTUI(t, c)
	s.waitFor(`active`)
	s.send("r")
	s.waitFor(`Plan: rotate`)
	s.send("y")
	s.waitFor(`rotate: updated`)
	s.send("h")
	c.outputs = append(c.outputs, s.waitFor(`tui: rotate`))
	s.send("Escape", "q")

	path := c.statePath() + ".audit.jsonl"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.outputs = append(c.outputs, string(raw)) // checked for secrets at cleanup
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit trail mode %v", fi.Mode().Perm())
	}
	var entries []audit.Entry
	if err := json.Unmarshal([]byte(c.mustRun(0, "history", "-o", "json").Stdout), &entries); err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, e := range entries {
		commands = append(commands, e.Command)
	}
	want := []string{"bootstrap", "keys rotate", "keys retire", "tui: rotate"}
	if strings.Join(commands, ",") != strings.Join(want, ",") {
		t.Fatalf("history commands %v, want %v", commands, want)
	}
	first, rotate, retire := entries[0], entries[1], entries[2]
	if first.Outcome != "registered" || first.After.ClientID == "" || first.After.RAT == "" || first.Before.ClientID != "" {
		t.Errorf("registration entry %+v", first)
	}
	if len(rotate.KIDsAdded) != 1 || rotate.Before.ActiveKID == rotate.After.ActiveKID || rotate.Before.RAT == rotate.After.RAT {
		t.Errorf("rotation entry %+v", rotate)
	}
	if len(retire.KIDsDropped) != 1 || retire.KIDsDropped[0] != "bff-initial" {
		t.Errorf("retirement entry %+v", retire)
	}
	for _, e := range entries {
		if e.User == "" || e.Host == "" || e.PID == 0 || !strings.HasPrefix(e.After.RAT, "sha256:") {
			t.Errorf("entry without who/where or a RAT fingerprint: %+v", e)
		}
	}
	if table := c.mustRun(0, "history").Stdout; !strings.Contains(table, "keys retire") || !strings.Contains(table, "-bff-initial") {
		t.Errorf("history table:\n%s", table)
	}
}
