package engine

import (
	"context"
	"errors"
	"fmt"
)

// Every change to the client goes through one applier. An operation decides
// from what it read and from the model it keeps in the run (the state, the
// keys); each change it wants is a change value: the lines an operator
// reads, and the effect that makes it so (files, the state, the IdP). apply
// runs the effect and then lists the lines; a dry run lists them and runs
// nothing. A dry run is therefore the same decisions without the effects,
// not a second path through each operation. (The store's save and persist
// refuse to write in a dry run as well: a safety net under the applier.)

// change is one step of a plan.
type change struct {
	// say is what the plan says; evaluated after the effect, so that a
	// line can name what the effect chose (a generated key's kid).
	say func() []string
	// effect makes the change; nil for a note that explains a plan (what
	// stays, what waits), listed in a dry run only.
	effect func(context.Context) error
	// outcome and planned, when set, become the report's outcome: the
	// first once applied, the second in a dry run ("would register").
	outcome, planned string
}

// line is a say of one formatted line.
func line(format string, args ...any) func() []string {
	s := fmt.Sprintf(format, args...)
	return func() []string { return []string{s} }
}

// errNotApplied is returned by an effect that found it could not do what
// its line says and dealt with that otherwise (a deletion the IdP refused,
// recorded as an abandoned client): the run goes on, the line is not listed.
var errNotApplied = errors.New("change not applied")

// apply applies c, or in a dry run lists it. It reports whether the effect
// ran, so that a plan that cannot see past an unapplied change (a renewal
// it only planned) can end there.
func (r *run) apply(ctx context.Context, c change) (applied bool, err error) {
	if r.opts.DryRun {
		if c.planned != "" {
			r.report.Outcome = c.planned
		}
		r.list(c)
		return false, nil
	}
	if c.effect == nil {
		return false, nil
	}
	if c.outcome != "" {
		r.report.Outcome = c.outcome
	}
	// Listed once done: an interrupted run lists only what it completed.
	switch err := c.effect(ctx); {
	case errors.Is(err, errNotApplied):
		return true, nil
	case err != nil:
		return true, err
	}
	r.list(c)
	return true, nil
}

func (r *run) list(c change) {
	if c.say != nil {
		r.report.Steps = append(r.report.Steps, c.say()...)
	}
}
