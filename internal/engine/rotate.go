package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/state"
)

// Maintenance of a registered client: read it, then rotate, publish, prune,
// retire and promote keys as the policy (internal/keys) says is due.

// sawRegistration records the read in the basis and, when applying a plan,
// stops before any change if the registration is not what the plan saw.
func (r *run) sawRegistration(reg *idp.Registration) error {
	r.basis = r.basis.withRegistration(reg, r.intendedMetadata())
	seen := r.now.Truncate(time.Second)
	r.st.JWKSSeenAt = &seen // saved with the next write, if any
	if r.opts.Expect == nil {
		return nil
	}
	if diff := r.opts.Expect.differences(r.basis); len(diff) > 0 {
		return &StalePlanError{Differences: diff}
	}
	return nil
}

func (r *run) markUpdated() {
	if r.report.Outcome == "unchanged" {
		r.report.Outcome = "updated"
	}
}

// maintain reads the registration and applies what is due.
func (r *run) maintain(ctx context.Context) error {
	if r.opts.RenewRAT && r.opts.Expect != nil && r.opts.Expect.Read {
		// The plan read the registration before its renewal: check that it
		// is still what the plan saw before renewing anything.
		uri, err := r.clientURI(ctx)
		if err != nil {
			return err
		}
		reg, err := r.readClient(ctx, uri)
		if err != nil {
			return &StalePlanError{Differences: []string{"the registration could not be read as the plan read it: " + err.Error()}}
		}
		if err := r.sawRegistration(reg); err != nil {
			return err
		}
	}
	if r.opts.RenewRAT {
		if err := r.renewRAT(ctx); err != nil {
			var cfgErr *config.Error
			var rejected *RATRejectedError
			if errors.As(err, &cfgErr) || errors.As(err, &rejected) {
				return err
			}
			return r.ratRejected(errors.New("renewal requested"), err)
		}
	}
	reg, err := r.read(ctx)
	if errors.Is(err, errPlanEndsHere) {
		return nil
	}
	if errors.Is(err, errClientGone) && r.opts.acts() {
		return fmt.Errorf("the IdP no longer knows client %s (HTTP 404 on its registration_client_uri); nothing was changed; `dcrctl bootstrap` or `dcrctl register` registers it again", r.st.ClientID)
	}
	if errors.Is(err, errClientGone) {
		r.e.Log.Warn("the IdP no longer knows this client (HTTP 404); registering it again with the initial access token", "client_id", r.st.ClientID)
		if r.e.IAT == nil {
			return &MissingIATError{Reason: "the IdP answered 404 for client " + r.st.ClientID}
		}
		return r.register(ctx, "the IdP answered 404 for client "+r.st.ClientID, "re-registered")
	}
	if err != nil {
		return err
	}
	if err := r.sawRegistration(reg); err != nil {
		return err
	}
	if pub := keys.Find(reg.JWKS, r.active.rec.KID); pub != nil && !keys.SameKey(pub, r.active.signer) {
		return &KeyMismatchError{Problem: fmt.Sprintf("the IdP publishes kid %q with a different public key than %s (BFF_JWT_SIGNING_KEY); nothing was changed", r.active.rec.KID, r.e.vault().Where())}
	}
	if err := r.prune(reg.JWKS); err != nil {
		return err
	}
	policy := r.policy()
	if r.opts.Retire != "" {
		if err := r.checkRetire(reg.JWKS); err != nil {
			return err
		}
		if r.pending != nil && r.opts.Retire == r.pending.rec.KID {
			if err := r.discardPending(); err != nil {
				return err
			}
		}
		if keys.Find(reg.JWKS, r.opts.Retire) != nil {
			policy.Retire = []string{r.opts.Retire}
		}
	}
	if !r.noRotation && (policy.RotationDue(r.active.info(), r.pending != nil, r.now) || (r.opts.Rotate && r.pending == nil)) {
		if err := r.generatePending(reg.JWKS); err != nil {
			return err
		}
	}
	var pendingInfo *keys.Info
	if r.pending != nil {
		info := r.pending.info()
		pendingInfo = &info
	}
	plan := policy.PlanJWKS(r.publishedInfo(reg.JWKS), r.active.info(), pendingInfo, r.now)
	drift := r.drift(reg.Metadata)
	r.report.Drift = drift
	reconcile := len(drift) > 0 && r.cfg.Reconcile
	if len(drift) > 0 && !r.cfg.Reconcile {
		r.e.Log.Warn("the registration differs from the configuration; DCRCTL_RECONCILE=false: only reported", "drift", fmt.Sprint(drift))
	}
	if plan.Changes() {
		r.report.JWKS = &plan
	}
	if plan.Changes() || reconcile {
		r.report.Outcome = "updated"
		_, err := r.apply(ctx, change{
			say: func() []string { return publishLines(plan, drift, "") },
			effect: func(ctx context.Context) error {
				var err error
				reg, err = r.publish(ctx, reg, plan, drift)
				return err
			}})
		if err != nil {
			return err
		}
	}
	// The IdP publishes plan.After now (publish checked its answer), or
	// will once the plan is applied.
	if err := r.promoteIfReady(plan.After); err != nil {
		return err
	}
	return r.recordVerified()
}

