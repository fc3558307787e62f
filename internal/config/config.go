// Package config is dcrctl's configuration: the env contract of the helper it
// replaces (legacy names, honoured exactly), DCRCTL_* names for what is new,
// an optional YAML file, and flags. Precedence: flag > env > file > default.
// Every value is validated here, before any request, and a bad one is
// reported with the name of the variable it came from.
package config

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/cimd"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
)

// Setting is one configuration key with the env names that set it.
type Setting struct {
	Key     string   // config file key and viper key
	Env     []string // env names, the legacy one first where there is one
	Default string
	Secret  bool // masked wherever it is shown
	Help    string
}

// Settings is the whole contract, in the order `dcrctl config` prints it.
var Settings = []Setting{
	{Key: "enabled", Env: []string{"DCR_ENABLED", "DCRCTL_ENABLED"}, Default: "true", Help: "false: bootstrap exits 0 without a request"},
	{Key: "skip", Env: []string{"SKIP_DCR_BOOTSTRAP", "DCRCTL_SKIP"}, Default: "false", Help: "true: bootstrap exits 0 without a request"},
	{Key: "idp_base_url", Env: []string{"IDP_BASE_URL", "DCRCTL_IDP_BASE_URL"}, Help: "IdP base URL, for discovery"},
	{Key: "iat", Env: []string{"DCR_IAT", "DCRCTL_IAT"}, Secret: true, Help: "initial access token for registration"},
	{Key: "client_id", Env: []string{"DCR_CLIENT_ID", "DCRCTL_CLIENT_ID"}, Help: "desired client_id (optional)"},
	{Key: "client_profile", Env: []string{"DCR_CLIENT_PROFILE", "DCRCTL_CLIENT_PROFILE"}, Help: "IdP client template, sent as client_profile"},
	{Key: "client_name", Env: []string{"DCRCTL_CLIENT_NAME"}, Help: "client_name sent at registration (optional)"},
	{Key: "redirect_uris", Env: []string{"DCR_REDIRECT_URIS", "DCRCTL_REDIRECT_URIS"}, Help: "space or comma separated"},
	{Key: "grant_types", Env: []string{"DCRCTL_GRANT_TYPES"}, Default: "authorization_code refresh_token", Help: "space or comma separated"},
	{Key: "signing_key", Env: []string{"BFF_JWT_SIGNING_KEY", "DCRCTL_SIGNING_KEY"}, Help: "PEM path of the active private key"},
	{Key: "kid", Env: []string{"BFF_KID", "DCRCTL_KID"}, Help: "kid of the initial key (default: its RFC 7638 thumbprint)"},
	{Key: "state_file", Env: []string{"BFF_CLIENT_CRED_PATH", "DCRCTL_STATE_FILE"}, Help: "state JSON path"},
	{Key: "rotate_after_days", Env: []string{"BFF_JWK_ROTATE_AFTER_DAYS", "DCRCTL_ROTATE_AFTER_DAYS"}, Default: "30"},
	{Key: "retire_after_days", Env: []string{"BFF_JWK_RETIRE_AFTER_DAYS", "DCRCTL_RETIRE_AFTER_DAYS"}, Default: "60"},
	{Key: "pushgateway_url", Env: []string{"PROM_PUSHGATEWAY_URL", "DCRCTL_PUSHGATEWAY_URL"}, Help: "optional"},
	{Key: "metrics_file", Env: []string{"DCRCTL_METRICS_FILE"}, Help: "write the metrics here too, for node_exporter's textfile collector (*.prom)"},
	{Key: "pushgateway_job", Env: []string{"DCRCTL_PUSHGATEWAY_JOB"}, Default: "dcrctl_bootstrap"},
	{Key: "admin_token", Env: []string{"BOOTSTRAP_ADMIN_TOKEN", "DCRCTL_ADMIN_TOKEN"}, Secret: true, Help: "renews a rejected RAT"},
	{Key: "admin_rat_url", Env: []string{"DCRCTL_ADMIN_RAT_URL"}, Help: "renewal URL: a template with {client_id} (admin-url recovery), or Keycloak's admin realm URL (default derived from IDP_BASE_URL); no default otherwise"},
	{Key: "idp_preset", Env: []string{"DCRCTL_IDP_PRESET"}, Default: "generic", Help: "the IdP's dialect: " + strings.Join(PresetNames(), ", ")},
	{Key: "rat_recovery", Env: []string{"DCRCTL_RAT_RECOVERY"}, Help: "how a rejected RAT is recovered: " + strings.Join(Recoveries, ", ") + " (default: the preset's; admin-url when DCRCTL_ADMIN_RAT_URL is set and the preset has none)"},
	{Key: "open_registration", Env: []string{"DCRCTL_OPEN_REGISTRATION"}, Help: "true: register without an initial access token (default: the preset's)"},
	{Key: "admin_api", Env: []string{"DCRCTL_ADMIN_API"}, Help: "true: the IdP manages clients through its admin API, not RFC 7592: register, read, update and delete with BOOTSTRAP_ADMIN_TOKEN, no RAT (default: the preset's; okta)"},
	{Key: "auth_scheme", Env: []string{"DCRCTL_AUTH_SCHEME"}, Help: "the Authorization scheme of the tokens sent to the IdP's registration and admin API: Bearer (RFC 6750), or SSWS for an Okta API token (default: the preset's, else Bearer)"},
	{Key: "force_replace", Env: []string{"DCR_FORCE_REPLACE", "DCRCTL_FORCE_REPLACE"}, Default: "false", Help: "true: re-register"},
	{Key: "reconcile", Env: []string{"DCRCTL_RECONCILE"}, Default: "true", Help: "true: bootstrap brings registered metadata that drifted from the configuration back in line; false: only report it"},
	{Key: "registration_endpoint", Env: []string{"DCRCTL_REGISTRATION_ENDPOINT"}, Help: "skip discovery"},
	{Key: "update_method", Env: []string{"DCRCTL_UPDATE_METHOD"}, Help: "put (RFC 7592) or patch (default: the preset's)"},
	{Key: "key_alg", Env: []string{"BFF_JWK_ALG", "DCRCTL_KEY_ALG"}, Default: "RS256", Help: strings.Join(keys.Algorithms, ", ") + "; unset, a rotation keeps the algorithm of the key in use"},
	{Key: "allow_weak_key", Env: []string{"DCRCTL_ALLOW_WEAK_KEY"}, Default: "false", Help: "true: use an adopted RSA key under 2048 bits (with a warning) instead of refusing it"},
	{Key: "timeout", Env: []string{"DCRCTL_TIMEOUT"}, Default: "10s", Help: "per request that cannot change the RAT"},
	{Key: "update_timeout", Env: []string{"DCRCTL_UPDATE_TIMEOUT"}, Default: "120s", Help: "for a request that may rotate the RAT (registration, update, renewal, a read where the IdP may rotate on read): its answer is waited for this long, through a cancel or a signal"},
	{Key: "retry_deadline", Env: []string{"DCRCTL_RETRY_DEADLINE"}, Default: "60s", Help: "how long to retry an unreachable IdP"},
	{Key: "activate_after", Env: []string{"DCRCTL_ACTIVATE_AFTER"}, Default: "0s", Help: "delay between publishing a new key and signing with it"},
	{Key: "lock_timeout", Env: []string{"DCRCTL_LOCK_TIMEOUT"}, Default: "60s", Help: "how long to wait for the state lock"},
	{Key: "client_id_url", Env: []string{"DCRCTL_CLIENT_ID_URL"}, Help: "a Client ID Metadata Document client: this https URL is the client_id; nothing is registered, the document is written to DCRCTL_CLIENT_DOC_FILE"},
	{Key: "client_doc_file", Env: []string{"DCRCTL_CLIENT_DOC_FILE"}, Help: "where the Client ID Metadata Document is written (atomically), for the application or a static host to serve at DCRCTL_CLIENT_ID_URL"},
	{Key: "jwks_file", Env: []string{"DCRCTL_JWKS_FILE"}, Help: "a metadata document client: write the public keys here, served at DCRCTL_JWKS_URI, which the document names (jwks_uri) instead of holding them inline"},
	{Key: "jwks_uri", Env: []string{"DCRCTL_JWKS_URI"}, Help: "the https URL DCRCTL_JWKS_FILE is served at"},
	{Key: "rotation", Env: []string{"DCRCTL_ROTATION"}, Default: "update", Help: "update: keys rotate by an RFC 7592 update (where the IdP offers none, a due rotation is warned about); reregister: there, register a new client with the new key and switch to it"},
	{Key: "resource_url", Env: []string{"DCRCTL_RESOURCE_URL"}, Help: "the protected resource (an MCP server) the client is for: doctor discovers its authorization servers (RFC 9728) and, for a metadata document client, proves a token at each that supports documents"},
	{Key: "doc_path", Env: []string{"DCRCTL_DOC_PATH"}, Help: "dcrctl run: also serve the client metadata document at this path on DCRCTL_LISTEN (Cache-Control from DCRCTL_DOC_CACHE, ETag, never a redirect); empty: not served"},
	{Key: "doc_cache", Env: []string{"DCRCTL_DOC_CACHE"}, Default: "5m", Help: "a metadata document client: the longest an AS may cache the document; a new key signs only this long (or DCRCTL_ACTIVATE_AFTER, if longer) after it was published"},
	{Key: "verify", Env: []string{"DCRCTL_VERIFY"}, Help: "token: where the registration cannot be read (no RFC 7592), bootstrap proves the key with a private_key_jwt client-credentials token request (RFC 7523); empty: no request"},
	{Key: "fresh_for", Env: []string{"DCRCTL_FRESH_FOR"}, Help: "bootstrap skips the read at the IdP when the registration was verified there (by any replica) this recently and nothing is due; 0 always reads (default: 0 for the file store, 5m for the kubernetes store)"},
	{Key: "check_interval", Env: []string{"DCRCTL_CHECK_INTERVAL"}, Default: "6h", Help: "dcrctl run: maintenance every this long (±10% jitter)"},
	{Key: "listen", Env: []string{"DCRCTL_LISTEN"}, Default: "127.0.0.1:9464", Help: "dcrctl run: /healthz, /readyz and /metrics here (loopback by default; empty: off)"},
	{Key: "on_key_change", Env: []string{"DCRCTL_ON_KEY_CHANGE"}, Help: "dcrctl run: when the active key changes, a signal for the child (SIGHUP) or a shell command (DCRCTL_ACTIVE_KID set)"},
	{Key: "state_store", Env: []string{"DCRCTL_STATE_STORE"}, Default: "file", Help: "file (BFF_CLIENT_CRED_PATH and its flock) or kubernetes (a Secret and a Lease; local copies still written)"},
	{Key: "kube_namespace", Env: []string{"DCRCTL_KUBE_NAMESPACE"}, Help: "namespace of the Secret and Lease (default: the pod's own, else default)"},
	{Key: "kube_secret", Env: []string{"DCRCTL_KUBE_SECRET"}, Default: "dcrctl-state", Help: "the Secret holding the state and the private keys"},
	{Key: "kube_lease", Env: []string{"DCRCTL_KUBE_LEASE"}, Help: "the Lease replicas take turns with (default: the Secret's name + -lock)"},
	{Key: "kube_lease_duration", Env: []string{"DCRCTL_KUBE_LEASE_DURATION"}, Default: "15s", Help: "how long a replica's Lease lasts unrenewed (a killed replica's is taken over after it)"},
	{Key: "kubeconfig", Env: []string{"DCRCTL_KUBECONFIG", "KUBECONFIG"}, Help: "kubeconfig outside a cluster (in a pod: the service account)"},
	{Key: "audit_log", Env: []string{"DCRCTL_AUDIT_LOG"}, Help: "the audit trail of applied changes, one JSON line each (default: beside the state file, STATE.audit.jsonl)"},
	{Key: "tui_refresh", Env: []string{"DCRCTL_TUI_REFRESH"}, Help: "TUI auto-refresh interval; 0 is off (default: 60s where the preset keeps the RAT on a read, off where a read may rotate it)"},
	{Key: "ca_file", Env: []string{"DCRCTL_CA_FILE"}, Help: "extra CA bundle (PEM) for the IdP"},
	{Key: "trusted_hosts", Env: []string{"DCRCTL_TRUSTED_HOSTS"}, Help: "extra hosts (host or host:port) the RAT may be sent to besides the IdP's"},
	{Key: "iat_token_url", Env: []string{"DCRCTL_IAT_TOKEN_URL"}, Help: "client-credentials token URL for the IAT"},
	{Key: "iat_client_id", Env: []string{"DCRCTL_IAT_CLIENT_ID"}},
	{Key: "iat_client_secret", Env: []string{"DCRCTL_IAT_CLIENT_SECRET"}, Secret: true},
	{Key: "iat_scope", Env: []string{"DCRCTL_IAT_SCOPE"}, Default: "dcr_admin"},
}

