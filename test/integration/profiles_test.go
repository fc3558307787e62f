package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// One config file, two named clients (profiles): each is bootstrapped and
// read on its own; `dcrctl profiles` lists both with their health; the TUI
// opens on a picker.
func TestProfiles(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	for _, k := range []string{"BFF_CLIENT_CRED_PATH", "BFF_JWT_SIGNING_KEY", "BFF_KID"} {
		delete(c.env, k)
	}
	file := filepath.Join(c.dir, "dcrctl.yaml")
	yaml := "kid: bff-initial\nprofiles:\n" +
		"  staging:\n    state_file: " + filepath.Join(c.dir, "staging.json") + "\n    signing_key: " + filepath.Join(c.dir, "staging.pem") + "\n" +
		"  production:\n    state_file: " + filepath.Join(c.dir, "production.json") + "\n    signing_key: " + filepath.Join(c.dir, "production.pem") + "\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env["DCRCTL_CONFIG"] = file
	c.mustRun(0, "--profile", "staging", "bootstrap")
	c.env["DCRCTL_PROFILE"] = "production"
	c.mustRun(0, "bootstrap")
	delete(c.env, "DCRCTL_PROFILE")
	for _, name := range []string{"staging.json", "production.json"} {
		if _, err := os.Stat(filepath.Join(c.dir, name)); err != nil {
			t.Fatalf("profile state %s: %v", name, err)
		}
	}

	var list []struct {
		Profile  string `json:"profile"`
		ClientID string `json:"client_id"`
		Health   string `json:"health"`
	}
	if err := json.Unmarshal([]byte(c.mustRun(0, "profiles", "-o", "json").Stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Profile != "production" || list[1].Profile != "staging" || list[0].ClientID == list[1].ClientID {
		t.Fatalf("profiles: %+v", list)
	}
	for _, p := range list {
		if p.Health != "healthy" || p.ClientID == "" {
			t.Errorf("profile %s: %+v", p.Profile, p)
		}
	}
	if res := c.mustRun(78, "--profile", "qa", "status"); !strings.Contains(res.Stderr, `no profile "qa"`) || !strings.Contains(res.Stderr, "production, staging") {
		t.Errorf("unknown profile: %s", res.Stderr)
	}
	// No profile chosen: status asks for one, naming them (issue 17 §12).
	if res := c.mustRun(78, "status"); !strings.Contains(res.Stderr, "--profile") || !strings.Contains(res.Stderr, "production, staging") {
		t.Errorf("status without a profile: %s", res.Stderr)
	}

	s := startTUI(t, c)
	s.waitFor(`choose a profile`)
	s.send("j", "Enter") // staging
	c.outputs = append(c.outputs, s.waitFor(list[1].ClientID))
	c.outputs = append(c.outputs, s.waitFor(`dcrctl \[staging\]`)) // the header names the profile
	// esc goes back to the picker; the other profile opens with its own client.
	s.send("Escape")
	s.waitFor(`choose a profile`)
	s.send("Enter") // production
	c.outputs = append(c.outputs, s.waitFor(`dcrctl \[production\]`))
	c.outputs = append(c.outputs, s.waitFor(list[0].ClientID))
	s.send("q")
}
