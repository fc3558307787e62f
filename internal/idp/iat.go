package idp

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// IATSource yields the initial access token a registration presents.
type IATSource interface {
	IAT(ctx context.Context) (string, error)
}

// StaticIAT is a token given in config (DCR_IAT).
type StaticIAT string

// IAT returns the token.
func (s StaticIAT) IAT(context.Context) (string, error) { return string(s), nil }

// ClientCredentialsIAT obtains the IAT with an OAuth client-credentials grant
// (RFC 6749 §4.4), as Gravitee APIM does with scope dcr_admin.
type ClientCredentialsIAT struct {
	Config clientcredentials.Config
	HTTP   *http.Client
}

// IAT fetches a fresh access token.
func (c ClientCredentialsIAT) IAT(ctx context.Context) (string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.HTTP)
	tok, err := c.Config.Token(ctx)
	if err != nil {
		// RetrieveError's message embeds the response body; keep only the code.
		if re, ok := err.(*oauth2.RetrieveError); ok {
			return "", fmt.Errorf("idp: client-credentials grant at %s for the initial access token: HTTP %d %s", redactURL(c.Config.TokenURL), re.Response.StatusCode, re.ErrorCode)
		}
		return "", fmt.Errorf("idp: client-credentials grant at %s for the initial access token: %w", redactURL(c.Config.TokenURL), err)
	}
	return tok.AccessToken, nil
}