// DCRCTL_ROTATION values.
const (
	RotationUpdate     = "update"
	RotationReregister = "reregister"
)

// DefaultKubeFreshFor is DCRCTL_FRESH_FOR with the Kubernetes store.
const DefaultKubeFreshFor = 5 * time.Minute

// Config is the validated configuration.
type Config struct {
	Enabled, Skip, ForceReplace bool
	Reconcile                   bool // bring drifted metadata back in line

	IdPBaseURL           string
	RegistrationEndpoint string
	IAT                  string
	ClientID             string
	// ClientIDURL is a Client ID Metadata Document client's client_id;
	// ClientDocFile is where its document is written; with JWKSURI, the
	// keys go to JWKSFile (served there) instead of inline.
	ClientIDURL, ClientDocFile string
	JWKSFile, JWKSURI          string
	// ResourceURL is the protected resource the client is for (MCP): doctor
	// discovers its authorization servers.
	ResourceURL string
	// Rotation is how keys rotate where they cannot be updated in place:
	// RotationUpdate (warn) or RotationReregister.
	Rotation string
	// DocCache is how long an AS may keep the document cached; DocPath
	// where `dcrctl run` serves it ("" = not served).
	DocCache      time.Duration
	DocPath       string
	ClientProfile string
	ClientName    string
	RedirectURIs  []string
	GrantTypes    []string

	SigningKeyPath string
	KID            string
	StatePath      string
	KeyAlg         string
	KeyAlgChosen   bool // KeyAlg was set, not the default: rotations use it whatever the key in use is
	AllowWeakKey   bool

	RotateAfter   time.Duration
	RetireAfter   time.Duration
	ActivateAfter time.Duration

	PushgatewayURL string
	PushgatewayJob string
	MetricsFile    string

	AdminToken  string
	AdminRATURL string

	Preset           Preset
	Recovery         string // one of Recoveries
	OpenRegistration bool
	// AdminAPI: the client is managed through the IdP's admin API with the
	// admin token (management "admin-api"), never with a RAT.
	AdminAPI bool
	// AuthScheme is the Authorization scheme for the IAT, RAT or admin token
	// sent to the registration API: Bearer, or the IdP's own (Okta: SSWS).
	AuthScheme string

	UpdateMethod  string
	Timeout       time.Duration
	UpdateTimeout time.Duration // requests that may rotate the RAT: never abandoned before this
	RetryDeadline time.Duration
	LockTimeout   time.Duration
	// FreshFor is how recently a verification at the IdP (recorded in the
	// state) lets bootstrap skip its read; 0 always reads.
	FreshFor time.Duration
	// VerifyToken: prove the key with a token request where the
	// registration cannot be read (DCRCTL_VERIFY=token).
	VerifyToken bool
	TUIRefresh  time.Duration // 0: off
	AuditLog    string        // "" = beside the state file

	CheckInterval time.Duration
	Listen        string
	OnKeyChange   string

	StateStore    string // file or kubernetes
	KubeNamespace string
	KubeSecret    string
	KubeLease     string
	Kubeconfig    string
	KubeLeaseTTL  time.Duration
	CAFile        string
	TrustedHosts  []string

	IATTokenURL     string
	IATClientID     string
	IATClientSecret string
	IATScope        string
}

