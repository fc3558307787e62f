package state

import (
	"context"
	"sync"
	"time"
)

// MemoryStore keeps the state in memory, with a version that every Save
// moves on and a compare-and-swap like the Kubernetes store's: for fast
// tests of the engine, which can also play "another replica" by writing
// through Write. Several handles (Handle) on one MemoryStore behave as
// replicas sharing it.
type MemoryStore struct {
	mu      sync.Mutex
	data    []byte // the encoded state; nil while none was saved
	version int
	saves   int
}

// Handle is one process's view of a MemoryStore: the version it last read.
func (m *MemoryStore) Handle() *MemoryHandle { return &MemoryHandle{m: m} }

// Write replaces the state as another writer would (the version moves).
func (m *MemoryStore) Write(st *State) {
	data, err := Encode(st)
	if err != nil {
		panic(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data, m.version = data, m.version+1
}

// Read is the state as saved (empty when none was).
func (m *MemoryStore) Read() *State {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		return &State{}
	}
	st, err := Parse(m.data)
	if err != nil {
		panic(err)
	}
	return st
}

// Bytes is the encoded state as saved.
func (m *MemoryStore) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data...)
}

// Saves counts the saves that succeeded.
func (m *MemoryStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// MemoryHandle implements Store on a MemoryStore.
type MemoryHandle struct {
	m       *MemoryStore
	version int
	// AfterLoad, when set, runs once after the next Load: a test's other
	// replica writing between this one's read and its write.
	AfterLoad func()
}

func (h *MemoryHandle) Lock(context.Context, time.Duration) (func(), error) { return func() {}, nil }

func (h *MemoryHandle) CheckWritable(context.Context) error { return nil }

// Claim fails with ErrConflict when another writer saved since Load.
func (h *MemoryHandle) Claim(context.Context, time.Duration) error {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if h.m.version != h.version {
		return ErrConflict
	}
	return nil
}

func (h *MemoryHandle) Load(context.Context) (*State, error) {
	h.m.mu.Lock()
	h.version = h.m.version
	data := h.m.data
	h.m.mu.Unlock()
	if hook := h.AfterLoad; hook != nil {
		h.AfterLoad = nil
		hook()
	}
	if data == nil {
		return &State{}, nil
	}
	return Parse(data)
}

// Save compares and swaps; mustWin lays st over another writer's state.
func (h *MemoryHandle) Save(st *State, mustWin bool) error {
	data, err := Encode(st)
	if err != nil {
		return err
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if h.m.version != h.version && !mustWin {
		return ErrConflict
	}
	h.m.data, h.m.version, h.version = data, h.m.version+1, h.m.version+1
	h.m.saves++
	return nil
}

func (h *MemoryHandle) Where() string { return "memory" }
