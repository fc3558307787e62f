package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// clearEnv unsets every variable of the contract for the test.
func clearEnv(t *testing.T) {
	for _, s := range Settings {
		for _, env := range s.Env {
			if old, ok := os.LookupEnv(env); ok {
				os.Unsetenv(env)
				t.Cleanup(func() { os.Setenv(env, old) })
			}
		}
	}
}

func TestLegacyAndNewEnvNames(t *testing.T) {
	cases := []struct {
		env, value string
		check      func(*Config) bool
	}{
		{"DCR_ENABLED", "false", func(c *Config) bool { return !c.Enabled }},
		{"SKIP_DCR_BOOTSTRAP", "1", func(c *Config) bool { return c.Skip }},
		{"IDP_BASE_URL", "https://idp.example.test/", func(c *Config) bool { return c.IdPBaseURL == "https://idp.example.test" }},
		{"DCR_IAT", "iat-value", func(c *Config) bool { return c.IAT == "iat-value" }},
		{"DCR_CLIENT_ID", "bff", func(c *Config) bool { return c.ClientID == "bff" }},
		{"DCR_CLIENT_PROFILE", "tmpl", func(c *Config) bool { return c.ClientProfile == "tmpl" }},
		{"DCR_REDIRECT_URIS", "https://a.test/cb, https://b.test/cb https://c.test/cb", func(c *Config) bool { return len(c.RedirectURIs) == 3 }},
		{"BFF_JWT_SIGNING_KEY", "/k.pem", func(c *Config) bool { return c.SigningKeyPath == "/k.pem" }},
		{"BFF_KID", "k1", func(c *Config) bool { return c.KID == "k1" }},
		{"BFF_CLIENT_CRED_PATH", "/s.json", func(c *Config) bool { return c.StatePath == "/s.json" }},
		{"BFF_JWK_ROTATE_AFTER_DAYS", "7", func(c *Config) bool { return c.RotateAfter == 7*24*time.Hour }},
		{"BFF_JWK_RETIRE_AFTER_DAYS", "90", func(c *Config) bool { return c.RetireAfter == 90*24*time.Hour }},
		{"PROM_PUSHGATEWAY_URL", "http://pg.test:9091", func(c *Config) bool { return c.PushgatewayURL == "http://pg.test:9091" }},
		{"BOOTSTRAP_ADMIN_TOKEN", "adm", func(c *Config) bool { return c.AdminToken == "adm" }},
		{"DCR_FORCE_REPLACE", "TRUE", func(c *Config) bool { return c.ForceReplace }},
		{"DCRCTL_REGISTRATION_ENDPOINT", "https://idp.test/reg", func(c *Config) bool { return c.RegistrationEndpoint == "https://idp.test/reg" }},
		{"DCRCTL_UPDATE_METHOD", "PATCH", func(c *Config) bool { return c.UpdateMethod == "patch" }},
		{"DCRCTL_ADMIN_RAT_URL", "https://idp.test/a/{client_id}/rat", func(c *Config) bool { return c.AdminRATURLFor("x y") == "https://idp.test/a/x%20y/rat" }},
		{"DCRCTL_KEY_ALG", "EdDSA", func(c *Config) bool { return c.KeyAlg == "EdDSA" && c.KeyAlgChosen }},
		{"BFF_JWK_ALG", "ES256", func(c *Config) bool { return c.KeyAlg == "ES256" && c.KeyAlgChosen }},
		{"DCRCTL_ALLOW_WEAK_KEY", "true", func(c *Config) bool { return c.AllowWeakKey && !c.KeyAlgChosen && c.KeyAlg == "RS256" }},
		{"DCRCTL_FRESH_FOR", "90s", func(c *Config) bool { return c.FreshFor == 90*time.Second }},
		{"DCRCTL_STATE_STORE", "kubernetes", func(c *Config) bool { return c.FreshFor == DefaultKubeFreshFor }},
		{"DCRCTL_TIMEOUT", "3s", func(c *Config) bool { return c.Timeout == 3*time.Second }},
		{"DCRCTL_RETRY_DEADLINE", "2m", func(c *Config) bool { return c.RetryDeadline == 2*time.Minute }},
		{"DCRCTL_ACTIVATE_AFTER", "90s", func(c *Config) bool { return c.ActivateAfter == 90*time.Second }},
		{"DCRCTL_PUSHGATEWAY_JOB", "j", func(c *Config) bool { return c.PushgatewayJob == "j" }},
		{"DCRCTL_IAT_TOKEN_URL", "https://idp.test/token", func(c *Config) bool { return c.IATTokenURL == "https://idp.test/token" }},
		{"DCRCTL_IAT_SCOPE", "dcr_admin other", func(c *Config) bool { return c.IATScope == "dcr_admin other" }},
		{"DCRCTL_STATE_FILE", "/n.json", func(c *Config) bool { return c.StatePath == "/n.json" }},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.env, tc.value)
			if tc.env == "DCRCTL_IAT_TOKEN_URL" {
				t.Setenv("DCRCTL_IAT_CLIENT_ID", "gw")
			}
			c, err := Load(New())
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("%s=%q not applied: %+v", tc.env, tc.value, c)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load(New())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.Skip || c.ForceReplace || c.RotateAfter != 30*24*time.Hour || c.RetireAfter != 60*24*time.Hour ||
		c.KeyAlg != "RS256" || c.UpdateMethod != "put" || c.RetryDeadline != time.Minute || c.ActivateAfter != 0 || c.IATScope != "dcr_admin" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"BFF_JWK_ROTATE_AFTER_DAYS": "abc",
		"BFF_JWK_RETIRE_AFTER_DAYS": "-1",
		"DCRCTL_KEY_ALG":            "RS512",
		"IDP_BASE_URL":              "ftp://idp",
		"DCR_ENABLED":               "yes please",
		"DCRCTL_TIMEOUT":            "10",
		"DCRCTL_UPDATE_METHOD":      "post",
		"DCRCTL_ADMIN_RAT_URL":      "https://idp.test/no-placeholder",
		"DCR_REDIRECT_URIS":         "not-a-uri",
		"PROM_PUSHGATEWAY_URL":      "pushgateway:9091",
		"DCRCTL_CA_FILE":            "/does/not/exist.pem",
		"DCRCTL_IDP_PRESET":         "no-such-idp",
		"DCRCTL_AUTH_SCHEME":        "SSWS token",
		"DCRCTL_ADMIN_API":          "perhaps",
		"DCRCTL_RAT_RECOVERY":       "ask-nicely",
		"DCRCTL_OPEN_REGISTRATION":  "perhaps",
	}
	for env, value := range cases {
		t.Run(env, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(env, value)
			_, err := Load(New())
			if err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("%s=%q: error %v, want it to name the variable", env, value, err)
			}
		})
	}
	clearEnv(t)
	t.Setenv("BFF_JWK_ROTATE_AFTER_DAYS", "60")
	if _, err := Load(New()); err == nil || !strings.Contains(err.Error(), "less than") {
		t.Errorf("rotate >= retire: %v", err)
	}
}

func TestEffectiveMasksSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("DCR_IAT", "super-secret-iat")
	t.Setenv("BOOTSTRAP_ADMIN_TOKEN", "super-secret-admin")
	for _, s := range Effective(New(), nil) {
		if strings.Contains(s.Value, "super-secret") {
			t.Errorf("%s shown in clear", s.Key)
		}
		if s.Key == "iat" && (s.Source != "env DCR_IAT" || !strings.HasPrefix(s.Value, "sha256:")) {
			t.Errorf("iat: %+v", s)
		}
	}
}

func TestExampleConfigFileLoadsAndEnvWins(t *testing.T) {
	clearEnv(t)
	v := New()
	v.SetConfigFile("../../configs/dcrctl.example.yaml")
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	c, err := Load(v)
	if err != nil {
		t.Fatal(err)
	}
	if c.IdPBaseURL != "https://idp.example.com" || c.StatePath != "/var/run/bff/client.json" || len(c.RedirectURIs) != 1 {
		t.Errorf("file values not applied: %+v", c)
	}
	t.Setenv("BFF_CLIENT_CRED_PATH", "/env/client.json")
	if c, _ := Load(v); c.StatePath != "/env/client.json" {
		t.Errorf("env did not win over the file: %s", c.StatePath)
	}
}

