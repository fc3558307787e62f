package cli

import (
	"errors"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/state"
)

// Exit codes (sysexits.h), the one place they are decided. README documents them.
const (
	ExitOK          = 0
	ExitError       = 1  // anything not listed below
	ExitUsage       = 64 // EX_USAGE: bad command line, an action refused (retire the active key), or the TUI without a terminal
	ExitNoInput     = 66 // EX_NOINPUT: an action on an existing client, but the state holds none
	ExitDataErr     = 65 // EX_DATAERR: unusable IdP response, an update or a registration with DCR_CLIENT_ID the IdP refused (400/409), corrupt state, bad PEM
	ExitUnavailable = 69 // EX_UNAVAILABLE: IdP unreachable until the retry deadline
	ExitCantCreate  = 73 // EX_CANTCREAT: the state cannot be written where BFF_CLIENT_CRED_PATH says (missing folder, read-only mount, permissions); found before any request whose answer would need saving
	ExitTempFail    = 75 // EX_TEMPFAIL: state lock not acquired in time
	ExitNoPerm      = 77 // EX_NOPERM: the IdP rejected a token (RAT, or the IAT at registration) and it could not be recovered
	ExitStalePlan   = 79 // dcrctl's own: the client changed between a plan and its application; nothing was applied, the new plan is shown
	ExitConfig      = 78 // EX_CONFIG: bad or missing configuration, missing IAT, no registration endpoint, an IAT token endpoint refusing the configured client or scope
)

// usageError marks command-line mistakes.
type usageError struct{ error }

// ExitCode maps an error to its exit code.
func ExitCode(err error) int {
	var (
		cfgErr      *config.Error
		missingIAT  *engine.MissingIATError
		ratRejected *engine.RATRejectedError
		iatRejected *engine.IATRejectedError
		refusedUpd  *engine.UpdateRefusedError
		refusedReg  *engine.RegistrationRefusedError
		notRegd     *engine.NotRegisteredError
		unreachable *idp.UnreachableError
		badResponse *idp.BadResponseError
		corrupt     *state.CorruptError
		unwritable  *state.UnwritableError
		pemErr      *keys.PEMError
		mismatch    *engine.KeyMismatchError
		usage       usageError
		refused     *engine.RefusedError
		stale       *engine.StalePlanError
		health      healthError
		childExit   exitCodeError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &health):
		return health.code
	case errors.As(err, &childExit):
		return childExit.code
	case errors.As(err, &usage), errors.As(err, &refused), errors.As(err, new(*engine.UnmanagedError)):
		return ExitUsage
	case errors.As(err, &cfgErr), errors.As(err, &missingIAT), errors.As(err, new(*idp.SettingError)):
		return ExitConfig
	case errors.Is(err, state.ErrLockTimeout), errors.Is(err, state.ErrConflict):
		return ExitTempFail
	case errors.As(err, &unwritable), errors.As(err, new(*state.UnreadableError)):
		return ExitCantCreate
	case errors.As(err, &notRegd):
		return ExitNoInput
	case errors.As(err, &stale):
		return ExitStalePlan
	case errors.As(err, &refusedUpd), errors.As(err, &refusedReg):
		return ExitDataErr
	case errors.As(err, &ratRejected), errors.As(err, &iatRejected), idp.IsRejected(err), storeForbidden(err), errors.As(err, new(*idp.KeyRefusedError)):
		return ExitNoPerm
	case errors.As(err, &unreachable):
		return ExitUnavailable
	case errors.As(err, &badResponse), errors.As(err, &corrupt), errors.As(err, &pemErr), errors.As(err, &mismatch), errors.As(err, new(lintFailedError)):
		return ExitDataErr
	}
	return ExitError
}