// Error names the variable a bad value came from. Exit code 78.
type Error struct {
	Name    string // env name, or config key when it came from the file or a flag
	Problem string
	// Missing: required settings are not set at all (a profile may hold them).
	Missing bool
}

func (e *Error) Error() string { return "config: " + e.Name + ": " + e.Problem }

// New returns a viper instance that knows every setting's env names and
// default. Callers bind flags and set a config file on it.
func New() *viper.Viper {
	v := viper.New()
	for _, s := range Settings {
		// Explicit names: no prefix, and Unmarshal-free reading below.
		v.BindEnv(append([]string{s.Key}, s.Env...)...)
		v.SetDefault(s.Key, s.Default)
	}
	bindSecretFiles(v)
	return v
}

// reader reads settings from viper, keeping the first error.
type reader struct {
	v   *viper.Viper
	err *Error
}

func (r *reader) fail(key, problem string) { r.failNamed(nameOf(key), problem) }

// failNamed records the first problem, naming the variable at fault.
func (r *reader) failNamed(name, problem string) {
	if r.err == nil {
		r.err = &Error{Name: name, Problem: problem}
	}
}

// envSet is the env name of key the user set, if any.
func envSet(key string) (string, bool) {
	for _, s := range Settings {
		if s.Key != key {
			continue
		}
		for _, env := range s.Env {
			if _, set := os.LookupEnv(env); set {
				return env, true
			}
		}
	}
	return "", false
}

