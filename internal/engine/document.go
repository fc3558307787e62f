package engine

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/cimd"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/idp"
	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/secret"
	"github.com/dcrctl/dcrctl/internal/state"
)

// A Client ID Metadata Document client (DCRCTL_CLIENT_ID_URL): the
// client_id is an https URL and the authorization server fetches the
// client's metadata, its public keys included, from it. Nothing is
// registered and there is no RAT; the document is dcrctl's to write
// (DCRCTL_CLIENT_DOC_FILE, served by the application or a static host). The
// keys follow the same policy as a registered client's, with one change of
// timing: an AS may cache the document (DCRCTL_DOC_CACHE), so a new key is
// published first and signs only once every cached copy can hold it.

// DocumentError: the document dcrctl would write has a problem an AS would
// refuse it for (a configuration that cannot be described). Exit 65.
type DocumentError struct {
	File     string
	Problems []cimd.Problem
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("the client metadata document for %s would be refused by an authorization server: %v; nothing was written", e.File, e.Problems)
}

// activateAfter is how long a published key waits before it signs: for a
// document client, at least as long as an AS may cache the document.
func (r *run) activateAfter() time.Duration {
	if r.st.Management == state.ManagementDocument {
		return max(r.cfg.ActivateAfter, r.cfg.DocCache, r.docMaxAge)
	}
	return r.cfg.ActivateAfter
}

// activateSetting names what sets that wait, for the plan.
func (r *run) activateSetting() string {
	if r.st.Management == state.ManagementDocument {
		if r.docMaxAge > max(r.cfg.ActivateAfter, r.cfg.DocCache) {
			return fmt.Sprintf("the Cache-Control max-age=%d the document is served with", int(r.docMaxAge.Seconds()))
		}
		return "DCRCTL_DOC_CACHE, DCRCTL_ACTIVATE_AFTER"
	}
	return "DCRCTL_ACTIVATE_AFTER"
}

