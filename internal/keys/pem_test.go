package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestParsePEMFormats(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	edKey, _ := Generate("EdDSA")
	edPEM, _ := EncodePEM(edKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaKey.Public())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})

	good := map[string][]byte{
		"PKCS#1 RSA": block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)),
		"PKCS#8 EC":  block("PRIVATE KEY", pkcs8),
		"SEC1 EC":    block("EC PRIVATE KEY", sec1),
		"Ed25519":    edPEM,
	}
	for name, data := range good {
		if _, err := ParsePEM(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]struct {
		data []byte
		want string
	}{
		"garbage":     {[]byte("hello"), "no PEM block"},
		"empty":       {nil, "no PEM block"},
		"encrypted":   {encrypted, "encrypted"},
		"certificate": {block("CERTIFICATE", certDER), "certificate"},
		"public key":  {block("PUBLIC KEY", pubDER), "public key"},
		"truncated":   {block("PRIVATE KEY", pkcs8[:20]), "cannot parse"},
	}
	for name, tc := range bad {
		_, err := ParsePEM(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestPublicJWKHasNoPrivateMembers(t *testing.T) {
	for _, alg := range Algorithms {
		key, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := PublicJWK(key, "kid-1", alg)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]any{"keys": []any{pub}})
		if err := PublicOnly(data); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		if pub.KeyID() != "kid-1" || pub.KeyUsage() != "sig" {
			t.Errorf("%s: kid %q use %q", alg, pub.KeyID(), pub.KeyUsage())
		}
		tp, _ := Thumbprint(key)
		if !SameKey(pub, key) || len(tp) != 43 {
			t.Errorf("%s: thumbprint %q", alg, tp)
		}
	}
	if err := PublicOnly([]byte(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB","d":"secret"}]}`)); err == nil {
		t.Error("a JWKS with d must be refused")
	}
}

func TestParseJWKSRejectsPrivateAndDuplicateKeys(t *testing.T) {
	key, _ := Generate("ES256")
	pub, _ := PublicJWK(key, "a", "ES256")
	pubJSON, _ := json.Marshal(pub)
	dup := `{"keys":[` + string(pubJSON) + `,` + string(pubJSON) + `]}`
	if _, err := ParseJWKS([]byte(dup)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate kid: %v", err)
	}
	full, _ := json.Marshal(map[string]any{"keys": []any{mustPrivateJWK(t, key)}})
	if _, err := ParseJWKS(full); err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("private key: %v", err)
	}
}

func mustPrivateJWK(t *testing.T, key any) any {
	t.Helper()
	k, err := jwk.FromRaw(key)
	if err != nil {
		t.Fatal(err)
	}
	k.Set("kid", "p")
	return k
}

// One thumbprint in 64 starts with "-"; 300 draws would meet one with
// probability 99%, so a GenerateWithKID that stopped drawing again fails here.
func TestGeneratedKIDNeverStartsWithADash(t *testing.T) {
	for range 300 {
		signer, kid, err := GenerateWithKID("EdDSA")
		if err != nil {
			t.Fatal(err)
		}
		if tp, _ := Thumbprint(signer); tp != kid || strings.HasPrefix(kid, "-") {
			t.Fatalf("kid %q (thumbprint %q)", kid, tp)
		}
	}
}
