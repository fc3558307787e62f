package keys

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// MaxPublished caps the JWKS: previous, current and next key.
const MaxPublished = 3

// Info is what planning needs to know of one key.
type Info struct {
	KID       string
	CreatedAt time.Time // zero when the age is unknown (a key published by someone else)
	// SupersededAt is when another key replaced it as the signing key; zero
	// for the active key and where unknown.
	SupersededAt time.Time
}

// Age is how old the key is at now; ok is false when unknown.
func (i Info) Age(now time.Time) (age time.Duration, ok bool) {
	if i.CreatedAt.IsZero() {
		return 0, false
	}
	return now.Sub(i.CreatedAt), true
}

// Policy holds the thresholds from config.
type Policy struct {
	RotateAfter time.Duration
	RetireAfter time.Duration
	Max         int      // 0 means MaxPublished
	Retire      []string // kids an operator asked to unpublish (never the active or pending key)
	// LastSuperseded is the key that signed until the latest rotation: a
	// replica that started before it may sign with it still, so the cap
	// never drops it (only its own retirement date does).
	LastSuperseded string
}

// VerificationWindow is how long a key stays published after it stopped
// signing: what the two settings imply (retire-after − rotate-after, 30
// days by default), since a key rotated at rotate-after was meant to stay
// published until retire-after. Tokens and assertions signed by a replica
// still holding the old key in memory verify for that long.
func (p Policy) VerificationWindow() time.Duration { return p.RetireAfter - p.RotateAfter }

// RetiresOn is when a key is due to be unpublished: retire-after from its
// creation, but never before the verification window from when it stopped
// signing. ok is false for a key of unknown age.
func (p Policy) RetiresOn(k Info) (on time.Time, ok bool) {
	if k.CreatedAt.IsZero() {
		return time.Time{}, false
	}
	on = k.CreatedAt.Add(p.RetireAfter)
	if !k.SupersededAt.IsZero() {
		if w := k.SupersededAt.Add(p.VerificationWindow()); w.After(on) {
			on = w
		}
	}
	return on, true
}

// RotationDue reports whether the active key is old enough to be replaced.
// While a next key is pending, no further one is due.
func (p Policy) RotationDue(active Info, pendingExists bool, now time.Time) bool {
	age, ok := active.Age(now)
	return !pendingExists && ok && age >= p.RotateAfter
}

// Expired reports whether a key is past retirement (RetiresOn).
func (p Policy) Expired(k Info, now time.Time) bool {
	on, ok := p.RetiresOn(k)
	return ok && !now.Before(on)
}

// Drop is a published key the plan removes, and why.
type Drop struct {
	KID    string `json:"kid"`
	Reason string `json:"reason"`
}

// JWKSPlan is the change to the published key set.
type JWKSPlan struct {
	Before []string `json:"before"`
	After  []string `json:"after"`
	Add    []string `json:"add,omitempty"`
	Drop   []Drop   `json:"drop,omitempty"`
}

// Changes reports whether the plan changes the published set.
func (p JWKSPlan) Changes() bool { return len(p.Add) > 0 || len(p.Drop) > 0 }

// PlanJWKS decides the JWKS to publish. The active key and the pending one
// are always kept (never drop the key in use for signing); other keys past
// retirement are dropped; then the set is capped to the newest Max keys, keys
// of unknown age counting as oldest, except that the cap never drops the key
// superseded last. Retained keys keep the IdP's order and added keys go last.
func (p Policy) PlanJWKS(published []Info, active Info, pending *Info, now time.Time) JWKSPlan {
	max := p.Max
	if max <= 0 {
		max = MaxPublished
	}
	plan := JWKSPlan{Before: make([]string, 0, len(published))}
	isPublished := map[string]bool{}
	for _, k := range published {
		plan.Before = append(plan.Before, k.KID)
		isPublished[k.KID] = true
	}
	must := []Info{active}
	if pending != nil && pending.KID != active.KID {
		must = append(must, *pending)
	}
	keep := map[string]bool{}
	for _, k := range must {
		keep[k.KID] = true
		if !isPublished[k.KID] {
			plan.Add = append(plan.Add, k.KID)
		}
	}

	var others []Info
	for _, k := range published {
		if keep[k.KID] {
			continue
		}
		if slices.Contains(p.Retire, k.KID) {
			plan.Drop = append(plan.Drop, Drop{KID: k.KID, Reason: "retired by the operator"})
			continue
		}
		if p.Expired(k, now) {
			age, _ := k.Age(now)
			reason := fmt.Sprintf("expired: %d days old, retire after %d", Days(age), Days(p.RetireAfter))
			if !k.SupersededAt.IsZero() {
				reason += fmt.Sprintf(", stopped signing %d days ago (verification window %d)", Days(now.Sub(k.SupersededAt)), Days(p.VerificationWindow()))
			}
			plan.Drop = append(plan.Drop, Drop{KID: k.KID, Reason: reason})
			continue
		}
		if k.KID == p.LastSuperseded {
			keep[k.KID] = true // the cap never drops it
			continue
		}
		others = append(others, k)
	}
	// Newest first; unknown ages last, then by kid so the plan is deterministic.
	sort.SliceStable(others, func(i, j int) bool {
		a, b := others[i].CreatedAt, others[j].CreatedAt
		if a.IsZero() != b.IsZero() {
			return !a.IsZero()
		}
		if !a.Equal(b) {
			return a.After(b)
		}
		return others[i].KID < others[j].KID
	})
	room := max - len(keep)
	for i, k := range others {
		if i < room {
			keep[k.KID] = true
			continue
		}
		plan.Drop = append(plan.Drop, Drop{KID: k.KID, Reason: fmt.Sprintf("over the cap of %d published keys", max)})
	}
	for _, k := range published {
		if keep[k.KID] {
			plan.After = append(plan.After, k.KID)
		}
	}
	plan.After = append(plan.After, plan.Add...)
	return plan
}

// Days is a duration in whole days, as ages are shown.
func Days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// Key states, shown with the same words in every surface.
const (
	StateActive     = "active"      // the signing key
	StateNext       = "next"        // generated for rotation, not yet signing
	StatePublished  = "published"   // in the IdP's JWKS, not active
	StateDue        = "due"         // active and past rotate-after
	StateExpired    = "expired"     // past retire-after
	StateLocalOnly  = "local-only"  // a private key here the IdP does not publish
	StateRemoteOnly = "remote-only" // published, no record here
	// StateLastSeen: the IdP could not be read; the key was published when
	// dcrctl last read the JWKS (Status.JWKSSeenAt), not necessarily now.
	StateLastSeen = "last-seen"
)

// Facts are what is known of one key when its states are worked out.
type Facts struct {
	Info
	Active    bool
	Next      bool
	Published bool
	Recorded  bool // the state file has a record of it
	LastSeen  bool // the IdP was not read; published when last seen
}

// States names the states of one key.
func (p Policy) States(f Facts, now time.Time) []string {
	var out []string
	switch {
	case f.Active:
		out = append(out, StateActive)
		if p.RotationDue(f.Info, false, now) {
			out = append(out, StateDue)
		}
	case f.Next:
		out = append(out, StateNext)
	}
	if f.Published && !f.Active {
		out = append(out, StatePublished)
	}
	if f.LastSeen && !f.Active {
		out = append(out, StateLastSeen)
	}
	if p.Expired(f.Info, now) {
		out = append(out, StateExpired)
	}
	if !f.Published && !f.LastSeen && (f.Active || f.Next) {
		out = append(out, StateLocalOnly)
	}
	if f.Published && !f.Recorded {
		out = append(out, StateRemoteOnly)
	}
	return out
}
