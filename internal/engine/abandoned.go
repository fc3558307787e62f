package engine

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/dcrctl/dcrctl/internal/faults"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/state"
)

// Clients dcrctl replaced (register --force, DCR_FORCE_REPLACE, rotation by
// re-registration) stay accounted for in the state's abandoned_clients:
// deleted once the new client is proven where the IdP allows it (RFC 7592
// §2.3 with the old client's own RAT, or its admin API), else listed for an
// administrator.

// replaced is the client being replaced, recorded as abandoned in the same
// write as the answer that replaces it (never earlier: a kill before the
// answer must leave it the client in use, not one due for deletion).
func (r *run) replaced(why string, credentials bool) *state.AbandonedClient {
	if r.st.ClientID == "" {
		return nil
	}
	ab := &state.AbandonedClient{ClientID: r.st.ClientID, ReplacedAt: r.now.Truncate(time.Second), Reason: why,
		Management: r.st.Management}
	if rec := r.st.Key(r.st.ActiveKID); rec != nil && rec.PublishedAt != nil {
		ab.RegisteredAt = rec.PublishedAt
	}
	if credentials {
		ab.RegistrationClientURI, ab.RegistrationAccessToken = r.st.RegistrationClientURI, r.st.RegistrationAccessToken
	}
	return ab
}

// abandon adds ab to the state's list (saved with the next write).
func (r *run) abandon(ab *state.AbandonedClient) {
	if ab == nil {
		return
	}
	r.st.AbandonedClients = append(r.st.AbandonedClients, *ab)
	if ab.Deletable() {
		r.e.Log.Info("the old client is deleted once the new one is registered", "client_id", ab.ClientID)
		return
	}
	r.e.Log.Warn("the old client stays at the IdP: an administrator must remove it (dcrctl status lists it)", "client_id", ab.ClientID, "why", ab.Reason)
}

// deleteAbandoned deletes the replaced clients that can be deleted, once
// the client in use is proven: its registration answer is saved (the IdP
// holds it with these keys), and with DCRCTL_VERIFY=token a token request
// succeeded. A client that cannot be deleted stays listed; a failure here
// never fails the run that made the new client, it is retried next time.
func (r *run) deleteAbandoned(ctx context.Context) error {
	var due []state.AbandonedClient
	for _, ab := range r.st.AbandonedClients {
		if ab.Deletable() && ab.ClientID != r.st.ClientID {
			due = append(due, ab)
		}
	}
	if len(due) == 0 || !r.st.Registered() || r.st.InFlight != nil {
		return nil
	}
	if r.cfg.VerifyToken && r.st.Management != state.ManagementDocument {
		if err := r.proveKey(ctx); err != nil {
			return fmt.Errorf("the new client is not proven, so the replaced ones are kept: %w", err)
		}
	}
	for _, ab := range due {
		outcome := ab.Reason // in a plan; once applied, what became of it
		_, err := r.apply(ctx, change{
			say: func() []string {
				return []string{fmt.Sprintf("delete client %s, replaced at %s: %s", ab.ClientID, ab.ReplacedAt.Format(time.RFC3339), outcome)}
			},
			effect: func(ctx context.Context) (err error) {
				outcome, err = r.deleteReplaced(ctx, ab)
				return err
			}})
		if err != nil {
			r.e.Log.Warn("could not delete a replaced client; it stays listed and is tried again next run", "client_id", ab.ClientID, "err", err)
		}
	}
	return nil
}

// deleteReplaced sends one DELETE, its write-ahead note first, and settles
// the record by the answer: what became of the client, or errNotApplied
// when the IdP refused (it stays listed for an administrator).
func (r *run) deleteReplaced(ctx context.Context, ab state.AbandonedClient) (string, error) {
	token := ab.RegistrationAccessToken
	if ab.Management == state.ManagementAdminAPI {
		if token = r.adminToken(); token == "" {
			return "", fmt.Errorf("BOOTSTRAP_ADMIN_TOKEN is needed to delete it through the admin API")
		}
	}
	if !r.cfg.TrustsHost(ab.RegistrationClientURI) {
		return "", fmt.Errorf("its registration_client_uri is on a host other than the IdP's")
	}
	r.e.IdP.Redactor.Add(token)
	earlier := ab.DeleteSentAt
	sent := r.now.Truncate(time.Second)
	if err := r.settleAbandoned(ab.ClientID, func(a *state.AbandonedClient) bool { a.DeleteSentAt = &sent; return true }); err != nil {
		return "", err
	}
	err := r.e.IdP.Delete(ctx, ab.RegistrationClientURI, token)
	faults.Point("client-deleted")
	var outcome string
	switch {
	case err == nil:
		outcome = "deleted"
	case idp.IsNotFound(err):
		outcome = "already gone (HTTP 404)"
	case idp.IsRejected(err) && ab.Management == state.ManagementAdminAPI:
		return "", r.adminAPIRejected(err) // the admin token, not the client: kept, tried again
	case idp.IsRejected(err) && earlier != nil:
		// Its RAT died with it: a DELETE sent at `earlier` got no saved answer.
		outcome = "deleted by the DELETE sent at " + earlier.Format(time.RFC3339) + " (its token is refused now)"
	case idp.IsRejected(err) || idp.HasStatus(err, http.StatusMethodNotAllowed):
		refused := err.Error()
		r.e.Log.Warn("the IdP refused to delete a replaced client: an administrator must remove it", "client_id", ab.ClientID, "err", err)
		if err := r.settleAbandoned(ab.ClientID, func(a *state.AbandonedClient) bool {
			a.RegistrationAccessToken, a.RegistrationClientURI, a.DeleteSentAt = "", "", nil
			a.Reason += "; its deletion was refused: " + refused
			return true
		}); err != nil {
			return "", err
		}
		return "", errNotApplied
	default:
		return "", err // no answer: the note stays, the next run tries again
	}
	r.e.Log.Info("replaced client deleted", "client_id", ab.ClientID, "outcome", outcome)
	return outcome, r.settleAbandoned(ab.ClientID, func(*state.AbandonedClient) bool { return false })
}

// settleAbandoned changes (keep) or drops (!keep) the record of clientID and
// saves the state.
func (r *run) settleAbandoned(clientID string, change func(*state.AbandonedClient) bool) error {
	list := r.st.AbandonedClients[:0:0]
	for _, ab := range r.st.AbandonedClients {
		if ab.ClientID == clientID && !change(&ab) {
			continue
		}
		list = append(list, ab)
	}
	r.st.AbandonedClients = slices.Clip(list)
	return r.save()
}
