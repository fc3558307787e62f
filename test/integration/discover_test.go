package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// protectedResource serves what an MCP server serves (RFC 9728): a 401 on
// /mcp naming its metadata (unless hint is false), and the metadata at the
// path-inserted well-known location, listing the issuers given. A test
// stand-in for a resource server, on loopback.
func protectedResource(t *testing.T, hint bool, issuers ...string) string {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mcp":
			if hint {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata="%s/.well-known/oauth-protected-resource/mcp"`, srv.URL))
			}
			w.WriteHeader(http.StatusUnauthorized)
		case "/.well-known/oauth-protected-resource/mcp":
			json.NewEncoder(w).Encode(map[string]any{"resource": srv.URL + "/mcp", "authorization_servers": issuers})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// dcrctl discover follows RFC 9728 to the authorization servers and picks
// a Client ID Metadata Document where the AS supports one (the real
// oidc-provider with its CIMD feature on), RFC 7591 registration otherwise
// (issue 20 §4).
func TestDiscoverChoosesCIMDOrRegistration(t *testing.T) {
	withCIMD, without := testenv.StartCIMDIdP(t, ""), testenv.StartIdP(t, 0)
	for _, hint := range []bool{true, false} {
		resource := protectedResource(t, hint, withCIMD.URL, without.URL)
		res := testenv.Run(t, runTimeout, nil, "discover", resource, "-o", "json")
		if res.Code != 0 {
			t.Fatalf("exit %d\n%s", res.Code, res.Stderr)
		}
		var rep struct {
			How     string `json:"found_by"`
			Servers []struct {
				Issuer        string `json:"issuer"`
				CIMD          bool   `json:"client_id_metadata_document_supported"`
				PrivateKeyJWT bool   `json:"private_key_jwt"`
				Choice        string `json:"choice"`
			} `json:"authorization_servers"`
		}
		if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil || len(rep.Servers) != 2 {
			t.Fatalf("%v\n%s", err, res.Stdout)
		}
		if wantHow := map[bool]string{true: "WWW-Authenticate", false: "well-known"}[hint]; !strings.Contains(rep.How, wantHow) {
			t.Errorf("hint=%v: found by %q", hint, rep.How)
		}
		if s := rep.Servers[0]; !s.CIMD || !s.PrivateKeyJWT || s.Choice != "client-id-metadata-document" {
			t.Errorf("the AS with CIMD: %+v", s)
		}
		if s := rep.Servers[1]; s.CIMD || s.Choice != "dynamic-registration" {
			t.Errorf("the AS without CIMD: %+v", s)
		}
	}
	res := testenv.Run(t, runTimeout, nil, "discover", protectedResource(t, true, withCIMD.URL))
	if res.Code != 0 || !strings.Contains(res.Stdout, "client-id-metadata-document") || !strings.Contains(res.Stdout, "MCP prefers") {
		t.Errorf("table output: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
}