// nameOf is the env name the user set for key, else the config key.
func nameOf(key string) string {
	if env, ok := envSet(key); ok {
		return env
	}
	for _, s := range Settings {
		if s.Key == key {
			return s.Env[0] + " (" + key + ")"
		}
	}
	return key
}

// explicit reports whether key was set by the operator (an env name or the
// config file), not left at its default (viper's IsSet counts defaults).
func (r *reader) explicit(key string) bool {
	if _, ok := envSet(key); ok {
		return true
	}
	return r.v.InConfig(key)
}

// oneOf is a setting that must be one of allowed (lower case).
func (r *reader) oneOf(key string, allowed ...string) string {
	v := strings.ToLower(r.str(key))
	if !slices.Contains(allowed, v) {
		r.fail(key, fmt.Sprintf("%q is not one of %q", v, allowed))
	}
	return v
}

func (r *reader) str(key string) string { return strings.TrimSpace(r.v.GetString(key)) }

func (r *reader) boolean(key string) bool {
	raw := strings.ToLower(r.str(key))
	switch raw {
	case "true", "1":
		return true
	case "false", "0", "":
		return false
	}
	r.fail(key, fmt.Sprintf("%q is not a boolean (use true, false, 1 or 0)", raw))
	return false
}

func (r *reader) duration(key string) time.Duration {
	raw := r.str(key)
	d, err := time.ParseDuration(raw)
	if err != nil || d < 0 {
		r.fail(key, fmt.Sprintf("%q is not a duration (use Go syntax such as 90s or 10m)", raw))
	}
	return d
}