// publishedDocumentJWKS is the JWKS of the document as written last: what
// an AS may hold (with the public keys of superseded keys, whose private
// halves are gone).
func (r *run) publishedDocumentJWKS() (jwk.Set, error) {
	if r.cfg.JWKSFile != "" {
		data, err := os.ReadFile(r.cfg.JWKSFile)
		if errors.Is(err, fs.ErrNotExist) {
			return jwk.NewSet(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("JWKS %s (DCRCTL_JWKS_FILE): %w", r.cfg.JWKSFile, err)
		}
		return keys.ParseJWKS(data)
	}
	data, err := os.ReadFile(r.cfg.ClientDocFile)
	if errors.Is(err, fs.ErrNotExist) {
		return jwk.NewSet(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("client metadata document %s (DCRCTL_CLIENT_DOC_FILE): %w", r.cfg.ClientDocFile, err)
	}
	var doc struct {
		JWKS json.RawMessage `json:"jwks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.JWKS) == 0 {
		r.e.Log.Warn("the client metadata document on disk is not one dcrctl wrote; it is written anew", "file", r.cfg.ClientDocFile)
		return jwk.NewSet(), nil
	}
	return keys.ParseJWKS(doc.JWKS)
}

// maintainDocument is bootstrap (and keys rotate, keys retire) for a
// document client: describe the client, rotate and retire by the policy,
// write the document when it changed, promote the next key once every AS
// cache can hold it.
func (r *run) maintainDocument(ctx context.Context) error {
	url, file := r.cfg.ClientIDURL, r.cfg.ClientDocFile
	if r.opts.Force || r.opts.RenewRAT {
		return &RefusedError{Problem: "a Client ID Metadata Document client has nothing to register again and no registration access token"}
	}
	if r.st.Management != state.ManagementDocument && r.st.ClientID != "" {
		// Never drop a registered client (and its RAT) for a document:
		// moving a registration to a document is a migration of its own.
		return &config.Error{Name: "DCRCTL_CLIENT_ID_URL", Problem: fmt.Sprintf("the state (%s) holds registered client %s; dcrctl does not move a registration to a metadata document by itself (its RAT would be dropped): unset DCRCTL_CLIENT_ID_URL, or give the document client a state file of its own", r.e.store().Where(), r.st.ClientID)}
	}
	published, err := r.publishedDocumentJWKS()
	if err != nil {
		return err
	}
	if r.st.ClientID != url || r.st.Management != state.ManagementDocument {
		if r.st.ClientID != "" && r.st.ClientID != url {
			// Compared as strings by every AS: a new URL is a new client.
			r.e.Log.Warn("DCRCTL_CLIENT_ID_URL differs from the client this state held: to every authorization server this is a new client", "was", r.st.ClientID, "now", url)
		}
		r.st.ClientID, r.st.Management = url, state.ManagementDocument
		r.st.RegistrationAccessToken, r.st.RegistrationClientURI = "", ""
		r.report.Outcome = "described"
		r.report.step("describe client %s by its metadata document in %s (nothing is registered)", url, file)
		if err := r.save(); err != nil {
			return err
		}
	}
	if err := r.prune(published); err != nil {
		return err
	}
	policy := r.policy()
	if r.opts.Retire != "" {
		if err := r.checkRetire(published); err != nil {
			return err
		}
		policy.Retire = []string{r.opts.Retire}
	}
	if policy.RotationDue(r.active.info(), r.pending != nil, r.now) || (r.opts.Rotate && r.pending == nil) {
		if err := r.generatePending(published); err != nil {
			return err
		}
	}
	var pendingInfo *keys.Info
	if r.pending != nil {
		info := r.pending.info()
		pendingInfo = &info
	}
	plan := policy.PlanJWKS(r.publishedInfo(published), r.active.info(), pendingInfo, r.now)
	if plan.Changes() {
		r.report.JWKS = &plan
		r.markUpdated()
	}
	// Written whenever it differs from the keys planned (writeDocument
	// compares), listed when the keys change.
	_, err = r.apply(ctx, change{
		say: func() []string {
			if !plan.Changes() {
				return nil
			}
			return publishLines(plan, nil, " in the document")
		},
		effect: func(context.Context) error {
			set, err := r.buildJWKS(published, plan.After)
			if err != nil {
				return err
			}
			if err := r.writeDocument(set); err != nil {
				return err
			}
			if !plan.Changes() {
				return nil
			}
			r.markPublished(plan.Add)
			r.forget(plan.Drop)
			return r.save()
		}})
	if err != nil {
		return err
	}
	if r.pending != nil {
		r.readServedMaxAge(ctx)
	}
	return r.promoteIfReady(plan.After)
}

// readServedMaxAge learns how long an AS may cache the document as it is
// actually served (the host's Cache-Control max-age), so that a next key
// waits out that too, when it is longer than DCRCTL_DOC_CACHE. Only while a
// key waits to sign; a host that cannot be read leaves DCRCTL_DOC_CACHE.
func (r *run) readServedMaxAge(ctx context.Context) {
	_, cacheControl, err := cimd.FetchServed(ctx, r.e.IdP.HTTP, r.cfg.ClientIDURL)
	if err != nil {
		r.e.Log.Warn("could not read the document as served; the next key waits DCRCTL_DOC_CACHE", "url", r.cfg.ClientIDURL, "err", err)
		return
	}
	if age, ok := cimd.MaxAge(cacheControl); ok {
		r.docMaxAge = age
	}
}

// writeDocument writes the document (and, in the jwks_uri form, the JWKS
// first, so that the document never names a JWKS that lacks a key it is
// about to sign with), each only when it changed, after checking the
// document as an AS would.
func (r *run) writeDocument(set jwk.Set) error {
	doc := map[string]any(r.intendedMetadata())
	doc["client_id"] = r.cfg.ClientIDURL
	if r.cfg.JWKSURI != "" {
		doc["jwks_uri"] = r.cfg.JWKSURI
		jwks, err := indentedJSON(set)
		if err != nil {
			return err
		}
		if err := writeIfChanged(r.cfg.JWKSFile, jwks, "DCRCTL_JWKS_FILE"); err != nil {
			return err
		}
	} else {
		doc["jwks"] = set
	}
	data, err := indentedJSON(doc)
	if err != nil {
		return err
	}
	if problems := cimd.Lint(data, r.cfg.ClientIDURL); len(problems) > 0 {
		return &DocumentError{File: r.cfg.ClientDocFile, Problems: problems}
	}
	if err := writeIfChanged(r.cfg.ClientDocFile, data, "DCRCTL_CLIENT_DOC_FILE"); err != nil {
		return err
	}
	return nil
}

func indentedJSON(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}

// writeIfChanged writes data to file (0644: public by nature), atomically,
// unless the file already holds exactly that.
func writeIfChanged(file string, data []byte, setting string) error {
	if have, err := os.ReadFile(file); err == nil && bytes.Equal(have, data) {
		return nil
	}
	if err := atomicfile.Write(file, data, 0o644); err != nil {
		return fmt.Errorf("%s (%s): %w", file, setting, err)
	}
	return nil
}

// documentAsRegistration is the document on disk as a registration would
// read: its metadata and its JWKS (nil when none was written yet).
func (r *run) documentAsRegistration() (*idp.Registration, error) {
	data, err := os.ReadFile(r.cfg.ClientDocFile)
	if err != nil {
		return nil, err
	}
	var md idp.Metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, err
	}
	set, err := r.publishedDocumentJWKS()
	if err != nil {
		return nil, err
	}
	return &idp.Registration{ClientID: r.cfg.ClientIDURL, Metadata: md, JWKS: set}, nil
}

// checkDocument is doctor for a document client: the document fetched the
// way an authorization server fetches it and checked as it checks it, the
// signing key in it, and a private_key_jwt token at the IdP of
// IDP_BASE_URL with the URL as client_id (the proof an AS accepts it).
func (e *Engine) checkDocument(ctx context.Context, st *state.State) []Check {
	url := e.Cfg.ClientIDURL
	doc := Check{Name: "client metadata document"}
	data, err := cimd.Fetch(ctx, e.IdP.HTTP, url)
	if err != nil {
		doc.Found, doc.Fix = err.Error(), "serve DCRCTL_CLIENT_DOC_FILE at "+url+" itself: 200, no redirect, over TLS an AS trusts"
		return []Check{doc}
	}
	if problems := cimd.Lint(data, url); len(problems) > 0 {
		doc.Found, doc.Fix = fmt.Sprintf("%d problem(s): %v", len(problems), problems), "run dcrctl bootstrap to write the document anew, and serve that file"
		return []Check{doc}
	}
	var served struct {
		JWKS json.RawMessage `json:"jwks"`
	}
	json.Unmarshal(data, &served)
	set, err := keys.ParseJWKS(served.JWKS)
	doc.OK, doc.Found = err == nil, fmt.Sprintf("served at %s: %d bytes, an AS would accept it", url, len(data))
	if err != nil {
		doc.Found, doc.Fix = "jwks: "+err.Error(), "run dcrctl bootstrap to write the document anew"
		return []Check{doc}
	}
	key := Check{Name: "signing key in the served document"}
	signer, alg, err := e.activeSigner(st)
	switch {
	case err != nil:
		key.Skipped, key.OK, key.Found = true, true, "no signing key yet"
		return []Check{doc, key}
	case keys.Find(set, st.ActiveKID) == nil:
		key.Found = fmt.Sprintf("kid %q is not in the document served (it holds %s): an AS cannot verify the assertions", st.ActiveKID, kidList(keys.KIDs(set)))
		key.Fix = "serve the file dcrctl writes (DCRCTL_CLIENT_DOC_FILE); a static host or CDN may hold an old copy"
		return []Check{doc, key}
	}
	key.OK, key.Found = true, fmt.Sprintf("kid %q is published", st.ActiveKID)
	proof := Check{Name: "token with the document client"}
	if e.Cfg.IdPBaseURL == "" {
		proof.Skipped, proof.OK, proof.Found = true, true, "no IDP_BASE_URL to ask"
		return []Check{doc, key, proof}
	}
	endpoint, err := e.IdP.TokenEndpoint(ctx, e.Cfg.IdPBaseURL)
	if err == nil {
		err = e.IdP.ProveKey(ctx, endpoint, url, signer, st.ActiveKID, alg)
	}
	if err != nil {
		proof.Found, proof.Fix = err.Error(), "the AS must be able to fetch the document (TLS, no special-use address) and allow the client_credentials grant (DCRCTL_GRANT_TYPES)"
		return []Check{doc, key, proof}
	}
	proof.OK, proof.Found = true, "the AS at "+secret.MaskURL(e.Cfg.IdPBaseURL)+" issued a private_key_jwt token to client "+url
	return []Check{doc, key, proof}
}

// migrateToDocument moves a registered client to a Client ID Metadata
// Document (issue 20 §6), in an order that never leaves the application
// without a working client: write the document with the keys in use; prove
// at the AS that it accepts the URL as client_id with them (the document
// must be served by then); delete the old registration through RFC 7592
// where the RAT allows it (else record it as abandoned); only then switch
// the state, and the application, to the URL. A failure before the switch
// changes nothing in the state.
func (r *run) migrateToDocument(ctx context.Context) error {
	url := r.cfg.ClientIDURL
	switch {
	case url == "" || r.cfg.ClientDocFile == "":
		return &config.Error{Name: "DCRCTL_CLIENT_ID_URL", Problem: "is required to migrate (with DCRCTL_CLIENT_DOC_FILE): the URL the document will be served at"}
	case r.st.Management == state.ManagementDocument:
		return &RefusedError{Problem: "client " + r.st.ClientID + " is a metadata document client already"}
	case !r.st.Registered():
		return &NotRegisteredError{StatePath: r.cfg.StatePath}
	}
	old := r.st.ClientID
	kids := []string{r.active.rec.KID}
	if r.pending != nil {
		kids = append(kids, r.pending.rec.KID)
	}
	steps := []change{{
		say:     line("write the metadata document for %s to %s with key %s", url, r.cfg.ClientDocFile, kidList(kids)),
		outcome: "migrated", planned: "would migrate",
		effect: func(context.Context) error {
			set, err := r.buildJWKS(jwk.NewSet(), kids)
			if err != nil {
				return err
			}
			return r.writeDocument(set)
		},
	}, {
		say: line("prove a private_key_jwt token at %s with client_id %s (the document must be served there)", secret.MaskURL(r.cfg.IdPBaseURL), url),
		effect: func(ctx context.Context) error {
			endpoint, err := r.e.IdP.TokenEndpoint(ctx, r.cfg.IdPBaseURL)
			if err == nil {
				err = r.e.IdP.ProveKey(ctx, endpoint, url, r.active.signer, r.active.rec.KID, r.active.rec.Alg)
			}
			if err != nil {
				return fmt.Errorf("the AS did not issue a token to client %s, so client %s stays in use and nothing else was changed (serve %s at that URL, then run again): %w", url, old, r.cfg.ClientDocFile, err)
			}
			return nil
		},
	}, r.retireRegistration(old), {
		say: line("switch the state and the application to client %s", url),
		effect: func(context.Context) error {
			now := r.now.Truncate(time.Second)
			r.st.ClientID, r.st.Management = url, state.ManagementDocument
			r.st.RegistrationAccessToken, r.st.RegistrationClientURI = "", ""
			r.st.VerifiedAt, r.st.VerifiedConfig = nil, ""
			for i := range r.st.Keys {
				if slices.Contains(kids, r.st.Keys[i].KID) {
					r.st.Keys[i].PublishedAt = &now
				}
			}
			return r.save()
		},
	}}
	for _, c := range steps {
		if _, err := r.apply(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// retireRegistration is the migration's deletion of the registered client
// through RFC 7592 (or the admin API), else its record as abandoned.
func (r *run) retireRegistration(old string) change {
	if !r.st.HasCredentials() {
		return change{
			say: line("record client %s as abandoned (no RFC 7592 management to delete it)", old),
			effect: func(context.Context) error {
				r.abandon(r.replaced("migrated to a metadata document; the IdP offers no RFC 7592 management to delete it", false))
				return nil
			},
		}
	}
	done := fmt.Sprintf("delete the registration of client %s (RFC 7592), or record it as abandoned", old)
	return change{
		say: func() []string { return []string{done} },
		effect: func(ctx context.Context) error {
			uri, err := r.clientURI(ctx)
			if err != nil {
				return err
			}
			if err := r.claimForRAT(); err != nil {
				return err
			}
			err = r.e.IdP.Delete(ctx, uri, r.credential())
			switch {
			case err == nil:
				done = "delete the registration of client " + old
			case idp.IsNotFound(err):
				done = "client " + old + " was already gone from the IdP"
			case refusedOutright(err):
				r.abandon(r.replaced("migrated to a metadata document; its deletion was refused: "+err.Error(), false))
				done = "record client " + old + " as abandoned (its deletion was refused)"
			default:
				return fmt.Errorf("deleting client %s: %w (client %s stays in use; run again)", old, err, old)
			}
			return nil
		},
	}
}

// checkResource is doctor's MCP discovery (DCRCTL_RESOURCE_URL): the
// resource's authorization servers and what each offers; for a metadata
// document client, a private_key_jwt token with the URL as client_id at
// every one that accepts documents.
func (e *Engine) checkResource(ctx context.Context, st *state.State) []Check {
	found := Check{Name: "authorization servers of " + e.Cfg.ResourceURL}
	rep, err := e.IdP.DiscoverResource(ctx, e.Cfg.ResourceURL)
	if err != nil {
		found.Found, found.Fix = err.Error(), "check DCRCTL_RESOURCE_URL: the resource must publish its protected resource metadata (RFC 9728)"
		return []Check{found}
	}
	var names []string
	for _, as := range rep.AuthorizationServers {
		names = append(names, as.Issuer+" ("+as.Choice+")")
	}
	found.OK, found.Found = true, strings.Join(names, ", ")
	out := []Check{found}
	if e.Cfg.ClientIDURL == "" {
		return out
	}
	signer, alg, err := e.activeSigner(st)
	if err != nil {
		return out
	}
	for _, as := range rep.AuthorizationServers {
		if as.Choice != "client-id-metadata-document" {
			continue
		}
		c := Check{Name: "token at " + as.Issuer}
		if err := e.IdP.ProveKey(ctx, as.TokenEndpoint, e.Cfg.ClientIDURL, signer, st.ActiveKID, alg); err != nil {
			c.Found, c.Fix = err.Error(), "the AS must be able to fetch "+e.Cfg.ClientIDURL+" and allow the client_credentials grant"
		} else {
			c.OK, c.Found = true, "a private_key_jwt token was issued to client "+e.Cfg.ClientIDURL
		}
		out = append(out, c)
	}
	return out
}

// activeSigner is the signing key on disk with the alg its record names,
// for doctor's token proofs; an error when there is no key (or no state).
func (e *Engine) activeSigner(st *state.State) (crypto.Signer, string, error) {
	if st == nil {
		return nil, "", errors.New("no state")
	}
	signer, err := e.vault().Active()
	if err != nil {
		return nil, "", err
	}
	alg := ""
	if rec := st.Key(st.ActiveKID); rec != nil {
		alg = rec.Alg
	}
	return signer, alg, nil
}
