package idp

import (
	"slices"
	"testing"
)

// The metadata locations MCP's authorization specification tries, in its
// order: RFC 9728 §3.1 and RFC 8414 §3.1 insert the well-known segment
// before the path; OpenID Connect Discovery appends it.
func TestMetadataLocations(t *testing.T) {
	for _, tc := range []struct {
		got, want []string
	}{
		{wellKnown("https://mcp.example.test/v1/mcp", "oauth-protected-resource"),
			[]string{"https://mcp.example.test/.well-known/oauth-protected-resource/v1/mcp", "https://mcp.example.test/.well-known/oauth-protected-resource"}},
		{wellKnown("https://mcp.example.test", "oauth-protected-resource"),
			[]string{"https://mcp.example.test/.well-known/oauth-protected-resource"}},
		{asMetadataURLs("https://as.example.test/tenant/a"),
			[]string{"https://as.example.test/.well-known/oauth-authorization-server/tenant/a", "https://as.example.test/.well-known/openid-configuration/tenant/a", "https://as.example.test/tenant/a/.well-known/openid-configuration"}},
		{asMetadataURLs("https://as.example.test"),
			[]string{"https://as.example.test/.well-known/oauth-authorization-server", "https://as.example.test/.well-known/openid-configuration"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("got %v\nwant %v", tc.got, tc.want)
		}
	}
}
