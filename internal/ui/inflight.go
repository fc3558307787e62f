package ui

import "sync"

// inFlight counts the requests the model has running, so that the program
// can wait for them after it quits (one that may rotate the RAT must be
// answered and saved before the process exits). Once waiting has begun no
// new request starts: a command the runtime starts late finds it closed and
// sends nothing.
type inFlight struct {
	mu     sync.Mutex
	idle   *sync.Cond
	n      int
	closed bool
}

func newInFlight() *inFlight {
	f := &inFlight{}
	f.idle = sync.NewCond(&f.mu)
	return f
}

// begin counts one request in, or reports false once wait has begun.
func (f *inFlight) begin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.n++
	return true
}

func (f *inFlight) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 {
		f.idle.Broadcast()
	}
}

// wait stops new requests and blocks until the running ones have ended.
func (f *inFlight) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for f.n > 0 {
		f.idle.Wait()
	}
}

// running is how many requests are on their way.
func (f *inFlight) running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
