package idp

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeRegistration: no IdP response body crashes the decoder, and an
// accepted one always has a client_id.
func FuzzDecodeRegistration(f *testing.F) {
	f.Add([]byte(`{"client_id":"c","registration_access_token":"r","registration_client_uri":"u"}`))
	f.Add([]byte(`{"client_id":"c","jwks":{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}}`))
	f.Add([]byte(`{"client_id":42}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var md Metadata
		if json.Unmarshal(body, &md) != nil {
			return
		}
		reg, err := decodeRegistration("read", "https://idp/reg/c", md)
		if err == nil && reg.ClientID == "" {
			t.Fatal("accepted a registration without client_id")
		}
	})
}
