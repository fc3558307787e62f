// Package state reads and writes the client state file (BFF_CLIENT_CRED_PATH):
// the cached client_id, registration access token and the record of keys.
// The schema is a documented contract (README, "State file").
package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
)

// MaxSize bounds how much of a state file is read: a real one is a few KiB.
const MaxSize = 1 << 20

// Key is what dcrctl remembers of a key it created or imported.
type Key struct {
	KID        string    `json:"kid"`
	Alg        string    `json:"alg"`
	CreatedAt  time.Time `json:"created_at"`
	Thumbprint string    `json:"thumbprint,omitempty"` // RFC 7638 SHA-256; ties the record to a PEM
	// PublishedAt is when the IdP accepted the key; activation waits from here.
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// SupersededAt is when another key became the signing key: the
	// verification window (retire − rotate days) runs from here.
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
}

// State is the content of the state file. A file written by the old helper
// holds only client_id and registration_access_token, and loads as such.
type State struct {
	ClientID                string `json:"client_id"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
	ActiveKID               string `json:"active_kid,omitempty"`
	// PendingKID is a key generated for rotation, its private half in the
	// pending PEM file, not yet the signing key.
	PendingKID string    `json:"pending_kid,omitempty"`
	Keys       []Key     `json:"keys"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	// JWKSSeenAt is when the IdP's JWKS was last read and the non-active
	// records of keys brought in line with it: with the IdP unreachable,
	// keys are shown as published when last seen, at this time.
	JWKSSeenAt *time.Time `json:"jwks_seen_at,omitempty"`
	// ForceReplacedClientID is the client that DCR_FORCE_REPLACE registered:
	// while it is the client here, a flag left set does not replace it again.
	ForceReplacedClientID string `json:"force_replaced_client_id,omitempty"`
	// InFlight is the write-ahead note of a request that may rotate the RAT
	// (or create a client), written before it is sent and cleared once its
	// answer is saved. A note found later means the answer never arrived.
	InFlight *Intent `json:"in_flight,omitempty"`
	// Management is how the registration can be managed: "rfc7592" (a RAT
	// and a registration_client_uri), "none" (RFC 7591 alone: the IdP gave
	// no RAT; nothing can be read, updated or deleted), or "admin-api".
	// Empty in states written before it existed: rfc7592 when a RAT is held.
	Management string `json:"management,omitempty"`
	// AbandonedClients are clients dcrctl registered and then replaced
	// (DCR_FORCE_REPLACE, register --force) without being able to delete
	// them: they stay at the IdP until an administrator removes them.
	AbandonedClients []AbandonedClient `json:"abandoned_clients,omitempty"`
	// VerifiedAt is when a run last read the registration at the IdP and
	// left it as this state and the configuration (VerifiedConfig, a
	// digest) say. A replica that finds it within DCRCTL_FRESH_FOR, with
	// nothing due, skips its own read: a rollout costs the IdP one request.
	VerifiedAt     *time.Time `json:"verified_at,omitempty"`
	VerifiedConfig string     `json:"verified_config,omitempty"`

	// extra holds members dcrctl does not know (written by the old helper or
	// a later version): kept as they were on every rewrite, never lost.
	extra map[string]json.RawMessage
	// saved is the content digest as last loaded or saved, so that
	// UpdatedAt moves only when the content does (see Save).
	saved string
}

// Intent is a write-ahead note: which request was sent, where and when, and
// the fingerprint of the RAT it carried. Never a secret.
type Intent struct {
	Op     string    `json:"op"` // read, update, renew, register
	Method string    `json:"method"`
	URI    string    `json:"uri"` // shown masked
	SentAt time.Time `json:"sent_at"`
	RAT    string    `json:"rat_fingerprint,omitempty"`
	// By names the process that sent it (host/pid), so that a replica
	// reporting a lost answer says whose it was.
	By string `json:"by,omitempty"`
	// Earlier is an older note whose request got no answer either, kept
	// while a later request is on its way: it is the likelier cause of a
	// dead RAT, and is restored when the later request is refused.
	Earlier *Intent `json:"earlier,omitempty"`
}

// stateFields is State without its methods, for the default JSON coding.
type stateFields State

// UnmarshalJSON decodes the known members and keeps the others.
func (s *State) UnmarshalJSON(data []byte) error {
	var known stateFields
	if err := json.Unmarshal(data, &known); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for _, name := range knownMembers() {
		delete(all, name)
	}
	*s = State(known)
	if len(all) > 0 {
		s.extra = all
	}
	return nil
}

