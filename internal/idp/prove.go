package idp

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// TokenEndpoint finds the token endpoint in the IdP's metadata (the
// locations DiscoveryURLs names, in order).
func (cl *Client) TokenEndpoint(ctx context.Context, baseURL string) (string, error) {
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	docURL, err := cl.firstDocument(ctx, "discovery", DiscoveryURLs(baseURL), &doc)
	switch {
	case err != nil:
		return "", err
	case doc.TokenEndpoint == "":
		return "", &BadResponseError{Op: "discovery", URL: redactURL(docURL), Problem: "no token_endpoint"}
	}
	return doc.TokenEndpoint, nil
}

// KeyRefusedError: the token endpoint refused a client-credentials request
// authenticated with the registered key (RFC 7523 private_key_jwt). Exit 77.
type KeyRefusedError struct {
	ClientID, KID string
	Cause         error
}

func (e *KeyRefusedError) Error() string {
	return fmt.Sprintf("the IdP refused a private_key_jwt token request of client %s signed with kid %q: %v (the key may not be the registered one, or the client may not use the client_credentials grant: DCRCTL_GRANT_TYPES)", e.ClientID, e.KID, e.Cause)
}

func (e *KeyRefusedError) Unwrap() error { return e.Cause }

// ProveKey asks tokenEndpoint for a client-credentials token, the client
// authenticated with an RFC 7523 §2.2 assertion signed by signer under kid:
// the proof that the IdP accepts the key, where the registration itself
// cannot be read. The assertion's aud is the token endpoint as a string
// (some IdPs refuse an array), jti is random, exp two minutes ahead.
func (cl *Client) ProveKey(ctx context.Context, tokenEndpoint, clientID string, signer crypto.Signer, kid, alg string) error {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return err
	}
	now := time.Now()
	claims, err := json.Marshal(map[string]any{"iss": clientID, "sub": clientID, "aud": tokenEndpoint,
		"jti": hex.EncodeToString(jti), "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()})
	if err != nil {
		return err
	}
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, kid)
	hdr.Set(jws.TypeKey, "JWT")
	assertion, err := jws.Sign(claims, jws.WithKey(jwa.SignatureAlgorithm(alg), signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return fmt.Errorf("signing the client assertion: %w", err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {string(assertion)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	cl.sent.Add(1)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return &UnreachableError{Op: "token", URL: redactURL(tokenEndpoint), Attempts: 1, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	cause := &Error{Op: "token", URL: redactURL(tokenEndpoint), Status: resp.StatusCode, Code: body.Error, Description: body.Description}
	if resp.StatusCode >= 500 {
		return &UnreachableError{Op: "token", URL: redactURL(tokenEndpoint), Attempts: 1, Err: cause}
	}
	return &KeyRefusedError{ClientID: clientID, KID: kid, Cause: cause}
}
