package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// Check is one doctor finding: what was checked, whether it passed, what
// was found, and how to fix it when not.
type Check struct {
	Name  string `json:"check"`
	OK    bool   `json:"ok"`
	Found string `json:"found"`
	Fix   string `json:"fix,omitempty"`
	// Skipped: not checked (and not failed), Found says why.
	Skipped bool `json:"skipped,omitempty"`
}

// maxClockSkew is how far the local clock may be from the IdP's: RFC 7523
// assertions carry iat/exp, and IdPs allow little leeway.
const maxClockSkew = 30 * time.Second

// Doctor runs read-only checks of everything a run depends on and reports
// each. It takes no lock and changes nothing; the one request that may
// rotate the RAT (the client read) is made only where the preset says a
// read keeps it.
func (e *Engine) Doctor(ctx context.Context) []Check {
	cfg := e.Cfg
	var out []Check
	add := func(c Check) { out = append(out, c) }

	add(Check{Name: "configuration", OK: cfg.RequireLocal() == nil, Found: foundOr(cfg.RequireLocal(), fmt.Sprintf("valid (preset %s, state %s)", cfg.Preset.Name, cfg.StatePath)),
		Fix: "set the variable named (see dcrctl config)"})
	if cfg.RequireLocal() != nil {
		return out
	}
	add(e.checkWritable(ctx))
	add(e.checkFile("state file", cfg.StatePath, "BFF_CLIENT_CRED_PATH"))
	add(e.checkFile("signing key", cfg.SigningKeyPath, "BFF_JWT_SIGNING_KEY"))
	st, stErr := e.store().Load(ctx)
	add(e.checkKey(st, stErr))
	endpoint, date, discErr := e.checkDiscovery(ctx, &out)
	add(e.checkTLS(discErr))
	add(checkClock(date, e.Now()))
	add(e.checkRAT(ctx, st, endpoint))
	if cfg.ClientIDURL != "" {
		for _, c := range e.checkDocument(ctx, st) {
			add(c)
		}
	}
	if cfg.ResourceURL != "" {
		for _, c := range e.checkResource(ctx, st) {
			add(c)
		}
	}
	if st != nil && len(st.AbandonedClients) > 0 {
		var stuck, pending []string
		for _, ab := range st.AbandonedClients {
			if ab.Deletable() {
				pending = append(pending, ab.ClientID)
			} else {
				stuck = append(stuck, ab.ClientID)
			}
		}
		if len(stuck) > 0 {
			add(Check{Name: "abandoned clients", Found: fmt.Sprintf("%d client(s) dcrctl replaced but could not delete: %s", len(stuck), strings.Join(stuck, ", ")),
				Fix: "ask the IdP's administrator to delete them (they still hold keys dcrctl published), then remove them from abandoned_clients in the state"})
		}
		if len(pending) > 0 {
			add(Check{Name: "replaced clients", OK: true, Found: fmt.Sprintf("%d replaced client(s) not yet deleted: %s", len(pending), strings.Join(pending, ", ")),
				Fix: "run dcrctl bootstrap: it deletes them once the client in use is proven"})
		}
	}
	add(e.checkRecovery())
	add(e.checkIAT(ctx, st))
	if cfg.PushgatewayURL != "" {
		add(e.checkPushgateway(ctx))
	}
	return out
}

func foundOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

func (e *Engine) checkWritable(ctx context.Context) Check {
	store := e.store()
	c := Check{Name: "state folder writable", OK: true, Found: "a temp file can be created and renamed beside " + e.Cfg.StatePath}
	if e.Cfg.StateStore == "kubernetes" {
		c.Found = store.Where() + " can be written (access review), and the local copies' folder"
	}
	if err := store.CheckWritable(ctx); err != nil {
		c.OK, c.Found = false, err.Error()
		c.Fix = "mount the volume, create the folder, or make it writable for this user; with the Kubernetes store, grant the Role of deploy/kubernetes/rbac.yaml"
	}
	return c
}

