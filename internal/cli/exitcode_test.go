package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/engine"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/state"
)

func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitError},
		{usageError{errors.New("bad flag")}, ExitUsage},
		{&engine.RefusedError{Problem: "active"}, ExitUsage},
		{&config.Error{Name: "X", Problem: "bad"}, ExitConfig},
		{&engine.MissingIATError{Reason: "r"}, ExitConfig},
		{fmt.Errorf("wrapped: %w", state.ErrLockTimeout), ExitTempFail},
		{&engine.StalePlanError{Differences: []string{"active key was a, is b"}}, ExitStalePlan},
		{&state.UnwritableError{Path: "/s", Err: errors.New("read-only file system")}, ExitCantCreate},
		{&engine.RATRejectedError{Cause: &idp.Error{Status: 401}}, ExitNoPerm},
		{&idp.Error{Status: 403}, ExitNoPerm},
		{&idp.Error{Status: 400}, ExitError},
		{&idp.UnreachableError{Err: errors.New("refused")}, ExitUnavailable},
		{&idp.BadResponseError{Problem: "no client_id"}, ExitDataErr},
		{&state.CorruptError{Path: "p", Err: errors.New("x")}, ExitDataErr},
		{&keys.PEMError{Path: "p", Problem: "x"}, ExitDataErr},
		{&engine.KeyMismatchError{Problem: "x"}, ExitDataErr},
		{&engine.NotRegisteredError{StatePath: "/s.json"}, ExitNoInput},
		{&engine.UpdateRefusedError{Cause: &idp.Error{Status: 400}}, ExitDataErr},
		{&engine.IATRejectedError{Cause: &idp.Error{Status: 401}}, ExitNoPerm},
		{&engine.RATRejectedError{Cause: &idp.Error{Status: 401}, Renewal: &idp.RenewalUnavailableError{Cause: &idp.Error{Status: 404}}}, ExitNoPerm},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// Command-line mistakes exit 64 as documented, not 1.
func TestCommandLineMistakesAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"foo"}, {"keys"}, {"keys", "bogus"}, {"keys", "retire"}, {"rat"}, {"status", "extra"}, {"--bogus"}} {
		var out, errOut strings.Builder
		app := NewApp(strings.NewReader(""), &out, &errOut)
		if got := app.Run(context.Background(), args); got != ExitUsage {
			t.Errorf("dcrctl %v: exit %d, want %d\n%s", args, got, ExitUsage, errOut.String())
		}
	}
}