// optionalDuration is a duration, or unset when the setting is empty.
func (r *reader) optionalDuration(key string, unset time.Duration) time.Duration {
	if r.str(key) == "" {
		return unset
	}
	return r.duration(key)
}

func (r *reader) days(key string) time.Duration {
	raw := r.str(key)
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		r.fail(key, fmt.Sprintf("%q is not a positive whole number of days", raw))
	}
	return time.Duration(n) * 24 * time.Hour
}

func (r *reader) url(key string, required bool) string {
	raw := r.str(key)
	if raw == "" {
		if required {
			r.fail(key, "is required")
		}
		return ""
	}
	if err := CheckURL(raw); err != nil {
		r.fail(key, err.Error())
	}
	return raw
}

// baseURL is a URL that paths are appended to (discovery, registration):
// a query or fragment there would end up in the middle of every URL made
// from it.
func (r *reader) baseURL(key string) string {
	raw := r.url(key, false)
	if u, err := url.Parse(raw); err == nil && raw != "" && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		r.fail(key, fmt.Sprintf("%q has a query or fragment; give the issuer URL alone (paths such as /.well-known/openid-configuration are appended to it)", secretless(raw)))
	}
	return raw
}

// CheckURL accepts absolute http(s) URLs with a host and, if any, a port
// that can exist.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", secretless(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q has port %s, which cannot exist (1-65535)", secretless(raw), p)
		}
	}
	return nil
}

