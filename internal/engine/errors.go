package engine

import (
	"errors"
	"fmt"

	"github.com/dcrctl/dcrctl/internal/secret"
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
// could not be renewed. Exit 77.
type RATRejectedError struct {
	ClientID    string
	Fingerprint string
	Cause       error // the IdP's refusal
	Renewal     error // the failed admin renewal, if one was tried
}

func (e *RATRejectedError) Error() string {
	msg := fmt.Sprintf("the IdP rejected the registration access token (%s) of client %s: %v", e.Fingerprint, e.ClientID, e.Cause)
	if e.Renewal != nil {
		return msg + fmt.Sprintf("; renewal with BOOTSTRAP_ADMIN_TOKEN failed: %v; set DCR_FORCE_REPLACE=true to register the client again", e.Renewal)
	}
	return msg + "; set BOOTSTRAP_ADMIN_TOKEN to renew it through the admin endpoint, or DCR_FORCE_REPLACE=true to register the client again"
}

func (e *RATRejectedError) Unwrap() error { return e.Cause }

// KeyMismatchError: the local private key and what the state or the IdP says
// of the active kid disagree. Nothing is changed; an operator decides. Exit 65.
type KeyMismatchError struct{ Problem string }

func (e *KeyMismatchError) Error() string { return e.Problem }

func ratRejected(clientID, rat string, cause, renewal error) error {
	return &RATRejectedError{ClientID: clientID, Fingerprint: secret.Fingerprint(rat), Cause: cause, Renewal: renewal}
}

// errPlanEndsHere: a dry run cannot see past a step it only plans (a RAT
// renewal); the plan is complete up to there.
var errPlanEndsHere = errors.New("plan ends here")

// errClientGone: the IdP answered 404 for the client; it must be registered again.
var errClientGone = errors.New("the IdP no longer knows the client")

// RefusedError: an operator asked for something that would break the client
// (retire the active key, retire a key that is not there). Exit 64.
type RefusedError struct{ Problem string }

func (e *RefusedError) Error() string { return e.Problem }
