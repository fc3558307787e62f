package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// Bad local files: a clear error naming the file, the documented exit code,
// and nothing on disk overwritten.
func TestBadLocalFilesAreNamedAndKept(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(ecKey.Public())
	otherKey, _ := keys.Generate("ES256")
	otherPEM, _ := keys.EncodePEM(otherKey)
	cases := []struct {
		name     string
		file     string // "state" or "key"
		content  []byte
		wantCode int
		wantText string
	}{
		{"empty state", "state", []byte{}, 65, "empty"},
		{"truncated state", "state", []byte(`{"client_id":"bff","registration_acc`), 65, "invalid JSON"},
		{"corrupt state", "state", []byte("\x00\x01garbage"), 65, "invalid JSON"},
		{"oversized state", "state", []byte(`{"client_id":"` + strings.Repeat("x", 2<<20) + `"}`), 65, "larger than"},
		{"garbage PEM", "key", []byte("not a key"), 65, "no PEM block"},
		{"encrypted PEM", "key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2}}), 65, "encrypted"},
		{"public key PEM", "key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 65, "public key"},
		{"PEM of another key", "key", otherPEM, 65, "is not the key recorded for active_kid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, idp.URL)
			c.mustRun(0, "bootstrap")
			path := c.statePath()
			if tc.file == "key" {
				path = c.keyPath()
			}
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			otherPath := c.keyPath()
			if tc.file == "key" {
				otherPath = c.statePath()
			}
			otherBefore, _ := os.ReadFile(otherPath)
			res := c.mustRun(tc.wantCode, "bootstrap")
			if !strings.Contains(res.Stderr, path) || !strings.Contains(res.Stderr, tc.wantText) {
				t.Errorf("error should name %s and say %q:\n%s", path, tc.wantText, res.Stderr)
			}
			after, _ := os.ReadFile(path)
			otherAfter, _ := os.ReadFile(otherPath)
			if string(after) != string(tc.content) || string(otherAfter) != string(otherBefore) {
				t.Error("a file was changed")
			}
		})
	}
}

func TestWorldReadableKeyWarns(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	os.Chmod(c.keyPath(), 0o644)
	res := c.mustRun(0, "bootstrap")
	if !strings.Contains(res.Stderr, "chmod 600") || !strings.Contains(res.Stderr, c.keyPath()) {
		t.Errorf("no warning for a world-readable key:\n%s", res.Stderr)
	}
}

func TestReadOnlyFolderFailsClearly(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes through a read-only folder; use a path under a file instead.
		c := newClient(t, "http://127.0.0.1:1")
		blocker := filepath.Join(c.dir, "not-a-dir")
		os.WriteFile(blocker, []byte("x"), 0o600)
		c.env["BFF_JWT_SIGNING_KEY"] = filepath.Join(blocker, "key.pem")
		c.env["BFF_CLIENT_CRED_PATH"] = filepath.Join(blocker, "client.json")
		res := c.run("bootstrap")
		if res.Code == 0 || !strings.Contains(res.Stderr, blocker) {
			t.Errorf("exit %d, error should name the path:\n%s", res.Code, res.Stderr)
		}
		return
	}
	c := newClient(t, "http://127.0.0.1:1")
	os.Chmod(c.dir, 0o500)
	defer os.Chmod(c.dir, 0o700)
	res := c.run("bootstrap")
	if res.Code == 0 || !strings.Contains(res.Stderr, c.dir) {
		t.Errorf("exit %d, error should name the folder:\n%s", res.Code, res.Stderr)
	}
}

// A temp file torn by a power loss mid-write is never read as state.
func TestTornTempFileIsIgnored(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	torn := filepath.Join(c.dir, ".client.json.tmp-123456")
	os.WriteFile(torn, []byte(`{"client_id":"torn","registration_acc`), 0o600)
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	if got := len(idp.Requests(t)); got != 1 {
		t.Errorf("%d requests: the torn file disturbed the no-change path", got)
	}
	if c.state().ClientID == "torn" {
		t.Fatal("the torn temp file was read as state")
	}
}
