package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/viper"
)

// Profiles: a config file may hold several named clients under
// `profiles:` (staging and production, or one per IdP). The selected
// profile's keys take the place of the file's own; env and flags still win.
//
//	state_file: /var/lib/bff/client.json   # shared by every profile
//	profiles:
//	  staging:    {idp_base_url: https://idp.staging.example, state_file: /var/lib/bff/staging.json}
//	  production: {idp_base_url: https://idp.example}

// profilesKey is the config file key that holds the profiles.
const profilesKey = "profiles"

// ProfileNames lists the profiles of a config file, sorted.
func ProfileNames(file *viper.Viper) []string {
	m := file.GetStringMap(profilesKey)
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// UseProfile lays profile name of the file over v's config-file layer.
// from names where the choice came from (--profile or DCRCTL_PROFILE).
func UseProfile(v, file *viper.Viper, name, from string) error {
	names := ProfileNames(file)
	if !slices.Contains(names, name) {
		known := "the config file has none"
		if len(names) > 0 {
			known = "known: " + strings.Join(names, ", ")
		}
		return &Error{Name: from, Problem: fmt.Sprintf("no profile %q in the config file (%s)", name, known)}
	}
	return v.MergeConfigMap(file.GetStringMap(profilesKey + "." + name))
}

// profileKey is, for a key inside a profile, the setting key it names.
func profileKey(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, profilesKey+".")
	if !ok {
		return "", false
	}
	_, key, ok := strings.Cut(rest, ".")
	return key, ok
}
