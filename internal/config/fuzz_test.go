package config

import (
	"strings"
	"testing"
)

// FuzzSplitList: items never contain a separator and are never empty.
func FuzzSplitList(f *testing.F) {
	for _, seed := range []string{"https://a/cb https://b/cb", "a,b,,c", " , ", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, item := range SplitList(raw) {
			if item == "" || strings.ContainsAny(item, ", \t\n") {
				t.Fatalf("item %q from %q", item, raw)
			}
		}
	})
}
