package state

import (
	"context"

	"errors"
	"time"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
)

// Store is where the state lives between runs: a file on a shared volume
// (FileStore), or a Kubernetes Secret shared by every replica (package
// kubestore). The engine works through it.
type Store interface {
	// Lock keeps other dcrctl processes from working on the registration
	// at once, waiting up to timeout. It only reduces contention; the
	// store's Save is what keeps the state correct. A store whose lock
	// costs requests takes it in Claim instead, only when a run writes.
	Lock(ctx context.Context, timeout time.Duration) (unlock func(), err error)
	// Claim is called before a run's first write: the lock is held from
	// then on (released by Lock's unlock), and ErrConflict says the state
	// changed since Load (the run starts again).
	Claim(ctx context.Context, timeout time.Duration) error
	// CheckWritable fails (UnwritableError) unless Save can succeed,
	// before any request whose answer would have to be saved.
	CheckWritable(ctx context.Context) error
	// Load reads the state; a missing one is empty.
	Load(ctx context.Context) (*State, error)
	// Save writes st. A store shared by replicas compares and swaps: it
	// fails with ErrConflict when another writer changed the state since
	// this process loaded it, unless mustWin (the answer of a request that
	// may have rotated the RAT, which is the newest there is): then it is
	// laid over the other writer's state and saved.
	Save(st *State, mustWin bool) error
	// Where names the state for messages ("state file /x", "Secret ns/name").
	Where() string
}

// ErrConflict: another writer changed the shared state since it was read.
// Nothing planned from the old state may be sent; re-read and plan again.
var ErrConflict = errors.New("the state was changed by another writer since it was read")

// FileStore is the state file of BFF_CLIENT_CRED_PATH with its flock.
type FileStore struct{ Path string }

func (f FileStore) Lock(ctx context.Context, timeout time.Duration) (func(), error) {
	return Lock(ctx, f.Path, timeout)
}

func (f FileStore) CheckWritable(context.Context) error { return CheckWritable(f.Path) }

// Claim: the flock is taken for the whole run already.
func (f FileStore) Claim(context.Context, time.Duration) error { return nil }

func (f FileStore) Load(context.Context) (*State, error) { return Load(f.Path) }

// Save writes the file atomically; under the flock no one else writes it.
func (f FileStore) Save(st *State, _ bool) error { return Save(f.Path, st) }

func (f FileStore) Where() string { return "state file " + f.Path }

// Exposed says why the state file (it holds the RAT) is not private to its
// owner, "" when it is.
func (f FileStore) Exposed() string { return atomicfile.Exposed(f.Path) }
