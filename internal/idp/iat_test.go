package idp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// Token endpoint answers that can never succeed as configured name the
// setting at fault (exit 78). Glewlwyd 2.7.5 spells an unknown scope
// "scope_invalid" with HTTP 400, not RFC 6749's invalid_scope: a
// hand-written endpoint here, since the test Glewlwyd's configuration
// answers a bare 403 instead (test/integration covers that one).
func TestIATTokenErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		setting string
	}{
		{400, `{"error":"scope_invalid"}`, "DCRCTL_IAT_SCOPE"},
		{400, `{"error":"invalid_scope"}`, "DCRCTL_IAT_SCOPE"},
		{401, `{"error":"invalid_client"}`, "DCRCTL_IAT_CLIENT_ID/DCRCTL_IAT_CLIENT_SECRET"},
		{400, `{"error":"unauthorized_client"}`, "DCRCTL_IAT_CLIENT_ID"},
		{403, ``, "DCRCTL_IAT_CLIENT_ID/DCRCTL_IAT_CLIENT_SECRET/DCRCTL_IAT_SCOPE"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		src := ClientCredentialsIAT{Config: clientcredentials.Config{ClientID: "gw", ClientSecret: "s", TokenURL: srv.URL, Scopes: []string{"dcr"}}, HTTP: srv.Client()}
		_, err := src.IAT(context.Background())
		var setting *SettingError
		if !errors.As(err, &setting) || setting.Setting != tc.setting {
			t.Errorf("%d %s: %v, want a SettingError naming %s", tc.status, tc.body, err, tc.setting)
		}
		srv.Close()
	}
}
