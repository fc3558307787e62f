package engine

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dcrctl/dcrctl/internal/idp"
)

// MissingIATError: a registration is needed and no initial access token can
// be had. Raised before any request. Exit 78.
type MissingIATError struct{ Reason string }

func (e *MissingIATError) Error() string {
	return fmt.Sprintf("registration needed (%s) but no initial access token is configured: "+
		"ask the IdP administrator for an initial access token and set DCR_IAT, "+
		"or set DCRCTL_IAT_TOKEN_URL, DCRCTL_IAT_CLIENT_ID and DCRCTL_IAT_CLIENT_SECRET to obtain one with the client-credentials grant (scope DCRCTL_IAT_SCOPE, default dcr_admin)", e.Reason)
}

// RATRejectedError: the IdP refused the registration access token and it
// could not be recovered. Exit 77. Remedy says what to do next.
type RATRejectedError struct {
	ClientID    string
	Fingerprint string
	Cause       error // the IdP's refusal
	Renewal     error // the failed recovery, if one was tried
	Remedy      string
	// Note is what a write-ahead note or other local evidence says of how the
	// RAT was lost, when dcrctl knows.
	Note string
}

func (e *RATRejectedError) Error() string {
	msg := fmt.Sprintf("the IdP rejected the registration access token (%s) of client %s: %v", e.Fingerprint, e.ClientID, e.Cause)
	if e.Note != "" {
		msg += "; " + e.Note
	}
	if e.Renewal != nil {
		msg += fmt.Sprintf("; recovery failed: %v", e.Renewal)
	}
	return msg + "; " + e.Remedy
}

func (e *RATRejectedError) Unwrap() error { return e.Cause }

// IATRejectedError: the IdP refused the registration (401/403): the initial
// access token is missing, wrong, expired or lacks the scope. Exit 77.
type IATRejectedError struct {
	Cause error
	Open  bool // no IAT was sent (DCRCTL_OPEN_REGISTRATION)
}

func (e *IATRejectedError) Error() string {
	if e.Open {
		return fmt.Sprintf("the IdP refused an open registration (no initial access token sent): %v; it requires one: set DCR_IAT, or DCRCTL_IAT_TOKEN_URL, DCRCTL_IAT_CLIENT_ID and DCRCTL_IAT_CLIENT_SECRET, and unset DCRCTL_OPEN_REGISTRATION", e.Cause)
	}
	return fmt.Sprintf("initial access token rejected: %v; check DCR_IAT (a static token may be one-time or expired), or DCRCTL_IAT_TOKEN_URL, DCRCTL_IAT_CLIENT_ID, DCRCTL_IAT_CLIENT_SECRET and DCRCTL_IAT_SCOPE (the token needs the IdP's registration scope)", e.Cause)
}

func (e *IATRejectedError) Unwrap() error { return e.Cause }

// UpdateRefusedError: the IdP refused an update (400 and the like). The
// pending key stays recorded and usable; nothing was lost. Exit 65.
type UpdateRefusedError struct {
	Cause      error
	PendingKID string
}

func (e *UpdateRefusedError) Error() string {
	msg := fmt.Sprintf("the IdP refused the update: %v", e.Cause)
	if e.PendingKID != "" {
		msg += fmt.Sprintf("; the next key %q stays recorded and is published on the next successful run; `dcrctl keys retire -- %s` discards it", e.PendingKID, e.PendingKID)
	}
	return msg
}

func (e *UpdateRefusedError) Unwrap() error { return e.Cause }

// KeyMismatchError: the local private key and what the state or the IdP says
// of the active kid disagree. Nothing is changed; an operator decides. Exit 65.
type KeyMismatchError struct{ Problem string }

func (e *KeyMismatchError) Error() string { return e.Problem }

// errPlanEndsHere: a dry run cannot see past a step it only plans (a RAT
// renewal); the plan is complete up to there.
var errPlanEndsHere = errors.New("plan ends here")

// errClientGone: the client's own registration_client_uri answered 404; it
// must be registered again. Nothing else (a renewal URL's 404 least of all)
// may conclude that.
var errClientGone = errors.New("the IdP no longer knows the client")

// RefusedError: an operator asked for something that would break the client
// (retire the active key, retire a key that is not there). Exit 64.
type RefusedError struct{ Problem string }

func (e *RefusedError) Error() string { return e.Problem }

