package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// This file is the save/claim protocol that keeps the RAT, the keys and the
// client from being lost when runs are cancelled, killed or race each other
// on a shared store:
//
//   - claim: before a run's first write, and before any request carrying
//     the RAT, take the store's lock and check the state is still what was
//     read (else state.ErrConflict: the run starts again, re-reads, re-plans).
//   - critical: a request that may rotate the RAT (RFC 7592 §3) or create a
//     client is sent only after this process's own write-ahead note was
//     saved by compare-and-swap (the fence), is never abandoned, and its
//     answer is saved before anything else.

// save writes the state; a dry run never does.
func (r *run) save() error {
	if r.opts.DryRun {
		return nil
	}
	if err := r.claim(false); err != nil {
		return err
	}
	return r.e.store().Save(r.st, false)
}

// saveAnswer saves an IdP's answer: the newest state there is, kept over
// whatever another writer saved meanwhile (see state.Store).
func (r *run) saveAnswer() error {
	if err := r.claim(true); err != nil {
		return err
	}
	return r.e.store().Save(r.st, true)
}

// claim makes sure that this run holds the store's lock and that the state
// is still what it read: before its first write, and before it sends the
// RAT anywhere (a replica's request planned from a stale read would carry a
// RAT another replica has just rotated away). An IdP's answer (mustWin) is
// saved whatever changed meanwhile, and its wait ignores cancellation.
func (r *run) claim(mustWin bool) error {
	if r.claimed {
		return nil
	}
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if mustWin {
		ctx = context.WithoutCancel(ctx)
	}
	err := r.e.store().Claim(ctx, r.cfg.LockTimeout)
	if errors.Is(err, state.ErrConflict) && mustWin {
		r.e.Log.Warn("the state changed while an answer of the IdP was on its way; saving the answer over it")
		err = nil
	}
	if err != nil {
		return err
	}
	r.claimed = true
	return nil
}

// persist applies change to the state and saves it, even in a dry run: for
// what must never be lost (a rotated RAT, a write-ahead note). A dry run
// applies it to the state on disk, leaving its own plan out of the file.
// mustWin marks an IdP's answer: a shared store keeps it over another
// writer's change (see state.Store); a note must not win (it is the fence
// that stops a request planned from stale state).
func (r *run) persist(change func(*state.State), mustWin bool) error {
	if err := r.claim(mustWin); err != nil {
		return err
	}
	change(r.st)
	store := r.e.store()
	if !r.opts.DryRun {
		return store.Save(r.st, mustWin)
	}
	onDisk, err := store.Load(context.Background())
	if err != nil {
		return err
	}
	change(onDisk)
	return store.Save(onDisk, mustWin)
}

// adoptRAT persists a registration access token the IdP rotated, before the
// next request (RFC 7592 §3: the old one is dead). Even a dry run saves it,
// since losing it would lock the client out.
func (r *run) adoptRAT(rat string) error {
	if rat == "" || rat == r.st.RegistrationAccessToken {
		return nil
	}
	r.e.IdP.Redactor.Add(rat)
	r.e.Log.Debug("IdP issued a new registration access token; saving it", "rat", secret.Fingerprint(rat))
	err := r.persist(func(st *state.State) { st.RegistrationAccessToken = rat }, true)
	if err != nil {
		r.e.Log.Error("the IdP rotated the registration access token and it could not be saved: the client can only be recovered with the admin token or re-registered", "rat", secret.Fingerprint(rat), "err", err)
	}
	return err
}

// Write-ahead note ops (state.Intent.Op).
const (
	opRead     = "read"
	opUpdate   = "update"
	opRenew    = "renewal"
	opRegister = "registration"
)

// identity names this process in the notes it writes.
var identity = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}()