// checkFile reports a secret file's mode, owner and links.
func (e *Engine) checkFile(name, path, variable string) Check {
	c := Check{Name: name + " (" + variable + ")", OK: true}
	target, err := atomicfile.Resolve(path)
	if err != nil {
		return Check{Name: c.Name, Found: err.Error(), Fix: "fix the symbolic links of " + path}
	}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Found = "not there yet (bootstrap creates it)"
		return c
	case err != nil:
		return Check{Name: c.Name, Found: err.Error(), Fix: "make " + path + " readable by this user"}
	}
	c.Found = fmt.Sprintf("mode %04o", fi.Mode().Perm())
	if target != path {
		c.Found += ", a symbolic link to " + target + " (written through)"
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		c.Found += fmt.Sprintf(", owned by uid %d, not this user (%d)", uid, os.Getuid())
	}
	if fi.IsDir() {
		return Check{Name: c.Name, Found: target + " is a directory", Fix: "point " + variable + " at the file itself"}
	}
	f, err := os.Open(target)
	if err != nil {
		return Check{Name: c.Name, Found: c.Found + ": cannot be read (" + err.Error() + ")",
			Fix: "run dcrctl as the user that owns " + target + " (" + variable + " holds what the client depends on: replacing the file would orphan it)"}
	}
	f.Close()
	if fi.Mode().Perm()&0o077 != 0 {
		c.OK, c.Fix = false, "chmod 600 "+target+": it holds a secret"
	}
	return c
}

// checkKey checks that the PEM parses and is the key the state names.
func (e *Engine) checkKey(st *state.State, stErr error) Check {
	c := Check{Name: "signing key matches active_kid"}
	var unreadable *state.UnreadableError
	switch {
	case errors.As(stErr, &unreadable):
		c.Found, c.Fix = "not checked: the state file cannot be read", "run dcrctl as the user that owns "+unreadable.Path
		return c
	case stErr != nil:
		c.Found, c.Fix = stErr.Error(), "restore the state file from a backup, or move it aside to register afresh"
		return c
	}
	signer, err := e.vault().Active()
	if errors.Is(err, fs.ErrNotExist) {
		c.OK, c.Found = true, "no signing key yet (bootstrap generates one)"
		return c
	}
	if err != nil {
		c.Found, c.Fix = err.Error(), "restore the PEM, or remove it to have bootstrap generate (and publish) a new key"
		return c
	}
	tp, _ := keys.Thumbprint(signer)
	rec := st.Key(st.ActiveKID)
	switch {
	case st.ActiveKID == "":
		c.OK, c.Found = true, "the PEM parses; the state names no active key yet (bootstrap adopts it)"
	case rec == nil || rec.Thumbprint == "" || rec.Thumbprint == tp:
		c.OK, c.Found = true, fmt.Sprintf("the PEM parses and is active_kid %q", st.ActiveKID)
	default:
		c.Found = fmt.Sprintf("the PEM's thumbprint is not that of active_kid %q", st.ActiveKID)
		c.Fix = "restore the PEM that belongs to the state, or see README: Incident"
	}
	return c
}

// checkDiscovery finds the registration endpoint as a run would; it also
// returns the IdP's Date header for the clock check.
func (e *Engine) checkDiscovery(ctx context.Context, out *[]Check) (endpoint string, date time.Time, err error) {
	c := Check{Name: "discovery and registration endpoint"}
	defer func() { *out = append(*out, c) }()
	if e.Cfg.RegistrationEndpoint != "" {
		c.OK, c.Found = true, "DCRCTL_REGISTRATION_ENDPOINT "+secret.MaskURL(e.Cfg.RegistrationEndpoint)+" (no discovery)"
		date, err = e.IdP.ServerDate(ctx, e.Cfg.RegistrationEndpoint)
		return e.Cfg.RegistrationEndpoint, date, err
	}
	date, _ = e.IdP.ServerDate(ctx, idp.DiscoveryURLs(e.Cfg.IdPBaseURL)[0])
	const fix = "check IDP_BASE_URL (the issuer), DCRCTL_IDP_PRESET, or set DCRCTL_REGISTRATION_ENDPOINT"
	var noDoc *idp.NoDiscoveryError
	if _, discErr := e.IdP.Discover(ctx, e.Cfg.IdPBaseURL); errors.As(discErr, &noDoc) && e.Cfg.Preset.RegistrationPath == "" {
		// A run would guess the old helper's path: say so, unverified.
		c.Found, c.Fix = discErr.Error()+"; a run would fall back to "+secret.MaskURL(e.Cfg.IdPBaseURL+"/api/oidc/register")+", unverified", fix
		return e.Cfg.IdPBaseURL + "/api/oidc/register", date, nil
	}
	r := &run{e: e, cfg: e.Cfg, st: &state.State{}, report: &Report{}}
	endpoint, err = r.registrationEndpoint(ctx)
	if err != nil {
		c.Found, c.Fix = err.Error(), fix
		return "", date, err
	}
	c.OK, c.Found = true, "registration endpoint "+secret.MaskURL(endpoint)
	return endpoint, date, nil
}

