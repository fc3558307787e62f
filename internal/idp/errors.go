package idp

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an HTTP error answer from the IdP (RFC 6750 / RFC 7591 §3.2.2
// error body where there is one). Body is truncated and redacted.
type Error struct {
	Op          string // "register", "read", "update", "delete", "renew RAT", "discovery"
	URL         string
	Status      int
	Code        string
	Description string
	Body        string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("idp: %s %s: HTTP %d", e.Op, e.URL, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	} else if e.Body != "" && e.Code == "" {
		msg += ": " + e.Body
	}
	return msg
}

// Rejected reports whether the IdP refused the credential presented. RFC 7592
// says 401, but real IdPs also answer 403 (Gravitee AM): both mean the token
// is unusable.
func (e *Error) Rejected() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// IsRejected reports whether err is an IdP refusal of the token presented.
func IsRejected(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Rejected()
}

// HasStatus reports whether err is an IdP answer with this HTTP status.
func HasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// IsNotFound reports whether the IdP answered 404.
func IsNotFound(err error) bool { return HasStatus(err, http.StatusNotFound) }

// SettingError: the IdP refused a request that, as configured, can never
// succeed (RFC 6749 §5.2: invalid_client, unauthorized_client,
// invalid_scope); Setting names what to fix. Exit 78, like a configuration
// error.
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return "config: " + e.Setting + ": " + e.Problem }

// UnreachableError means the IdP could not be reached, or kept failing with
// 5xx/429, until the retry deadline. Exit code 69.
type UnreachableError struct {
	Op       string
	URL      string
	Attempts int
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("idp: %s %s: unreachable after %d attempt(s): %v", e.Op, e.URL, e.Attempts, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// BadResponseError means the IdP answered with something dcrctl cannot use
// (invalid JSON, a missing client_id, a JWKS with private members). Exit 65.
type BadResponseError struct {
	Op      string
	URL     string
	Problem string
}

func (e *BadResponseError) Error() string {
	return fmt.Sprintf("idp: %s %s: unusable response: %s", e.Op, e.URL, e.Problem)
}