// critical sends a request that may rotate the RAT, or create a client, so
// that its answer is never lost and no other replica's request races it:
//   - not started once ctx is cancelled;
//   - the lock is claimed first: a replica that read the state while
//     another's request was in flight waits for that replica (up to
//     DCRCTL_LOCK_TIMEOUT, then exit 75), finds the state changed, and
//     plans afresh instead of sending;
//   - this request's own write-ahead note is saved by compare-and-swap (it
//     also proves the state writable before anything is sent); a note found
//     under the lock is an earlier run's whose answer never came, kept
//     inside the new one;
//   - the request ignores cancellation, bounded by DCRCTL_UPDATE_TIMEOUT;
//     send saves the answer;
//   - then the note is cleared; a definite refusal (which cannot have
//     rotated anything) restores the earlier note, so a rejected request
//     leaves the state as it found it; no answer leaves the note, for a
//     later run to explain a 401.
func (r *run) critical(ctx context.Context, op, method, uri string, send func(context.Context) error) error {
	cctx, cancel, err := idp.Critical(ctx, r.cfg.UpdateTimeout)
	if err != nil {
		return err
	}
	defer cancel()
	faults.Point("before-intent") // planned from the state as read; nothing sent yet
	if err := r.claim(false); err != nil {
		return err
	}
	// A note found under the lock is no live request's: its writer is gone.
	earlier := r.st.InFlight
	if earlier != nil && earlier.Op == opRegister && !r.st.HasCredentials() {
		r.e.Log.Warn("a registration sent earlier got no answer that dcrctl saved: the IdP may hold a client dcrctl does not know; ask its administrator to remove it if so",
			"sent_at", earlier.SentAt.Format(time.RFC3339), "by", earlier.By, "uri", earlier.URI)
	}
	note := &state.Intent{Op: op, Method: method, URI: secret.MaskURL(uri), SentAt: r.e.Now().UTC().Truncate(time.Second), By: identity}
	if earlier != nil {
		flat := *earlier
		flat.Earlier = nil
		note.Earlier = &flat
	}
	if r.st.RegistrationAccessToken != "" && op != opRegister {
		note.RAT = secret.Fingerprint(r.st.RegistrationAccessToken)
	}
	if err := r.persist(func(st *state.State) { st.InFlight = note }, false); err != nil {
		return err
	}
	faults.Point("intent-recorded")
	err = send(cctx)
	var after *state.Intent // the answer settled every note
	switch {
	case err == nil:
	case refusedOutright(err):
		after = note.Earlier // this request changed nothing; an older loss still stands
	default:
		return err // no answer: the note stays
	}
	if clearErr := r.persist(func(st *state.State) { st.InFlight = after }, true); clearErr != nil && err == nil {
		err = clearErr
	}
	return err
}

// refusedOutright reports whether err proves the IdP applied nothing, so
// that it cannot have rotated the RAT: an HTTP 4xx answer (401/403 for a
// dead RAT, RFC 6750 §3.1; 404; 400 invalid metadata), or a connection the
// IdP refused (the request never reached it). A 5xx or a timeout proves
// nothing: the IdP may have applied the change before failing.
func refusedOutright(err error) bool {
	var answered *idp.Error
	if errors.As(err, &answered) && answered.Status < http.StatusInternalServerError {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// readClient is the RFC 7592 §2.1 read, its rotated RAT saved. At an IdP not
// known to keep the RAT on a read, it is a critical request; elsewhere it is
// still sent under the claim, so that it never carries a RAT another
// replica's update is rotating away.
func (r *run) readClient(ctx context.Context, uri string) (*idp.Registration, error) {
	if r.st.Management == state.ManagementAdminAPI {
		if err := r.needAdminToken(); err != nil {
			return nil, err
		}
		r.e.IdP.Redactor.Add(r.adminToken())
	}
	var reg *idp.Registration
	send := func(ctx context.Context) error {
		var err error
		if reg, err = r.e.IdP.Read(ctx, uri, r.credential()); err != nil {
			return err
		}
		return r.adoptRAT(reg.RAT)
	}
	if !r.cfg.Preset.ReadKeepsRAT {
		return reg, r.critical(ctx, opRead, http.MethodGet, uri, send)
	}
	if err := r.claimForRAT(); err != nil {
		return nil, err
	}
	if err := send(ctx); err != nil {
		return nil, err
	}
	if r.st.InFlight != nil {
		// The RAT works: whatever an earlier request left unanswered did
		// not cost it.
		return reg, r.persist(func(st *state.State) { st.InFlight = nil }, false)
	}
	return reg, nil
}

// claimForRAT claims before a request that carries the RAT but is not
// expected to rotate it. An IdP may still answer with a new RAT whatever
// the preset says, and that answer must be saved: a run that may not write
// the state (status as another user) sends nothing.
func (r *run) claimForRAT() error {
	if r.opts.readOnly {
		if err := r.e.store().CheckWritable(r.ctx); err != nil {
			return err
		}
	}
	return r.claim(false)
}

// lostAnswer explains a rejected RAT from the write-ahead note (or the
// earlier one it keeps), when one was left by a request carrying this same
// RAT and got no answer.
func (r *run) lostAnswer() string {
	fp := secret.Fingerprint(r.st.RegistrationAccessToken)
	for n := r.st.InFlight; n != nil; n = n.Earlier {
		if n.RAT == "" || n.RAT != fp {
			continue
		}
		by := ""
		if n.By != "" {
			by = " by " + n.By
		}
		return fmt.Sprintf("%s %s (%s %s) sent%s at %s got no answer that dcrctl saved: the IdP may have applied it and issued a new registration access token that never reached dcrctl (a cancelled or killed run, or a timeout; DCRCTL_UPDATE_TIMEOUT)",
			article(n.Op), n.Op, n.Method, n.URI, by, n.SentAt.Format(time.RFC3339))
	}
	return ""
}

// article is "a" or "an" for a note's op.
func article(word string) string {
	if word != "" && (word[0] == 'a' || word[0] == 'e' || word[0] == 'i' || word[0] == 'o' || word[0] == 'u') {
		return "an"
	}
	return "a"
}
