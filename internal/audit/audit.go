// Package audit keeps the trail of every change dcrctl applies: one JSON
// line per change, appended to a file beside the state (or DCRCTL_AUDIT_LOG),
// mode 0600. It holds fingerprints, never a secret.
package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"time"
)

// Entry is one applied change.
type Entry struct {
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Outcome string    `json:"outcome"` // the report's outcome, or "failed"
	Error   string    `json:"error,omitempty"`
	// Steps are what was done, as the plan worded them.
	Steps []string `json:"steps"`
	// KIDsAdded and KIDsDropped are the published key set's change.
	KIDsAdded   []string `json:"kids_added,omitempty"`
	KIDsDropped []string `json:"kids_dropped,omitempty"`
	Before      Snapshot `json:"before"`
	After       Snapshot `json:"after"`
}

// Snapshot is the client as the state held it, fingerprints only.
type Snapshot struct {
	ClientID  string `json:"client_id,omitempty"`
	RAT       string `json:"rat_fingerprint,omitempty"`
	ActiveKID string `json:"active_kid,omitempty"`
}

// Stamp fills in when, who, where and which process.
func (e *Entry) Stamp(now time.Time) {
	e.Time = now.UTC().Truncate(time.Second)
	e.PID = os.Getpid()
	e.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		e.User = u.Username
	} else {
		e.User = strconv.Itoa(os.Getuid())
	}
}

// Append adds e as one line, created with mode 0600 and synced. Lines of a
// few hundred bytes written with O_APPEND by one writer at a time (the
// state lock) never interleave.
func Append(path string, e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log %s (DCRCTL_AUDIT_LOG): %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	return f.Sync()
}

// Read returns the last limit entries (all when limit <= 0), oldest first.
// A missing file is an empty trail; a line that is not an entry is skipped
// and counted in skipped.
func Read(path string, limit int) (entries []Entry, skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("audit log %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Time.IsZero() {
			skipped++
			continue
		}
		entries = append(entries, e)
		if limit > 0 && len(entries) > limit {
			entries = entries[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return entries, skipped, fmt.Errorf("audit log %s: %w", path, err)
	}
	return entries, skipped, nil
}
