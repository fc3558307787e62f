// Package vault keeps the client's private signing keys: the one the
// application signs with, and the next one waiting for its turn during a
// rotation. The engine works through Vault and never sees where the keys
// live. Files is the PEM the application reads (BFF_JWT_SIGNING_KEY) with
// the next key beside it; the Kubernetes store copies both into its Secret
// with every save of the state and back with every load, so one vault
// serves both stores.
package vault

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/keys"
)

// Vault holds the signing keys.
type Vault interface {
	// Active is the key the application signs with; an error wrapping
	// fs.ErrNotExist when there is none yet.
	Active() (crypto.Signer, error)
	// Next is the key a rotation made, not yet signing; fs.ErrNotExist
	// when there is none.
	Next() (crypto.Signer, error)
	// SetActive stores the first signing key (the application may read
	// it at once).
	SetActive(crypto.Signer) error
	// SetNext stores the next key, before the IdP hears of it.
	SetNext(crypto.Signer) error
	// DiscardNext forgets the next key; none is no error.
	DiscardNext() error
	// Promote makes the next key the signing key in one atomic step: the
	// application reads the old key or the new one, never half of either.
	Promote() error
	// ActiveSince is when the active key was put in place (a key found
	// without a record is aged from it).
	ActiveSince() (time.Time, error)
	// Exposed says why the active key is not private to this user ("" when
	// it is).
	Exposed() string
	// Where names the active key for messages and errors.
	Where() string
}

// Files is the vault of PEM files: Path (BFF_JWT_SIGNING_KEY), and the next
// key at Path + ".next".
type Files struct{ Path string }

// NextPath is where the next key waits beside the signing key.
func NextPath(path string) string { return path + ".next" }

func (f Files) Active() (crypto.Signer, error) { return keys.LoadPEM(f.Path) }
func (f Files) Next() (crypto.Signer, error)   { return keys.LoadPEM(NextPath(f.Path)) }

func (f Files) SetActive(k crypto.Signer) error { return keys.WritePEM(f.Path, k) }
func (f Files) SetNext(k crypto.Signer) error   { return keys.WritePEM(NextPath(f.Path), k) }

func (f Files) DiscardNext() error {
	if err := os.Remove(NextPath(f.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discard the next key: %w", err)
	}
	return nil
}

func (f Files) Promote() error {
	if err := atomicfile.Rename(NextPath(f.Path), f.Path); err != nil {
		return fmt.Errorf("promote the next key: %w", err)
	}
	return nil
}

func (f Files) ActiveSince() (time.Time, error) {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

func (f Files) Exposed() string { return atomicfile.Exposed(f.Path) }

func (f Files) Where() string { return f.Path }

// Memory is a vault in memory, for tests of the engine without files.
type Memory struct {
	active, next crypto.Signer
	since        time.Time
}

func (m *Memory) Active() (crypto.Signer, error) { return orMissing(m.active) }
func (m *Memory) Next() (crypto.Signer, error)   { return orMissing(m.next) }

func (m *Memory) SetActive(k crypto.Signer) error {
	m.active, m.since = k, time.Now()
	return nil
}

func (m *Memory) SetNext(k crypto.Signer) error { m.next = k; return nil }
func (m *Memory) DiscardNext() error            { m.next = nil; return nil }

func (m *Memory) Promote() error {
	if m.next == nil {
		return fmt.Errorf("promote the next key: %w", fs.ErrNotExist)
	}
	m.active, m.next, m.since = m.next, nil, time.Now()
	return nil
}

func (m *Memory) ActiveSince() (time.Time, error) { return m.since, nil }
func (m *Memory) Exposed() string                 { return "" }
func (m *Memory) Where() string                   { return "the in-memory vault" }

func orMissing(k crypto.Signer) (crypto.Signer, error) {
	if k == nil {
		return nil, fs.ErrNotExist
	}
	return k, nil
}
