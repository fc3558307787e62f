package engine

import (
	"fmt"
	"slices"
	"sort"

	"github.com/dcrctl/dcrctl/internal/idp"
)

// Drift is a member of the client metadata where the configuration and the
// registration differ: a deployment changed DCR_REDIRECT_URIS (say) after
// the client was registered, and logins fail on the redirect URI.
type Drift struct {
	Member     string `json:"member"`
	Configured any    `json:"configured"`
	Registered any    `json:"registered"`
}

func (d Drift) String() string {
	return fmt.Sprintf("%s: configured %v, registered %v", d.Member, d.Configured, d.Registered)
}

// drift compares what dcrctl means the registration to say with what the
// IdP returned. Lists compare as sets (IdPs reorder them), single values
// whatever their shape (Glewlwyd's one-element arrays). A member the IdP
// does not return at all is not compared: there is nothing to see.
func (r *run) drift(registered idp.Metadata) []Drift {
	intended := r.intendedMetadata()
	members := make([]string, 0, len(intended))
	for k := range intended {
		members = append(members, k)
	}
	sort.Strings(members)
	var out []Drift
	for _, k := range members {
		got, present := registered[k]
		if !present {
			continue
		}
		switch want := intended[k].(type) {
		case string:
			if registered.String(k) != want {
				out = append(out, Drift{Member: k, Configured: want, Registered: got})
			}
		case []string:
			if !sameSet(want, registered.Strings(k)) {
				out = append(out, Drift{Member: k, Configured: want, Registered: got})
			}
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