// NotRegisteredError: an operator action (rotate, retire, renew) on a state
// that holds no client. Only bootstrap and register register. Exit 66.
type NotRegisteredError struct{ StatePath string }

func (e *NotRegisteredError) Error() string {
	return fmt.Sprintf("no client registered in %s (BFF_CLIENT_CRED_PATH); run dcrctl bootstrap or dcrctl register", e.StatePath)
}

// RegistrationRefusedError: the IdP refused a registration with a 4xx other
// than 401/403 (RFC 7591 §3.2.2: invalid_redirect_uri,
// invalid_client_metadata, …). The message says what the IdP said; the
// remedies for a taken client_id only when the IdP said the id is taken.
// Exit 65; the state is left as it was.
type RegistrationRefusedError struct {
	Cause    error
	ClientID string // DCR_CLIENT_ID, when one was asked for
}

// settingFor names the setting behind an RFC 7591 §3.2.2 error code.
var settingFor = map[string]string{
	"invalid_redirect_uri":    "DCR_REDIRECT_URIS",
	"invalid_client_metadata": "the member the IdP names (DCR_REDIRECT_URIS, DCRCTL_GRANT_TYPES, DCR_CLIENT_PROFILE, DCRCTL_CLIENT_NAME, DCR_CLIENT_ID)",
}

// idTaken reports whether the IdP said the requested client_id is taken.
func (e *RegistrationRefusedError) idTaken() bool {
	var answered *idp.Error
	if e.ClientID == "" || !errors.As(e.Cause, &answered) {
		return false
	}
	said := strings.ToLower(answered.Description + " " + answered.Body)
	return answered.Status == http.StatusConflict || strings.Contains(said, "already") || strings.Contains(said, "in use") || strings.Contains(said, "exists") || strings.Contains(said, "taken")
}

func (e *RegistrationRefusedError) Error() string {
	if e.idTaken() {
		return fmt.Sprintf("the IdP refused to register client_id %s (DCR_CLIENT_ID) as taken: %v; either "+
			"recover the old registration's access token (dcrctl rat renew, with the bootstrap admin token), "+
			"or have the IdP administrator delete client %s and run again, "+
			"or unset DCR_CLIENT_ID so that the IdP assigns a new client_id (the BFF reads it from the state file after a restart)", e.ClientID, e.Cause, e.ClientID)
	}
	msg := fmt.Sprintf("the IdP refused the registration: %v; nothing was saved", e.Cause)
	var answered *idp.Error
	if errors.As(e.Cause, &answered) {
		if setting, ok := settingFor[answered.Code]; ok {
			msg += "; fix " + setting
		}
	}
	return msg
}

func (e *RegistrationRefusedError) Unwrap() error { return e.Cause }

// AdminTokenRejected reports whether err is a RAT renewal that the IdP
// refused for its admin token (401/403): a UI then asks for the token again
// rather than reuse it.
func AdminTokenRejected(err error) bool {
	var rej *RATRejectedError
	return errors.As(err, &rej) && rej.Renewal != nil && idp.IsRejected(rej.Renewal) || errors.As(err, new(*AdminAPIRejectedError))
}

// AdminAPIRejectedError: at an IdP that manages clients through its admin
// API (management admin-api), the admin token was refused (401/403). No
// RAT is involved; nothing was changed. Exit 77.
type AdminAPIRejectedError struct {
	ClientID    string
	Fingerprint string
	Cause       error
}

func (e *AdminAPIRejectedError) Error() string {
	return fmt.Sprintf("the IdP's admin API refused the admin token (%s, BOOTSTRAP_ADMIN_TOKEN) for client %s: %v; nothing was changed; "+
		"set BOOTSTRAP_ADMIN_TOKEN to a token allowed to manage clients there (Okta: an API token, sent with DCRCTL_AUTH_SCHEME=SSWS, the okta preset's)", e.Fingerprint, e.ClientID, e.Cause)
}

func (e *AdminAPIRejectedError) Unwrap() error { return e.Cause }

// UnmanagedError: an operator action (rotate, retire, renew) on a client
// the IdP gave no RFC 7592 management for. Exit 64 (an action refused).
type UnmanagedError struct{ ClientID string }

func (e *UnmanagedError) Error() string {
	return fmt.Sprintf("client %s was registered without RFC 7592 management (the IdP gave no registration access token): its keys cannot be updated in place and it cannot be read; "+
		"`dcrctl register --force` registers a new client with a new key (the old one stays at the IdP and is recorded as abandoned)", e.ClientID)
}