func (e *Engine) checkTLS(discErr error) Check {
	c := Check{Name: "TLS trust", OK: true}
	if !strings.HasPrefix(e.Cfg.IdPBaseURL+e.Cfg.RegistrationEndpoint, "https://") {
		c.Found = "the IdP is reached over plain HTTP (fine on loopback only)"
		return c
	}
	c.Found = "the system's CA certificates"
	if e.Cfg.CAFile != "" {
		c.Found = "the system's CA certificates and " + e.Cfg.CAFile + " (DCRCTL_CA_FILE)"
	}
	if discErr != nil && strings.Contains(discErr.Error(), "TLS") {
		c.OK, c.Found = false, discErr.Error()
		c.Fix = "set DCRCTL_CA_FILE to the PEM of the CA that signed the IdP's certificate"
	}
	return c
}

func checkClock(idpDate, now time.Time) Check {
	c := Check{Name: "clock against the IdP", OK: true}
	if idpDate.IsZero() {
		c.Skipped, c.Found = true, "the IdP sent no Date header"
		return c
	}
	skew := now.Sub(idpDate).Round(time.Second)
	c.Found = fmt.Sprintf("local clock %s from the IdP's Date header", skew)
	if skew > maxClockSkew || skew < -maxClockSkew {
		c.OK, c.Fix = false, "synchronise this host's clock (NTP): private_key_jwt assertions carry iat and exp and are refused when the clocks disagree"
	}
	return c
}

// checkRAT reads the client only where a read keeps the RAT.
func (e *Engine) checkRAT(ctx context.Context, st *state.State, endpoint string) Check {
	c := Check{Name: "registration access token"}
	switch {
	case st == nil:
		c.Found, c.Fix = "not checked: the state file could not be read", "see the state file's check above"
		return c
	case st.Management == state.ManagementDocument:
		c.Skipped, c.OK = true, true
		c.Found = "none needed: client " + st.ClientID + " is described by its metadata document (dcrctl cimd lint " + st.ClientID + " checks it as an AS would)"
		return c
	case st.Unmanaged():
		c.Skipped, c.OK = true, true
		c.Found = "none: client " + st.ClientID + " was registered without RFC 7592 management (the IdP gave no registration access token); nothing to read, keys cannot be updated in place"
		return c
	case !st.HasCredentials():
		c.Skipped, c.OK, c.Found = true, true, "no client registered yet (bootstrap registers one)"
		return c
	case !e.Cfg.Preset.ReadKeepsRAT:
		c.Skipped, c.OK = true, true
		c.Found = fmt.Sprintf("not read: a read may rotate the RAT at this IdP (DCRCTL_IDP_PRESET=%s), and doctor changes nothing; dcrctl status reads it (and saves a new one)", e.Cfg.Preset.Name)
		return c
	}
	// Through a run: an IdP may answer with a new RAT whatever the preset
	// says, and that answer is saved before anything else.
	var rotated string
	_, err := e.withRun(ctx, Options{DryRun: true, readOnly: true, Command: "doctor"}, func(ctx context.Context, r *run) error {
		uri, err := r.clientURI(ctx)
		if err != nil {
			return err
		}
		before := r.st.RegistrationAccessToken
		_, err = r.readClient(ctx, uri)
		if r.st.RegistrationAccessToken != before {
			rotated = secret.Fingerprint(r.st.RegistrationAccessToken)
		}
		return err
	})
	credential := st.RegistrationAccessToken
	if st.Management == state.ManagementAdminAPI {
		c.Name, credential = "admin API token (BOOTSTRAP_ADMIN_TOKEN)", e.Cfg.AdminToken
	}
	h := ratHealth(err, secret.Fingerprint(credential))
	c.OK = h.Health == RATValid
	c.Found = h.Health + " " + h.Fingerprint
	if rotated != "" {
		c.Found += fmt.Sprintf("; the IdP answered the read with a new one (%s), saved: this IdP rotates the RAT on a read, and DCRCTL_IDP_PRESET=%s says it does not", rotated, e.Cfg.Preset.Name)
	}
	if !c.OK {
		c.Found += ": " + h.Error
		c.Fix = "see README: Incident: 401/403 from the IdP (dcrctl status names the next step)"
		if st.Management == state.ManagementAdminAPI {
			c.Fix = "set BOOTSTRAP_ADMIN_TOKEN to a token the IdP's admin API accepts for managing clients"
		}
	}
	return c
}

