package engine

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/state"
)

// The private keys on disk: the signing key (BFF_JWT_SIGNING_KEY) and the
// next key waiting beside it, loaded, generated, adopted or refused.

// localKey is a private key on disk and its record.
type localKey struct {
	signer crypto.Signer
	rec    state.Key
}

func (k localKey) info() keys.Info { return keys.Info{KID: k.rec.KID, CreatedAt: k.rec.CreatedAt} }

// loadKeys reads (or creates) the signing key and the pending key, and
// finishes a promotion that a crash interrupted.
func (r *run) loadKeys() error {
	vault := r.e.vault()
	path := vault.Where()
	signer, err := vault.Active()
	if errors.Is(err, fs.ErrNotExist) {
		if r.opts.readOnly {
			return nil
		}
		return r.generateActive()
	}
	if err != nil {
		return err
	}
	if why := vault.Exposed(); why != "" {
		r.e.Log.Warn("the signing key is not private to this user", "key", path, "variable", "BFF_JWT_SIGNING_KEY", "why", why)
	}
	tp, err := keys.Thumbprint(signer)
	if err != nil {
		return fmt.Errorf("signing key %s: %w", path, err)
	}
	switch rec := r.st.KeyByThumbprint(tp); {
	case rec != nil && rec.KID == r.st.PendingKID:
		// The pending PEM was renamed into place but the state not yet written.
		r.e.Log.Info("completing an interrupted key promotion", "kid", rec.KID)
		r.st.ActiveKID, r.st.PendingKID = rec.KID, ""
		r.active = localKey{signer: signer, rec: *rec}
		if err := r.save(); err != nil {
			return err
		}
	case rec != nil:
		if rec.KID != r.st.ActiveKID {
			r.e.Log.Warn("the signing key on disk is a known older key; treating it as active", "kid", rec.KID, "state_active_kid", r.st.ActiveKID)
			r.st.ActiveKID = rec.KID
		}
		r.active = localKey{signer: signer, rec: *rec}
	default:
		if known := r.st.Key(r.st.ActiveKID); known != nil && known.Thumbprint != "" {
			return &KeyMismatchError{Problem: fmt.Sprintf("signing key %s (BFF_JWT_SIGNING_KEY) is not the key recorded for active_kid %q in %s; restore the matching PEM, or remove that key from the state file's keys to adopt this one", path, r.st.ActiveKID, r.cfg.StatePath)}
		}
		// A key the state does not know yet (the old helper's, or one placed
		// by hand): adopt it, aged by the file's modification time, unless
		// it is too weak to sign with.
		if err := r.checkStrength(signer, path); err != nil {
			return err
		}
		since, err := vault.ActiveSince()
		if err != nil {
			return err
		}
		kid := firstNonEmpty(r.st.ActiveKID, r.cfg.KID, tp)
		rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, r.cfg.KeyAlg), CreatedAt: since.UTC().Truncate(time.Second), Thumbprint: tp}
		r.st.PutKey(rec)
		r.st.ActiveKID = kid
		r.active = localKey{signer: signer, rec: rec}
		r.report.step("adopt the key in %s as %q (created %s, from the file's modification time)", path, kid, rec.CreatedAt.Format(time.RFC3339))
	}
	return r.loadPending()
}

// generateActive creates the first signing key (or replaces a lost one).
func (r *run) generateActive() error {
	if r.st.ActiveKID != "" && r.st.HasCredentials() {
		r.e.Log.Warn("signing key missing; generating a new key (the old one cannot be recovered)", "key", r.e.vault().Where(), "lost_kid", r.st.ActiveKID)
	}
	signer, tp, err := keys.GenerateWithKID(r.cfg.KeyAlg)
	if err != nil {
		return err
	}
	kid := r.cfg.KID
	if kid == "" || r.st.Key(kid) != nil {
		kid = tp // never reuse a kid for a different key: verifiers cache by kid
	}
	rec := state.Key{KID: kid, Alg: keys.AlgFor(signer, r.cfg.KeyAlg), CreatedAt: r.now.Truncate(time.Second), Thumbprint: tp}
	r.active = localKey{signer: signer, rec: rec}
	r.st.PutKey(rec)
	r.st.ActiveKID = kid
	_, err = r.apply(r.ctx, change{
		say: line("generate a %s signing key with kid %q in %s", rec.Alg, kid, r.e.vault().Where()),
		effect: func(context.Context) error {
			if err := r.e.vault().SetActive(signer); err != nil {
				return err
			}
			faults.Point("active-key-written")
			return r.save()
		}})
	return err
}

// loadPending reads the key waiting for promotion, if the state names one.
func (r *run) loadPending() error {
	kid := r.st.PendingKID
	if kid == "" {
		return nil
	}
	rec := r.st.Key(kid)
	signer, err := r.e.vault().Next()
	var tp string
	if err == nil {
		tp, err = keys.Thumbprint(signer)
	}
	if err != nil || rec == nil || tp != rec.Thumbprint {
		// Lost before it was promoted: forget it; a new one is made when due.
		r.e.Log.Warn("pending key unusable; discarding it", "kid", kid, "err", err)
		r.st.PendingKID = ""
		return r.save()
	}
	r.pending = &localKey{signer: signer, rec: *rec}
	return nil
}

// minRSABits is the smallest RSA key dcrctl signs with unless told to: NIST
// SP 800-131A disallows less than 2048 bits for signatures, and RFC 7518
// §3.3 requires at least 2048 for RS256.
const minRSABits = 2048

// checkStrength refuses an adopted RSA key under minRSABits, or warns when
// DCRCTL_ALLOW_WEAK_KEY allows it.
func (r *run) checkStrength(signer crypto.Signer, path string) error {
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok || pub.N.BitLen() >= minRSABits {
		return nil
	}
	if !r.cfg.AllowWeakKey && !r.opts.readOnly {
		return &keys.PEMError{Path: path, Problem: fmt.Sprintf("an RSA key of %d bits is too weak to sign with (at least %d; RFC 7518 §3.3): replace it, or set DCRCTL_ALLOW_WEAK_KEY=true to use it until the next rotation", pub.N.BitLen(), minRSABits)}
	}
	r.e.Log.Warn("the signing key is a weak RSA key, used because DCRCTL_ALLOW_WEAK_KEY=true; rotate it soon (dcrctl keys rotate)", "path", path, "bits", pub.N.BitLen())
	return nil
}

// LocalJWKS is the public half of the keys dcrctl holds (the signing key,
// and the next one while a rotation waits): what it registered, for an IdP
// whose own copy cannot be read (no RFC 7592 management).
func (e *Engine) LocalJWKS(ctx context.Context) (jwk.Set, error) {
	st, err := e.store().Load(ctx)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	for kid, load := range map[string]func() (crypto.Signer, error){st.ActiveKID: e.vault().Active, st.PendingKID: e.vault().Next} {
		rec := st.Key(kid)
		if kid == "" || rec == nil {
			continue
		}
		signer, err := load()
		if err != nil {
			return nil, err
		}
		pub, err := keys.PublicJWK(signer, kid, rec.Alg)
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return set, nil
}
