package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofrs/flock"
)

func TestParse(t *testing.T) {
	good := map[string]string{
		"old helper": `{"client_id":"bff","registration_access_token":"rat"}`,
		"full":       `{"client_id":"bff","registration_access_token":"rat","registration_client_uri":"https://idp/reg/bff","active_kid":"k1","keys":[{"kid":"k1","alg":"RS256","created_at":"2026-01-02T03:04:05Z"}]}`,
		"empty obj":  `{}`,
	}
	for name, data := range good {
		if _, err := Parse([]byte(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]string{
		"empty":      ``,
		"blank":      "  \n",
		"truncated":  `{"client_id":"bff","regis`,
		"not object": `[1,2]`,
		"trailing":   `{"client_id":"a"} {"x":1}`,
		"rat no id":  `{"registration_access_token":"rat"}`,
		"dup kid":    `{"keys":[{"kid":"a"},{"kid":"a"}]}`,
		"no kid":     `{"keys":[{"alg":"RS256"}]}`,
		"bad time":   `{"keys":[{"kid":"a","created_at":"yesterday"}]}`,
		"wrong type": `{"client_id":42}`,
		"oversized":  `{"client_id":"` + strings.Repeat("a", MaxSize) + `"}`,
	}
	for name, data := range bad {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: parsed, want an error", name)
		}
	}
}

func TestLoadCorruptLeavesFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(path, []byte(`{"client_id":`), 0o600)
	_, err := Load(path)
	var ce *CorruptError
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name %s", err, path)
	}
	if !errors.As(err, &ce) {
		t.Fatalf("want a CorruptError, got %T", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != `{"client_id":` {
		t.Error("corrupt file changed")
	}
}

func TestSaveIsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "client.json")
	st := &State{ClientID: "bff", RegistrationAccessToken: "rat"}
	if err := Save(path, st); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	got, err := Load(path)
	if err != nil || got.ClientID != "bff" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	missing, err := Load(filepath.Join(dir, "none.json"))
	if err != nil || missing.HasCredentials() {
		t.Errorf("missing file: %+v %v", missing, err)
	}
}

func TestUnknownMembersSurviveARewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(path, []byte(`{"client_id":"bff","registration_access_token":"rat","helper_version":"1.4","extra":{"a":[1,2]}}`), 0o600)
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	st.ActiveKID = "k1"
	if err := Save(path, st); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{`"helper_version": "1.4"`, `"a": [`, `"active_kid": "k1"`, `"client_id": "bff"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rewritten state lacks %s:\n%s", want, data)
		}
	}
	again, err := Load(path)
	if err != nil || again.ClientID != "bff" || again.ActiveKID != "k1" {
		t.Fatalf("%+v %v", again, err)
	}
}

// DCRCTL_LOCK_TIMEOUT=0 means: try once. A free lock is taken; a held one
// fails at once with ErrLockTimeout.
func TestLockTimeoutZeroTriesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json")
	unlock, err := Lock(context.Background(), path, 0)
	if err != nil {
		t.Fatalf("free lock with timeout 0: %v", err)
	}
	held := flock.New(path + ".lock") // another holder, as another process would be
	if ok, _ := held.TryLock(); ok {
		t.Fatal("flock granted a second lock on the same file in one process")
	}
	unlock()
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	defer held.Unlock()
	if _, err := Lock(context.Background(), path, 0); !errors.Is(err, ErrLockTimeout) {
		t.Errorf("held lock with timeout 0: %v, want ErrLockTimeout", err)
	}
}
