package keys

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a key's public half,
// base64url-encoded. It makes a good kid: unique per key, never reused.
func Thumbprint(key crypto.Signer) (string, error) {
	pub, err := jwk.FromRaw(key.Public())
	if err != nil {
		return "", err
	}
	return ThumbprintOf(pub)
}

// ThumbprintOf is the RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded.
func ThumbprintOf(k jwk.Key) (string, error) {
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// PublicJWK is the key's public half as a signing JWK with kid and alg.
func PublicJWK(key crypto.Signer, kid, alg string) (jwk.Key, error) {
	pub, err := jwk.FromRaw(key.Public())
	if err != nil {
		return nil, err
	}
	for name, value := range map[string]string{jwk.KeyIDKey: kid, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(name, value); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}
	return pub, nil
}

// ParseJWKS decodes a JWKS as an IdP returned it and checks what dcrctl relies
// on: every key has a kid, no kid twice, no private member anywhere.
func ParseJWKS(data []byte) (jwk.Set, error) {
	if err := privateMembers(data); err != nil {
		return nil, err
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("invalid JWKS: %w", err)
	}
	seen := map[string]bool{}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		kid := k.KeyID()
		if kid == "" {
			return nil, fmt.Errorf("JWKS key #%d has no kid", i)
		}
		if seen[kid] {
			return nil, fmt.Errorf("JWKS lists kid %q twice", kid)
		}
		seen[kid] = true
	}
	return set, nil
}

// KIDs lists the kids of a set in order.
func KIDs(set jwk.Set) []string {
	if set == nil {
		return nil
	}
	out := make([]string, 0, set.Len())
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		out = append(out, k.KeyID())
	}
	return out
}

// Find returns the key with kid from set, or nil.
func Find(set jwk.Set, kid string) jwk.Key {
	if set == nil {
		return nil
	}
	k, ok := set.LookupKeyID(kid)
	if !ok {
		return nil
	}
	return k
}

// SameKey reports whether a published JWK is the public half of key.
func SameKey(published jwk.Key, key crypto.Signer) bool {
	a, err := ThumbprintOf(published)
	if err != nil {
		return false
	}
	b, err := Thumbprint(key)
	return err == nil && a == b
}

// PublicOnly reports whether the JSON form of a JWKS is free of private
// members (RFC 7517 §9.2, RFC 7518 §6): the last line of defence before a
// set leaves this process.
func PublicOnly(jwksJSON []byte) error {
	if err := privateMembers(jwksJSON); err != nil {
		return fmt.Errorf("refusing to send: %w", err)
	}
	return nil
}

// privateMembers finds a private or symmetric key member in a JWKS.
func privateMembers(jwksJSON []byte) error {
	var doc struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwksJSON, &doc); err != nil {
		return fmt.Errorf("invalid JWKS: %w", err)
	}
	for i, k := range doc.Keys {
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, found := k[member]; found {
				return fmt.Errorf("JWKS key #%d carries private key material (member %q)", i, member)
			}
		}
	}
	return nil
}

// GenerateWithKID makes a new key whose RFC 7638 thumbprint, its kid, does
// not start with "-": one base64url thumbprint in 64 does, and such a kid
// reads as a flag on every command line (`dcrctl keys retire -Zx…`). The
// key is simply drawn again; 64 draws all starting with "-" has probability
// 2^-384.
func GenerateWithKID(alg string) (crypto.Signer, string, error) {
	for range 64 {
		signer, err := Generate(alg)
		if err != nil {
			return nil, "", err
		}
		tp, err := Thumbprint(signer)
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(tp, "-") {
			return signer, tp, nil
		}
	}
	return nil, "", fmt.Errorf("could not draw a key whose kid does not start with \"-\"")
}