func (e *Engine) checkRecovery() Check {
	cfg := e.Cfg
	c := Check{Name: "RAT recovery path", OK: true}
	switch {
	case cfg.AdminAPI:
		c.Found = fmt.Sprintf("none needed: the IdP's admin API manages the client with BOOTSTRAP_ADMIN_TOKEN (preset %s)", cfg.Preset.Name)
		return c
	case !cfg.HasRecovery():
		c.Found = fmt.Sprintf("none (preset %s, DCRCTL_RAT_RECOVERY=none): a dead RAT means re-registering (DCR_FORCE_REPLACE)", cfg.Preset.Name)
	case cfg.AdminToken == "":
		c.Found = fmt.Sprintf("%s, no BOOTSTRAP_ADMIN_TOKEN set (rat renew asks for it on a terminal)", cfg.Recovery)
	default:
		c.Found = fmt.Sprintf("%s with BOOTSTRAP_ADMIN_TOKEN %s", cfg.Recovery, secret.Fingerprint(cfg.AdminToken))
	}
	if cfg.Recovery == config.RecoveryAdminURL || cfg.Recovery == config.RecoveryKeycloak {
		c.Found += ", renewal URL " + secret.MaskURL(cfg.AdminRATURL)
	}
	return c
}

// checkIAT checks the IAT source; a client-credentials source is asked for
// a token (it changes nothing at the IdP).
func (e *Engine) checkIAT(ctx context.Context, st *state.State) Check {
	cfg := e.Cfg
	c := Check{Name: "initial access token source", OK: true}
	switch {
	case cfg.AdminAPI && cfg.AdminToken != "":
		c.Found = "none needed: the IdP's admin API registers with BOOTSTRAP_ADMIN_TOKEN " + secret.Fingerprint(cfg.AdminToken)
	case cfg.AdminAPI:
		c.OK, c.Found, c.Fix = false, "none: this IdP registers and manages clients through its admin API", "set BOOTSTRAP_ADMIN_TOKEN (Okta: an API token)"
	case cfg.IAT != "":
		c.Found = "DCR_IAT " + secret.Fingerprint(cfg.IAT) + " (a static token may be one-time or expire)"
	case cfg.IATTokenURL != "" && e.IAT != nil:
		if _, err := e.IAT.IAT(ctx); err != nil {
			c.OK, c.Found, c.Fix = false, err.Error(), "check DCRCTL_IAT_TOKEN_URL, DCRCTL_IAT_CLIENT_ID, DCRCTL_IAT_CLIENT_SECRET and DCRCTL_IAT_SCOPE"
		} else {
			c.Found = "client credentials at " + secret.MaskURL(cfg.IATTokenURL) + ": a token was issued"
		}
	case cfg.OpenRegistration:
		c.Found = "none needed: open registration (DCRCTL_OPEN_REGISTRATION)"
	case st != nil && st.Registered():
		c.Found = "none configured; not needed while the client is registered (needed to register again)"
	default:
		c.OK, c.Found, c.Fix = false, "none configured, and no client is registered", "set DCR_IAT (or DCR_IAT_FILE), or DCRCTL_IAT_TOKEN_URL with its client"
	}
	return c
}

func (e *Engine) checkPushgateway(ctx context.Context) Check {
	c := Check{Name: "pushgateway", OK: true}
	url := strings.TrimRight(e.Cfg.PushgatewayURL, "/") + "/-/healthy"
	ctx, cancel := context.WithTimeout(ctx, e.Cfg.Timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := e.IdP.HTTP.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	c.Found = secret.MaskURL(e.Cfg.PushgatewayURL) + " is healthy"
	if err != nil {
		c.OK, c.Found, c.Fix = false, fmt.Sprintf("%s: %v", secret.MaskURL(url), err), "check PROM_PUSHGATEWAY_URL (a push failure never fails bootstrap, but the metric is lost)"
	}
	return c
}

// fileOwner is the uid that owns a file, where the platform says.
func fileOwner(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
