// Package keys holds everything about the client's signing keys: PEM files,
// their JWK form (github.com/lestrrat-go/jwx/v2), RFC 7638 thumbprints, and
// the rules that decide which keys the IdP should publish.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
)

// maxPEMSize bounds how much of a key file is read; a 4096-bit RSA key is ~3 KiB.
const maxPEMSize = 64 << 10

// Algorithms dcrctl can generate keys for.
var Algorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

// ValidAlg reports whether alg is one of Algorithms.
func ValidAlg(alg string) bool {
	for _, a := range Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// Generate makes a new private key for alg.
func Generate(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256", "PS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("unsupported key algorithm %q (want one of %s)", alg, strings.Join(Algorithms, ", "))
}

// AlgFor is the JWS algorithm a key is used with. RSA keys take preferred
// (RS256 or PS256) since the key alone does not say.
func AlgFor(key crypto.Signer, preferred string) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if preferred == "PS256" {
			return "PS256"
		}
		return "RS256"
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
		return "ES256"
	case ed25519.PrivateKey:
		return "EdDSA"
	}
	return preferred
}

// PEMError says what is wrong with a key file, naming it.
type PEMError struct {
	Path    string
	Problem string
}

func (e *PEMError) Error() string { return fmt.Sprintf("signing key %s: %s", e.Path, e.Problem) }

// LoadPEM reads a private key: PKCS#1, PKCS#8 or SEC1; RSA, EC or Ed25519.
// A missing file returns an error that wraps fs.ErrNotExist.
func LoadPEM(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err // callers generate a key or say it is missing
	}
	if err != nil {
		return nil, &PEMError{Path: path, Problem: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMSize+1))
	if err != nil {
		return nil, &PEMError{Path: path, Problem: err.Error()} // a directory, say
	}
	key, problem := ParsePEM(data)
	if problem != nil {
		return nil, &PEMError{Path: path, Problem: problem.Error()}
	}
	return key, nil
}

// ParsePEM decodes the first PEM block of data as a private signing key.
func ParsePEM(data []byte) (crypto.Signer, error) {
	if len(data) > maxPEMSize {
		return nil, fmt.Errorf("larger than %d bytes, not a key file", maxPEMSize)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (expected -----BEGIN PRIVATE KEY-----)")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("the key is encrypted; dcrctl needs an unencrypted key in a 0600 file")
	}
	var (
		raw any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		raw, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		raw, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		raw, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "CERTIFICATE":
		return nil, errors.New("this is a certificate, not a private key")
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, errors.New("this is a public key; the private key is needed to sign")
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s: %v", block.Type, err)
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", raw)
	}
	switch signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return signer, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", raw)
}

// EncodePEM encodes a private key as PKCS#8.
func EncodePEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WritePEM writes a private key atomically, mode 0600.
func WritePEM(path string, key crypto.Signer) error {
	data, err := EncodePEM(key)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	return atomicfile.Write(path, data, 0o600)
}