func TestPresetsSetDefaultsAndExplicitSettingsWin(t *testing.T) {
	load := func(env map[string]string) *Config {
		t.Helper()
		clearEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		c, err := Load(New())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := load(nil); c.Preset.Name != "generic" || c.Recovery != RecoveryNone || c.OpenRegistration || c.UpdateMethod != "put" || c.AdminRATURL != "" {
		t.Errorf("generic: no default renewal URL and no recovery: %+v", c)
	}
	if c := load(map[string]string{"DCRCTL_ADMIN_RAT_URL": "https://idp.test/a/{client_id}"}); c.Recovery != RecoveryAdminURL {
		t.Errorf("a renewal URL selects admin-url recovery: %q", c.Recovery)
	}
	if c := load(map[string]string{"DCRCTL_IDP_PRESET": "hydra"}); !c.OpenRegistration || c.Recovery != RecoveryNone || c.Preset.RegistrationPath != "/oauth2/register" {
		t.Errorf("hydra: %+v", c)
	}
	if c := load(map[string]string{"DCRCTL_IDP_PRESET": "hydra", "DCRCTL_OPEN_REGISTRATION": "false"}); c.OpenRegistration {
		t.Error("DCRCTL_OPEN_REGISTRATION=false must win over the preset")
	}
	if c := load(map[string]string{"DCRCTL_IDP_PRESET": "gravitee"}); c.UpdateMethod != "patch" || c.Recovery != RecoveryManagementToken {
		t.Errorf("gravitee: %+v", c)
	}
	if c := load(map[string]string{"DCRCTL_IDP_PRESET": "gravitee", "DCRCTL_UPDATE_METHOD": "put"}); c.UpdateMethod != "put" {
		t.Error("DCRCTL_UPDATE_METHOD must win over the preset")
	}
	c := load(map[string]string{"DCRCTL_IDP_PRESET": "keycloak", "IDP_BASE_URL": "https://kc.test/auth/realms/bff"})
	if c.Recovery != RecoveryKeycloak || c.AdminRATURL != "https://kc.test/auth/admin/realms/bff" {
		t.Errorf("keycloak admin base from the realm URL: %q %q", c.Recovery, c.AdminRATURL)
	}
	// Recoveries that need a URL and have none name DCRCTL_ADMIN_RAT_URL.
	for _, env := range []map[string]string{
		{"DCRCTL_IDP_PRESET": "keycloak", "IDP_BASE_URL": "https://kc.test"},
		{"DCRCTL_RAT_RECOVERY": "admin-url"},
	} {
		clearEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		if _, err := Load(New()); err == nil || !strings.Contains(err.Error(), "DCRCTL_ADMIN_RAT_URL") {
			t.Errorf("%v: error %v, want it to name DCRCTL_ADMIN_RAT_URL", env, err)
		}
	}
}

func TestLegacyAndAliasDisagreeingIsRefused(t *testing.T) {
	clearEnv(t)
	t.Setenv("BFF_CLIENT_CRED_PATH", "/a.json")
	t.Setenv("DCRCTL_STATE_FILE", "/b.json")
	if _, err := Load(New()); err == nil || !strings.Contains(err.Error(), "BFF_CLIENT_CRED_PATH and DCRCTL_STATE_FILE") {
		t.Errorf("disagreeing alias: %v", err)
	}
	t.Setenv("DCRCTL_STATE_FILE", "/a.json")
	if _, err := Load(New()); err != nil {
		t.Errorf("agreeing alias: %v", err)
	}
}

func TestUnknownFileKeyIsRefused(t *testing.T) {
	if err := CheckFileKeys("c.yaml", []string{"rotate_after_days", "rotate_after_day"}); err == nil || !strings.Contains(err.Error(), `"rotate_after_day"`) {
		t.Errorf("typo: %v", err)
	}
	if err := CheckFileKeys("c.yaml", []string{"state_file", "idp_preset"}); err != nil {
		t.Error(err)
	}
}

// Every secret setting takes NAME_FILE (Docker and Kubernetes secrets): the
// file's content, trailing newline trimmed; errors name the variable.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ env, field string }{
		{"DCR_IAT_FILE", "iat"}, {"DCRCTL_IAT_FILE", "iat"},
		{"BOOTSTRAP_ADMIN_TOKEN_FILE", "admin"}, {"DCRCTL_IAT_CLIENT_SECRET_FILE", "secret"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.env, write(tc.env, "token-from-file\n"))
			c, err := Load(New())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{"iat": c.IAT, "admin": c.AdminToken, "secret": c.IATClientSecret}[tc.field]
			if got != "token-from-file" {
				t.Errorf("%s: got %q", tc.env, got)
			}
		})
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both", map[string]string{"DCR_IAT": "x", "DCR_IAT_FILE": write("both", "y")}, "DCR_IAT_FILE"},
		{"missing", map[string]string{"DCR_IAT_FILE": dir + "/nope"}, "DCR_IAT_FILE"},
		{"empty", map[string]string{"BOOTSTRAP_ADMIN_TOKEN_FILE": write("empty", "\n")}, "BOOTSTRAP_ADMIN_TOKEN_FILE"},
		{"two lines", map[string]string{"DCR_IAT_FILE": write("two", "a\nb\n")}, "DCR_IAT_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load(New())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// Keys inside a profile are checked like the file's own.
func TestProfileKeysAreChecked(t *testing.T) {
	if err := CheckFileKeys("f.yaml", []string{"profiles.staging.state_file", "profiles.prod.iat_file", "kid"}); err != nil {
		t.Errorf("valid profile keys refused: %v", err)
	}
	err := CheckFileKeys("f.yaml", []string{"profiles.staging.rotate_after_day"})
	if err == nil || !strings.Contains(err.Error(), "rotate_after_day") {
		t.Errorf("a typo inside a profile: %v", err)
	}
}
