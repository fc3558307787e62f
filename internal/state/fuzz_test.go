package state

import (
	"encoding/json"
	"testing"
)

// FuzzParse: no input crashes the parser, and whatever it accepts survives a
// save/load round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"client_id":"bff","registration_access_token":"rat"}`,
		`{"client_id":"bff","registration_access_token":"rat","registration_client_uri":"https://idp/reg/bff","active_kid":"k1","keys":[{"kid":"k1","alg":"RS256","created_at":"2026-01-02T03:04:05Z"}]}`,
		``, `{`, `[]`, `{"keys":[{"kid":"a"},{"kid":"a"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("accepted state does not marshal: %v", err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("accepted state does not parse after a round trip: %v\n%s", err, again)
		}
	})
}
