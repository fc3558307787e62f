// Package secret keeps credentials out of everything dcrctl prints: it gives
// each secret a short fingerprint to show instead, and scrubs known secret
// values and secret-bearing JSON fields from text that came from elsewhere.
package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
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