// MarshalJSON encodes the known members plus the kept unknown ones.
func (s State) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(stateFields(s))
	if err != nil || len(s.extra) == 0 {
		return data, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	for name, raw := range s.extra {
		all[name] = raw
	}
	return json.Marshal(all)
}

// knownMembers are the JSON names of State's fields.
func knownMembers() []string {
	t := reflect.TypeOf(State{})
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// Management modes (State.Management).
const (
	ManagementRFC7592  = "rfc7592"
	ManagementNone     = "none"
	ManagementAdminAPI = "admin-api"
	// ManagementDocument: a Client ID Metadata Document client; the
	// client_id is the document's URL and the document is dcrctl's to write.
	ManagementDocument = "metadata-document"
)

// AbandonedClient is a client dcrctl created and then replaced. One that
// can be deleted (its RAT, or the admin API) is deleted once its
// replacement is proven, and leaves the list; one that cannot stays listed
// until an administrator removes it.
type AbandonedClient struct {
	ClientID     string     `json:"client_id"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
	ReplacedAt   time.Time  `json:"replaced_at"`
	Reason       string     `json:"reason"`
	// Management, RegistrationClientURI and RegistrationAccessToken are how
	// it can still be deleted (RFC 7592 §2.3, or the admin API). The RAT is a
	// secret: it lives in the state alone, never in status output.
	Management              string `json:"management,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	// DeleteSentAt is the write-ahead note of its DELETE: a later refusal of
	// its token means the deletion most likely succeeded unanswered.
	DeleteSentAt *time.Time `json:"delete_sent_at,omitempty"`
	// ToDelete is set on the public copy (Public), which has no RAT: dcrctl
	// deletes this client on its next run.
	ToDelete bool `json:"to_delete,omitempty"`
}

// Deletable reports whether dcrctl can still delete it: with its own RAT
// on its registration_client_uri, or through the IdP's admin API.
func (a AbandonedClient) Deletable() bool {
	return a.ToDelete || a.RegistrationClientURI != "" && (a.RegistrationAccessToken != "" || a.Management == ManagementAdminAPI)
}

// Public is the record without its secret, for status and the TUI.
func (a AbandonedClient) Public() AbandonedClient {
	a.ToDelete = a.Deletable()
	a.RegistrationAccessToken = ""
	return a
}

// Registered reports whether this state holds a client the IdP issued,
// managed or not: such a client is never registered again by bootstrap.
func (s *State) Registered() bool { return s.ClientID != "" }

// HasCredentials reports whether a registration can be managed from this
// state: with RFC 7592 (a RAT), or through the IdP's admin API (the admin
// token comes from the configuration).
func (s *State) HasCredentials() bool {
	return s.ClientID != "" && (s.RegistrationAccessToken != "" || s.Management == ManagementAdminAPI)
}

// Unmanaged reports whether the client cannot be managed at all: registered
// at an IdP that gave no RAT (RFC 7591 alone) and has no admin API, or a
// RAT that was never saved.
func (s *State) Unmanaged() bool {
	return s.ClientID != "" && s.RegistrationAccessToken == "" && s.Management != ManagementDocument && s.Management != ManagementAdminAPI
}

// Key returns the record for kid, or nil.
func (s *State) Key(kid string) *Key {
	for i := range s.Keys {
		if s.Keys[i].KID == kid {
			return &s.Keys[i]
		}
	}
	return nil
}

// KeyByThumbprint returns the record whose thumbprint is tp, or nil.
func (s *State) KeyByThumbprint(tp string) *Key {
	for i := range s.Keys {
		if tp != "" && s.Keys[i].Thumbprint == tp {
			return &s.Keys[i]
		}
	}
	return nil
}

// PutKey adds or replaces the record with k's kid.
func (s *State) PutKey(k Key) {
	if old := s.Key(k.KID); old != nil {
		*old = k
		return
	}
	s.Keys = append(s.Keys, k)
}

// CorruptError says the state file exists but cannot be used. dcrctl never
// overwrites such a file: an operator decides what to do with it.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is not valid dcrctl state: %v (it was left as it is; move it aside to register afresh, or restore a backup)", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// UnreadableError: the state file exists but cannot be read (another
// user's 0600 file, a directory). Nothing is sent and nothing is changed:
// above all, no new client is registered over a state that may hold one.
// Exit 73, like a state that cannot be written.
type UnreadableError struct {
	Path string
	Err  error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("state file %s (BFF_CLIENT_CRED_PATH) cannot be read: %v; it may hold a registered client, so nothing was changed: run dcrctl as the user that owns it, or point BFF_CLIENT_CRED_PATH at the file itself", e.Path, e.Err)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// Load reads the state file. A missing file is an empty state, not an error.
func Load(path string) (*State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, &UnreadableError{Path: path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &UnreadableError{Path: path, Err: err} // a directory, say
	}
	st, err := Parse(data)
	if err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	return st, nil
}

// Parse decodes state file content and checks that it is usable.
func Parse(data []byte) (*State, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	if st.RegistrationAccessToken != "" && st.ClientID == "" {
		return nil, errors.New("registration_access_token without client_id")
	}
	seen := map[string]bool{}
	for i, k := range st.Keys {
		if k.KID == "" {
			return nil, fmt.Errorf("keys[%d] has no kid", i)
		}
		if seen[k.KID] {
			return nil, fmt.Errorf("kid %q is listed twice in keys", k.KID)
		}
		seen[k.KID] = true
	}
	st.saved = st.digest()
	return &st, nil
}

// Encode is the state file's content. UpdatedAt moves only when the
// content does (not counting the write-ahead note).
func Encode(st *State) ([]byte, error) {
	if d := st.digest(); d != st.saved {
		st.UpdatedAt = time.Now().UTC().Truncate(time.Second)
		st.saved = d
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// UnwritableError: the state cannot be saved where BFF_CLIENT_CRED_PATH
// says (a missing folder, a read-only mount, another user's folder). Raised
// before any request whose answer would have to be saved. Exit 73.
type UnwritableError struct {
	Path string
	Err  error
}

func (e *UnwritableError) Error() string {
	msg := fmt.Sprintf("state file %s (BFF_CLIENT_CRED_PATH) cannot be written: %v", e.Path, e.Err)
	if errors.Is(e.Err, fs.ErrNotExist) {
		// Not created on purpose: a missing folder is most often a
		// forgotten volume mount, and a state written into the container's
		// own filesystem would be lost, RAT and all, on the next restart.
		return msg + "; dcrctl does not create the folder (a missing folder is usually a volume that is not mounted): create it or mount the volume"
	}
	return msg + "; dcrctl needs to write it (a temp file and a rename in its folder) to keep the registration access token the IdP returns: make the folder writable for this user, or point BFF_CLIENT_CRED_PATH at a writable volume"
}

func (e *UnwritableError) Unwrap() error { return e.Err }

// CheckWritable fails with an UnwritableError unless Save can write path.
func CheckWritable(path string) error {
	if err := atomicfile.CheckWritable(path); err != nil {
		return &UnwritableError{Path: path, Err: err}
	}
	return nil
}

// digest identifies the content that matters: everything but UpdatedAt, the
// write-ahead note and the time of the last verification, so that a note
// written and cleared again leaves the file as it was, and a verification
// is not a change.
func (s *State) digest() string {
	c := *s
	c.UpdatedAt, c.InFlight, c.VerifiedAt, c.saved = time.Time{}, nil, nil, ""
	data, _ := json.Marshal(c)
	sum := sha256.Sum256(data)
	return string(sum[:])
}

// Save writes the state atomically with mode 0600: it holds the RAT.
// UpdatedAt is when the content last changed, not counting the note.
func Save(path string, st *State) error {
	data, err := Encode(st)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return &UnwritableError{Path: path, Err: err}
	}
	return nil
}

// ErrLockTimeout means another dcrctl held the state lock for longer than the
// lock timeout.
var ErrLockTimeout = errors.New("state lock not acquired in time")

// Lock takes the exclusive lock beside the state file (path + ".lock"), so
// that replicas sharing a volume never rotate at once. It waits up to timeout.
// For a state file that is a symbolic link the lock sits beside the file it
// names, so replicas that reach one file by different links share one lock.
// A lock that cannot be created is an UnwritableError.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	target, err := atomicfile.Resolve(path)
	if err != nil {
		return nil, &UnwritableError{Path: path, Err: err}
	}
	lockPath := target + ".lock"
	lock := flock.New(lockPath)
	var ok bool
	if timeout == 0 {
		// DCRCTL_LOCK_TIMEOUT=0: try once, never wait (an already expired
		// context would fail before the first try).
		ok, err = lock.TryLock()
	} else {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		ok, err = lock.TryLockContext(ctx, 50*time.Millisecond)
	}
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		return nil, &UnwritableError{Path: path, Err: fmt.Errorf("lock %s: %w", lockPath, pathErr.Err)}
	case err != nil && !errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	case !ok:
		return nil, fmt.Errorf("%w: %s is held by another process after %s (DCRCTL_LOCK_TIMEOUT)", ErrLockTimeout, lockPath, timeout)
	}
	return func() { lock.Unlock() }, nil
}
