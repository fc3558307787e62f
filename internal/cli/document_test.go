package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dcrctl run serves the metadata document as an AS needs it (issue 20 §3):
// 200 with the file as written now, Cache-Control from DCRCTL_DOC_CACHE, an
// ETag answered with 304, and 503 (never a redirect) before one exists.
func TestDocumentHandler(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.json")
	h := documentHandler(file, 5*time.Minute)
	get := func(etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/oauth/client.json", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no document yet: %d", rec.Code)
	}
	os.WriteFile(file, []byte(`{"client_id":"https://bff.example.test/oauth/client.json"}`), 0o644)
	rec := get("")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "max-age=300" || rec.Header().Get("ETag") == "" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("document: %d %v", rec.Code, rec.Header())
	}
	if again := get(rec.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: %d", again.Code)
	}
	os.WriteFile(file, []byte(`{"client_id":"https://bff.example.test/oauth/client.json","jwks":{"keys":[]}}`), 0o644)
	if changed := get(rec.Header().Get("ETag")); changed.Code != 200 {
		t.Errorf("after a rotation the old ETag must not match: %d", changed.Code)
	}
}
