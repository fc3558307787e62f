// Package secret keeps credentials out of everything dcrctl prints: it gives
// each secret a short fingerprint to show instead, and scrubs known secret
// values and secret-bearing JSON fields from text that came from elsewhere.
package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Fingerprint is a short, stable, one-way label for a secret, safe to log:
// enough to tell two tokens apart, useless for recovering either.
func Fingerprint(s string) string {
	if s == "" {
		return "(none)"
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// secretFields are JSON members whose values are credentials wherever they
// appear in an IdP body (RFC 7591 §3.2.1, RFC 6749 §5.1, RFC 7517 private members).
var secretFields = regexp.MustCompile(`"(registration_access_token|client_secret|access_token|refresh_token|id_token|d|p|q|dp|dq|qi|k)"\s*:\s*"[^"]*"`)

// Redactor scrubs the secret values it has been told about.
type Redactor struct {
	mu     sync.RWMutex
	values []string
}

// Add registers secret values; empty and very short values are ignored so that
// redaction never mangles ordinary text.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 6 {
			r.values = append(r.values, v)
		}
	}
}

// Redact returns s with every known secret replaced by its fingerprint and
// every secret-bearing JSON member blanked.
func (r *Redactor) Redact(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, v := range r.values {
			if strings.Contains(s, v) {
				s = strings.ReplaceAll(s, v, "["+Fingerprint(v)+"]")
			}
		}
		r.mu.RUnlock()
	}
	return secretFields.ReplaceAllString(s, `"$1":"[redacted]"`)
}

// Truncate shortens s to at most n bytes, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(truncated)"
}

// secretQueryParams are query parameters whose values are credentials.
var secretQueryParams = []string{"api_key", "apikey", "key", "token", "access_token", "secret", "client_secret", "password", "passwd", "sig", "signature", "auth"}

// MaskURL returns a URL fit to show: a userinfo password becomes "xxxxx" and
// the value of a secret-looking query parameter (api_key, token, …)
// "REDACTED". A URL with nothing to mask is returned exactly as given.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	masked := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		masked = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for name := range q {
			if slices.Contains(secretQueryParams, strings.ToLower(name)) {
				q.Set(name, "REDACTED")
				masked = true
			}
		}
		u.RawQuery = q.Encode()
	}
	if !masked {
		return raw
	}
	return u.String()
}

// URLSecrets are the secret parts of a URL (userinfo password, values of
// secret-looking query parameters), for a Redactor.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, has := u.User.Password(); has {
		out = append(out, p)
	}
	for name, values := range u.Query() {
		if slices.Contains(secretQueryParams, strings.ToLower(name)) {
			out = append(out, values...)
		}
	}
	return out
}