// secretless is a URL as it may be shown: without a password.
func secretless(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// SplitList splits a space or comma separated list, dropping empty items.
func SplitList(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// CheckAliases refuses a legacy variable and its DCRCTL_ alias set to
// different values: which one the operator meant cannot be guessed.
func CheckAliases() error {
	for _, s := range Settings {
		first, firstVal := "", ""
		for _, env := range s.Env {
			val, set := os.LookupEnv(env)
			if !set {
				continue
			}
			if first == "" {
				first, firstVal = env, val
			} else if strings.TrimSpace(val) != strings.TrimSpace(firstVal) {
				return &Error{Name: first + " and " + env, Problem: "are set to different values; unset one of them"}
			}
		}
	}
	return nil
}

// CheckFileKeys refuses a config file key that is not a setting (a typo such
// as rotate_after_day would otherwise be ignored in silence).
func CheckFileKeys(file string, keys []string) error {
	for _, k := range keys {
		if inner, ok := profileKey(k); ok {
			k = inner // a profile holds settings like the file itself
		}
		if !slices.ContainsFunc(Settings, func(s Setting) bool { return s.Key == k }) && !isSecretFileKey(k) {
			return &Error{Name: "--config " + file, Problem: fmt.Sprintf("unknown key %q (see `dcrctl config` for the keys)", k)}
		}
	}
	return nil
}

// Load reads and validates the configuration. It makes no request.
func Load(v *viper.Viper) (*Config, error) {
	if err := CheckAliases(); err != nil {
		return nil, err
	}
	r := &reader{v: v}
	c := &Config{
		Enabled:              r.boolean("enabled"),
		Skip:                 r.boolean("skip"),
		ForceReplace:         r.boolean("force_replace"),
		Reconcile:            r.boolean("reconcile"),
		IdPBaseURL:           strings.TrimRight(r.baseURL("idp_base_url"), "/"),
		RegistrationEndpoint: r.url("registration_endpoint", false),
		IAT:                  r.secret("iat"),
		ClientID:             r.str("client_id"),
		ClientIDURL:          r.str("client_id_url"),
		ClientDocFile:        r.str("client_doc_file"),
		JWKSFile:             r.str("jwks_file"),
		JWKSURI:              r.str("jwks_uri"),
		ResourceURL:          r.url("resource_url", false),
		Rotation:             r.oneOf("rotation", RotationUpdate, RotationReregister),
		DocCache:             r.duration("doc_cache"),
		DocPath:              r.str("doc_path"),
		ClientProfile:        r.str("client_profile"),
		ClientName:           r.str("client_name"),
		RedirectURIs:         SplitList(r.str("redirect_uris")),
		GrantTypes:           SplitList(r.str("grant_types")),
		SigningKeyPath:       r.str("signing_key"),
		KID:                  r.str("kid"),
		StatePath:            r.str("state_file"),
		KeyAlg:               r.str("key_alg"),
		KeyAlgChosen:         r.explicit("key_alg"),
		AllowWeakKey:         r.boolean("allow_weak_key"),
		RotateAfter:          r.days("rotate_after_days"),
		RetireAfter:          r.days("retire_after_days"),
		ActivateAfter:        r.duration("activate_after"),
		PushgatewayURL:       r.url("pushgateway_url", false),
		PushgatewayJob:       r.str("pushgateway_job"),
		MetricsFile:          r.str("metrics_file"),
		AdminToken:           r.secret("admin_token"),
		AdminRATURL:          r.str("admin_rat_url"),
		UpdateMethod:         strings.ToLower(r.str("update_method")),
		Timeout:              r.duration("timeout"),
		UpdateTimeout:        r.duration("update_timeout"),
		RetryDeadline:        r.duration("retry_deadline"),
		LockTimeout:          r.duration("lock_timeout"),
		FreshFor:             r.optionalDuration("fresh_for", -1),
		VerifyToken:          r.oneOf("verify", "", "token") == "token",
		TUIRefresh:           r.optionalDuration("tui_refresh", -1),
		AuditLog:             r.str("audit_log"),
		CheckInterval:        r.duration("check_interval"),
		Listen:               r.str("listen"),
		OnKeyChange:          r.str("on_key_change"),
		StateStore:           strings.ToLower(r.str("state_store")),
		KubeNamespace:        r.str("kube_namespace"),
		KubeSecret:           r.str("kube_secret"),
		KubeLease:            r.str("kube_lease"),
		Kubeconfig:           r.str("kubeconfig"),
		KubeLeaseTTL:         r.duration("kube_lease_duration"),
		CAFile:               r.str("ca_file"),
		TrustedHosts:         SplitList(r.str("trusted_hosts")),
		IATTokenURL:          r.url("iat_token_url", false),
		IATClientID:          r.str("iat_client_id"),
		IATClientSecret:      r.secret("iat_client_secret"),
		IATScope:             r.str("iat_scope"),
	}
	if r.err != nil {
		return nil, r.err
	}
	if c.FreshFor < 0 {
		// A fleet sharing a Secret verifies once per rollout; a single
		// container reads once per start, as the old helper did.
		c.FreshFor = 0
		if c.StateStore == "kubernetes" {
			c.FreshFor = DefaultKubeFreshFor
		}
	}
	if err := c.applyPreset(r); err != nil {
		return nil, err
	}
	for _, u := range c.RedirectURIs {
		if _, err := url.ParseRequestURI(u); err != nil {
			return nil, &Error{Name: nameOf("redirect_uris"), Problem: fmt.Sprintf("%q is not an absolute URI", u)}
		}
	}
	switch {
	case c.RotateAfter >= c.RetireAfter:
		return nil, &Error{Name: nameOf("rotate_after_days"), Problem: fmt.Sprintf("must be less than %s (%d days)", nameOf("retire_after_days"), keys.Days(c.RetireAfter))}
	case !keys.ValidAlg(c.KeyAlg):
		return nil, &Error{Name: nameOf("key_alg"), Problem: fmt.Sprintf("%q is not one of %s", c.KeyAlg, strings.Join(keys.Algorithms, ", "))}
	case !slices.Contains([]string{"put", "patch"}, c.UpdateMethod):
		return nil, &Error{Name: nameOf("update_method"), Problem: fmt.Sprintf("%q is not put or patch", c.UpdateMethod)}
	case c.Timeout == 0:
		return nil, &Error{Name: nameOf("timeout"), Problem: "must be more than 0"}
	case c.CheckInterval < time.Second:
		return nil, &Error{Name: nameOf("check_interval"), Problem: "must be at least 1s"}
	case c.StateStore != "file" && c.StateStore != "kubernetes":
		return nil, &Error{Name: nameOf("state_store"), Problem: fmt.Sprintf("%q is not file or kubernetes", c.StateStore)}
	case c.UpdateTimeout == 0:
		return nil, &Error{Name: nameOf("update_timeout"), Problem: "must be more than 0"}
	case c.Recovery == RecoveryAdminURL && c.AdminRATURL == "":
		return nil, &Error{Name: nameOf("admin_rat_url"), Problem: "is required with DCRCTL_RAT_RECOVERY=admin-url: dcrctl sends the admin token only to a renewal URL you configured"}
	case c.Recovery == RecoveryAdminURL && !strings.Contains(c.AdminRATURL, "{client_id}"):
		return nil, &Error{Name: nameOf("admin_rat_url"), Problem: "must contain {client_id}"}
	case c.AdminRATURL != "" && CheckURL(strings.ReplaceAll(c.AdminRATURL, "{client_id}", "x")) != nil:
		return nil, &Error{Name: nameOf("admin_rat_url"), Problem: fmt.Sprintf("%q is not an absolute http(s) URL template", c.AdminRATURL)}
	case c.Recovery == RecoveryKeycloak && c.AdminRATURL == "":
		return nil, &Error{Name: nameOf("admin_rat_url"), Problem: "is required for Keycloak recovery when IDP_BASE_URL is not a realm URL (…/realms/NAME): set it to https://HOST/admin/realms/NAME"}
	case c.IATTokenURL != "" && c.IATClientID == "":
		return nil, &Error{Name: nameOf("iat_client_id"), Problem: "is required with DCRCTL_IAT_TOKEN_URL"}
	case (c.JWKSFile == "") != (c.JWKSURI == ""):
		return nil, &Error{Name: nameOf("jwks_uri"), Problem: "DCRCTL_JWKS_FILE and DCRCTL_JWKS_URI go together: the file is what is served at the URL"}
	case c.JWKSURI != "" && !strings.HasPrefix(c.JWKSURI, "https://"):
		return nil, &Error{Name: nameOf("jwks_uri"), Problem: fmt.Sprintf("%q is not an https URL (an AS fetches https only)", c.JWKSURI)}
	case c.DocPath != "" && (c.ClientDocFile == "" || !strings.HasPrefix(c.DocPath, "/")):
		return nil, &Error{Name: nameOf("doc_path"), Problem: "must be a path starting with / and needs DCRCTL_CLIENT_DOC_FILE (the document served)"}
	case c.ClientIDURL != "" && c.ClientDocFile == "":
		return nil, &Error{Name: nameOf("client_doc_file"), Problem: "is required with DCRCTL_CLIENT_ID_URL: the document must be written where it is served from"}
	case c.ClientIDURL != "" && len(cimd.CheckURL(c.ClientIDURL)) > 0:
		return nil, &Error{Name: nameOf("client_id_url"), Problem: cimd.CheckURL(c.ClientIDURL)[0].Why}
	case c.CAFile != "":
		if _, err := os.Stat(c.CAFile); err != nil {
			return nil, &Error{Name: nameOf("ca_file"), Problem: err.Error()}
		}
	}
	return c, nil
}

// RequireLocal checks what every command that touches the client needs.
// Every missing setting is named at once: a new user fixes them in one go.
func (c *Config) RequireLocal() error {
	type need struct{ name, what string }
	var missing []need
	if c.StatePath == "" {
		missing = append(missing, need{nameOf("state_file"), "path of the state JSON"})
	}
	if c.SigningKeyPath == "" {
		missing = append(missing, need{nameOf("signing_key"), "PEM path of the signing key"})
	}
	if c.IdPBaseURL == "" && c.RegistrationEndpoint == "" && c.ClientIDURL == "" {
		missing = append(missing, need{nameOf("idp_base_url"), "unless DCRCTL_REGISTRATION_ENDPOINT is set"})
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return &Error{Name: missing[0].name, Problem: "is required (" + missing[0].what + ")", Missing: true}
	}
	var names []string
	for _, m := range missing {
		names = append(names, m.name+" ("+m.what+")")
	}
	return &Error{Name: strings.Join(names, "; "), Problem: "are required", Missing: true}
}

// AuditPath is the audit trail: DCRCTL_AUDIT_LOG, else beside the state
// file (beside the file a symlinked state names, which is writable).
func (c *Config) AuditPath() string {
	if c.AuditLog != "" {
		return c.AuditLog
	}
	if target, err := atomicfile.Resolve(c.StatePath); err == nil {
		return target + ".audit.jsonl"
	}
	return c.StatePath + ".audit.jsonl"
}

// HasIATSource reports whether a registration can get an initial access token.
func (c *Config) HasIATSource() bool { return c.IAT != "" || c.IATTokenURL != "" }

// applyPreset resolves DCRCTL_IDP_PRESET and the settings whose default is
// the preset's: update method, open registration, RAT recovery, TUI refresh.
func (c *Config) applyPreset(r *reader) error {
	name := strings.ToLower(r.str("idp_preset"))
	p, ok := LookupPreset(name)
	if !ok {
		return &Error{Name: nameOf("idp_preset"), Problem: fmt.Sprintf("%q is not one of %s", name, strings.Join(PresetNames(), ", "))}
	}
	c.Preset = p
	if c.UpdateMethod == "" {
		c.UpdateMethod = p.UpdateMethod
	}
	c.OpenRegistration = p.OpenRegistration
	if r.str("open_registration") != "" {
		c.OpenRegistration = r.boolean("open_registration")
	}
	c.AdminAPI = p.AdminAPI
	if r.str("admin_api") != "" {
		c.AdminAPI = r.boolean("admin_api")
	}
	c.AuthScheme = cmp.Or(r.str("auth_scheme"), p.AuthScheme, "Bearer")
	if strings.ContainsAny(c.AuthScheme, " \t\r\n") {
		return &Error{Name: nameOf("auth_scheme"), Problem: fmt.Sprintf("%q is not one word (Bearer, SSWS)", c.AuthScheme)}
	}
	c.Recovery = strings.ToLower(r.str("rat_recovery"))
	switch {
	case c.Recovery != "":
	case p.Recovery == RecoveryNone && c.AdminRATURL != "":
		c.Recovery = RecoveryAdminURL
	default:
		c.Recovery = p.Recovery
	}
	if !slices.Contains(Recoveries, c.Recovery) {
		return &Error{Name: nameOf("rat_recovery"), Problem: fmt.Sprintf("%q is not one of %s", c.Recovery, strings.Join(Recoveries, ", "))}
	}
	if c.Recovery == RecoveryKeycloak && c.AdminRATURL == "" {
		c.AdminRATURL = keycloakAdminBase(c.IdPBaseURL)
	}
	if c.TUIRefresh < 0 {
		// A refresh is a read: automatic only where it cannot rotate the RAT.
		c.TUIRefresh = 0
		if p.ReadKeepsRAT {
			c.TUIRefresh = time.Minute
		}
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// AdminRATURLFor is the admin renewal URL for a client (admin-url recovery).
func (c *Config) AdminRATURLFor(clientID string) string {
	return strings.ReplaceAll(c.AdminRATURL, "{client_id}", url.PathEscape(clientID))
}

// HasRecovery reports whether a rejected RAT can be recovered at all with
// this configuration (an admin token and a way to use it).
func (c *Config) HasRecovery() bool { return c.Recovery != RecoveryNone }

// Secrets lists the secret values in this config, for redaction: tokens,
// the IAT client's secret, and passwords or keys inside configured URLs.
func (c *Config) Secrets() []string {
	out := []string{c.IAT, c.AdminToken, c.IATClientSecret}
	for _, u := range []string{c.IdPBaseURL, c.RegistrationEndpoint, c.PushgatewayURL, c.IATTokenURL, c.AdminRATURL} {
		out = append(out, secret.URLSecrets(u)...)
	}
	return out
}

// Effective lists every setting with its effective value, secrets shown as
// fingerprints, and where the value came from. flags maps the keys set by a
// command-line flag to that flag's name (flags win over everything).
func Effective(v *viper.Viper, flags map[string]string) []EffectiveSetting {
	out := make([]EffectiveSetting, 0, len(Settings))
	for _, s := range Settings {
		val := v.GetString(s.Key)
		source := "default"
		for _, env := range s.Env {
			if _, set := os.LookupEnv(env); set {
				source = "env " + env
				break
			}
		}
		if flag, set := flags[s.Key]; set {
			source = "flag " + flag
		}
		if source == "default" && v.InConfig(s.Key) {
			source = "file"
		}
		if file := v.GetString(fileKey(s.Key)); s.Secret && val == "" && file != "" {
			val, source = "(from file "+file+")", "env "+fileName(s.Key)
			if strings.HasSuffix(fileName(s.Key), "(config file)") {
				source = "file"
			}
		} else if s.Secret && val != "" {
			val = secret.Fingerprint(val)
		} else if strings.Contains(val, "://") {
			val = secret.MaskURL(val)
		}
		out = append(out, EffectiveSetting{Key: s.Key, Env: s.Env[0], Value: val, Source: source})
	}
	return out
}

// EffectiveSetting is one line of `dcrctl config`.
type EffectiveSetting struct {
	Key    string `json:"key"`
	Env    string `json:"env"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// TrustsHost reports whether a registration access token may be sent to the
// host of rawURL: the IdP's own host (from IDP_BASE_URL or the registration
// endpoint) or one listed in DCRCTL_TRUSTED_HOSTS. A response naming another
// host must not lead dcrctl to hand the token over.
func (c *Config) TrustsHost(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	for _, base := range []string{c.IdPBaseURL, c.RegistrationEndpoint} {
		if b, err := url.Parse(base); err == nil && b.Host != "" && strings.EqualFold(b.Host, u.Host) {
			return true
		}
	}
	for _, h := range c.TrustedHosts {
		if strings.EqualFold(h, u.Host) || strings.EqualFold(h, u.Hostname()) {
			return true
		}
	}
	return false
}
