package keys

import "testing"

// FuzzParsePEM: no input crashes the PEM loader; an accepted key has a thumbprint.
func FuzzParsePEM(f *testing.F) {
	for _, alg := range Algorithms {
		key, _ := Generate(alg)
		data, _ := EncodePEM(key)
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePEM(data)
		if err != nil {
			return
		}
		if _, err := Thumbprint(key); err != nil {
			t.Fatalf("accepted key has no thumbprint: %v", err)
		}
	})
}

// FuzzParseJWKS: no IdP JWKS crashes the decoder; an accepted set has unique
// kids and no private members.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"k1"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","kid":"s"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseJWKS(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, kid := range KIDs(set) {
			if seen[kid] {
				t.Fatalf("duplicate kid %q accepted", kid)
			}
			seen[kid] = true
		}
	})
}