// publishLines are the plan's lines for a JWKS change and the drift it
// brings in line; where says where the keys are published ("" for the IdP).
func publishLines(plan keys.JWKSPlan, drift []Drift, where string) []string {
	var lines []string
	for _, kid := range plan.Add {
		lines = append(lines, fmt.Sprintf("publish key %q%s", kid, where))
	}
	for _, d := range plan.Drop {
		lines = append(lines, fmt.Sprintf("drop key %q (%s)", d.KID, d.Reason))
	}
	for _, d := range drift {
		lines = append(lines, fmt.Sprintf("bring %s in line with the configuration", d.Member))
	}
	return lines
}

// checkRetire refuses to retire a key that is not published or still
// needed. The next key may be retired: that discards it (the way out when
// an IdP keeps refusing the update that would publish it).
func (r *run) checkRetire(published jwk.Set) error {
	kid := r.opts.Retire
	switch {
	case r.pending != nil && kid == r.pending.rec.KID:
		return nil
	case kid == r.active.rec.KID:
		return &RefusedError{Problem: fmt.Sprintf("key %q is the active signing key; rotate first, then retire it", kid)}
	case keys.Find(published, kid) == nil:
		return &RefusedError{Problem: fmt.Sprintf("key %q is not published by the IdP; published: %s", kid, kidList(keys.KIDs(published)))}
	}
	// Assertions it signed may still be checked until the verification
	// window ends: the plan says so, for the operator to confirm.
	if rec := r.st.Key(kid); rec != nil && rec.SupersededAt != nil {
		if until := rec.SupersededAt.Add(r.policy().VerificationWindow()); r.now.Before(until) {
			r.report.Warnings = append(r.report.Warnings, fmt.Sprintf("key %q stopped signing %s, within the verification window (until %s): what it signed may still be verified, and will fail once it is unpublished",
				kid, rec.SupersededAt.Format(time.RFC3339), until.Format(time.DateOnly)))
		}
	}
	return nil
}

// discardPending forgets the next key: its record, its PEM, and no new one
// is made in this run. The state is written first, so a crash between the
// two leaves an orphan .next file that loadPending never reads.
func (r *run) discardPending() error {
	kid := r.pending.rec.KID
	r.markUpdated()
	r.noRotation = true
	r.st.PendingKID, r.pending = "", nil
	_, err := r.apply(r.ctx, change{
		say: line("discard the next key %q (never signed with)", kid),
		effect: func(context.Context) error {
			r.forget([]keys.Drop{{KID: kid}})
			if err := r.save(); err != nil {
				return err
			}
			return r.e.vault().DiscardNext()
		}})
	return err
}

func (r *run) policy() keys.Policy {
	return keys.Policy{RotateAfter: r.cfg.RotateAfter, RetireAfter: r.cfg.RetireAfter, LastSuperseded: r.lastSuperseded()}
}

// lastSuperseded is the kid that signed until the latest rotation, if known.
func (r *run) lastSuperseded() string {
	var kid string
	var at time.Time
	for _, k := range r.st.Keys {
		if k.SupersededAt != nil && k.KID != r.st.ActiveKID && k.SupersededAt.After(at) {
			kid, at = k.KID, *k.SupersededAt
		}
	}
	return kid
}

// publishedInfo pairs the IdP's kids with what this state knows of them.
func (r *run) publishedInfo(set jwk.Set) []keys.Info {
	var out []keys.Info
	for _, kid := range keys.KIDs(set) {
		i := keys.Info{KID: kid}
		if rec := r.st.Key(kid); rec != nil {
			i = info(*rec)
		}
		out = append(out, i)
	}
	return out
}

