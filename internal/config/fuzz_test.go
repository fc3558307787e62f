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

// FuzzLoad: any value of a list, duration, boolean, days or URL setting is
// either accepted or rejected with an error that names a variable.
func FuzzLoad(f *testing.F) {
	f.Add("https://a/cb, https://b/cb", "90s", "true", "30", "https://idp.test")
	f.Add("", "10", "maybe", "-1", "ftp://x")
	f.Add(" , ", "1h2m", "0", "abc", "http://")
	f.Fuzz(func(t *testing.T, uris, duration, boolean, days, base string) {
		v := New()
		v.Set("redirect_uris", uris)
		v.Set("retry_deadline", duration)
		v.Set("force_replace", boolean)
		v.Set("rotate_after_days", days)
		v.Set("idp_base_url", base)
		_, err := Load(v)
		if err != nil && !strings.Contains(err.Error(), "config: ") {
			t.Fatalf("error without a variable name: %v", err)
		}
	})
}
