package idp

import (
	"context"
	"errors"
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
			problem := fmt.Sprintf("the token endpoint %s refused the client-credentials grant for the initial access token: HTTP %d %s", redactURL(c.Config.TokenURL), re.Response.StatusCode, re.ErrorCode)
			// RFC 6749 §5.2: these codes mean the request as configured can
			// never succeed; name the setting to fix (exit 78).
			if re.ErrorCode == "" && (re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusForbidden) {
				// Glewlwyd answers a wrong secret and an unknown scope alike,
				// with a bare 403: name every setting that can cause it.
				return "", &SettingError{Setting: "DCRCTL_IAT_CLIENT_ID/DCRCTL_IAT_CLIENT_SECRET/DCRCTL_IAT_SCOPE", Problem: problem + "(no OAuth error code: the client, its secret or the scope is wrong)"}
			}
			switch re.ErrorCode {
			case "invalid_client":
				return "", &SettingError{Setting: "DCRCTL_IAT_CLIENT_ID/DCRCTL_IAT_CLIENT_SECRET", Problem: problem}
			case "unauthorized_client":
				return "", &SettingError{Setting: "DCRCTL_IAT_CLIENT_ID", Problem: problem + " (the client may not use this grant)"}
			case "invalid_scope", "scope_invalid": // Glewlwyd 2.7 says scope_invalid (HTTP 400)
				return "", &SettingError{Setting: "DCRCTL_IAT_SCOPE", Problem: problem}
			}
			return "", errors.New("idp: " + problem)
		}
		return "", fmt.Errorf("idp: client-credentials grant at %s for the initial access token: %w", redactURL(c.Config.TokenURL), err)
	}
	return tok.AccessToken, nil
}