// prune forgets the records of keys that are neither published (as just
// read) nor the active or next key: history from re-registrations and
// retirements done elsewhere. Saved at once only when something was pruned.
func (r *run) prune(published jwk.Set) error {
	kept := r.st.Keys[:0:0]
	for _, k := range r.st.Keys {
		if k.KID == r.st.ActiveKID || k.KID == r.st.PendingKID || keys.Find(published, k.KID) != nil {
			kept = append(kept, k)
		}
	}
	if len(kept) == len(r.st.Keys) {
		return nil
	}
	r.e.Log.Info("forgetting records of keys the IdP no longer publishes", "records", len(r.st.Keys), "kept", len(kept))
	r.st.Keys = kept
	return r.save()
}

// rotationAlg is the algorithm of the next key: the one the operator chose
// (BFF_JWK_ALG, DCRCTL_KEY_ALG), else the key in use's, so that an adopted
// EC key is not silently replaced by an RSA one.
func (r *run) rotationAlg() string {
	if !r.cfg.KeyAlgChosen && keys.ValidAlg(r.active.rec.Alg) {
		return r.active.rec.Alg
	}
	return r.cfg.KeyAlg
}

// generatePending makes the next key and writes its private half to the
// pending file, and the state, before the IdP is told of it: a crash then
// leaves a key the next run publishes, never a published key with no private half.
func (r *run) generatePending(published jwk.Set) error {
	why := fmt.Sprintf("active key %q is %d days old, rotate after %d", r.active.rec.KID, keys.Days(r.now.Sub(r.active.rec.CreatedAt)), keys.Days(r.cfg.RotateAfter))
	if r.opts.Rotate {
		why = "rotation requested"
	}
	alg := r.rotationAlg()
	// What later decisions see, in a dry run too: a next key exists. The
	// key itself is made by the effect, which puts it in its place.
	r.pending = &localKey{rec: state.Key{KID: newKeyKID, Alg: alg, CreatedAt: r.now}}
	_, err := r.apply(r.ctx, change{
		say: func() []string {
			return []string{fmt.Sprintf("generate a new %s key %q (%s)", alg, r.pending.rec.KID, why)}
		},
		effect: func(context.Context) error {
			signer, kid, err := keys.GenerateWithKID(alg)
			if err != nil {
				return err
			}
			if r.st.Key(kid) != nil || keys.Find(published, kid) != nil {
				return fmt.Errorf("generated key's kid %q is already in use; refusing to reuse a kid", kid)
			}
			rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, alg), CreatedAt: r.now.Truncate(time.Second), Thumbprint: kid}
			if err := r.e.vault().SetNext(signer); err != nil {
				return err
			}
			faults.Point("pending-key-written")
			r.st.PutKey(rec)
			r.st.PendingKID = kid
			if err := r.save(); err != nil {
				return err
			}
			faults.Point("pending-key-recorded")
			r.pending = &localKey{signer: signer, rec: rec}
			return nil
		}})
	return err
}

// newKeyKID stands for the kid of a key a plan would generate.
const newKeyKID = "(new key)"

// publish sends the planned JWKS: an RFC 7592 §2.2 full PUT, or a PATCH
// of jwks alone for IdPs that offer it.
func (r *run) publish(ctx context.Context, reg *idp.Registration, plan keys.JWKSPlan, drift []Drift) (*idp.Registration, error) {
	set, err := r.buildJWKS(reg.JWKS, plan.After)
	if err != nil {
		return nil, err
	}
	uri := r.st.RegistrationClientURI
	var updated *idp.Registration
	method := http.MethodPut
	if r.cfg.UpdateMethod == "patch" {
		method = http.MethodPatch
	}
	err = r.critical(ctx, opUpdate, method, uri, func(ctx context.Context) error {
		var err error
		if method == http.MethodPatch {
			partial := idp.Metadata{"jwks": set}
			intended := r.intendedMetadata()
			for _, d := range drift {
				partial[d.Member] = intended[d.Member]
			}
			updated, err = r.e.IdP.Patch(ctx, uri, r.credential(), partial)
		} else {
			updated, err = r.e.IdP.Update(ctx, uri, r.credential(), idp.UpdateBody(reg.Metadata, r.intendedMetadata(), r.st.ClientID, set))
		}
		if err != nil {
			return err
		}
		faults.Point("jwks-accepted") // the IdP rotated the RAT; it is not saved yet
		return r.adoptRAT(updated.RAT)
	})
	var refused *idp.Error
	switch {
	case idp.IsRejected(err) && r.st.Management == state.ManagementAdminAPI:
		return nil, r.adminAPIRejected(err)
	case idp.IsRejected(err):
		return nil, r.ratRejected(err, nil)
	case errors.As(err, &refused):
		pending := ""
		if r.pending != nil {
			pending = r.pending.rec.KID
		}
		return nil, &UpdateRefusedError{Cause: err, PendingKID: pending}
	case err != nil:
		return nil, err
	}
	if still := r.drift(updated.Metadata); len(still) > 0 {
		r.e.Log.Warn("the IdP accepted the update but still returns values that differ from the configuration; it may normalise them", "drift", fmt.Sprint(still))
	}
	for _, kid := range plan.Add {
		if keys.Find(updated.JWKS, kid) == nil {
			return nil, &idp.BadResponseError{Op: "update", URL: uri, Problem: fmt.Sprintf("the IdP accepted the update but does not publish kid %q", kid)}
		}
	}
	r.markPublished(plan.Add)
	r.forget(plan.Drop)
	if err := r.save(); err != nil {
		return nil, err
	}
	faults.Point("jwks-recorded")
	return updated, nil
}

func (r *run) markPublished(kids []string) {
	now := r.now.Truncate(time.Second)
	for _, kid := range kids {
		if rec := r.st.Key(kid); rec != nil && rec.PublishedAt == nil {
			rec.PublishedAt = &now
			if r.pending != nil && r.pending.rec.KID == kid {
				r.pending.rec.PublishedAt = &now
			}
		}
	}
}

// forget removes the records of dropped keys, so the state stays small.
func (r *run) forget(dropped []keys.Drop) {
	gone := map[string]bool{}
	for _, d := range dropped {
		gone[d.KID] = true
	}
	kept := r.st.Keys[:0]
	for _, k := range r.st.Keys {
		if !gone[k.KID] || k.KID == r.st.ActiveKID || k.KID == r.st.PendingKID {
			kept = append(kept, k)
		}
	}
	r.st.Keys = kept
}

// buildJWKS assembles the set to publish: keys the IdP has, as it has them,
// and the public halves of the active and pending keys.
func (r *run) buildJWKS(current jwk.Set, kids []string) (jwk.Set, error) {
	set := jwk.NewSet()
	for _, kid := range kids {
		var k jwk.Key
		switch {
		case kid == r.active.rec.KID:
			pub, err := keys.PublicJWK(r.active.signer, kid, r.active.rec.Alg)
			if err != nil {
				return nil, err
			}
			k = pub
		case r.pending != nil && kid == r.pending.rec.KID:
			pub, err := keys.PublicJWK(r.pending.signer, kid, r.pending.rec.Alg)
			if err != nil {
				return nil, err
			}
			k = pub
		default:
			k = keys.Find(current, kid)
		}
		if k == nil {
			return nil, fmt.Errorf("no public key for kid %q", kid)
		}
		if err := set.AddKey(k); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// promoteIfReady makes the pending key the signing key once the IdP publishes
// it and DCRCTL_ACTIVATE_AFTER has passed since: rename the PEM into place
// (atomic), then record the new active kid. A crash between the two is
// finished by loadKeys on the next run.
func (r *run) promoteIfReady(published []string) error {
	p := r.pending
	if p == nil || !slices.Contains(published, p.rec.KID) {
		return nil
	}
	if p.rec.PublishedAt == nil {
		// Published by a run that crashed before saving: start the wait now.
		r.markPublished([]string{p.rec.KID})
		if err := r.save(); err != nil {
			return err
		}
	}
	if p.rec.PublishedAt != nil {
		if wait := r.activateAfter() - r.now.Sub(*p.rec.PublishedAt); wait > 0 {
			r.report.step("key %q is published; it becomes the signing key in %s (%s)", p.rec.KID, wait.Round(time.Second), r.activateSetting())
			return nil
		}
	}
	r.report.Outcome = "updated"
	_, err := r.apply(r.ctx, change{
		say: line("promote key %q to signing key (BFF_JWT_SIGNING_KEY, active_kid)", p.rec.KID),
		effect: func(context.Context) error {
			if err := r.e.vault().Promote(); err != nil {
				return err
			}
			faults.Point("pending-key-renamed")
			if old := r.st.Key(r.st.ActiveKID); old != nil && old.KID != p.rec.KID {
				// It stops signing now: the verification window starts.
				now := r.now.Truncate(time.Second)
				old.SupersededAt = &now
			}
			r.st.ActiveKID, r.st.PendingKID = p.rec.KID, ""
			r.active, r.pending = *p, nil
			return r.save()
		}})
	return err
}

// info is what planning knows of a recorded key.
func info(rec state.Key) keys.Info {
	i := keys.Info{KID: rec.KID, CreatedAt: rec.CreatedAt}
	if rec.SupersededAt != nil {
		i.SupersededAt = *rec.SupersededAt
	}
	return i
}
