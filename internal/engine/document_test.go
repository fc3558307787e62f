package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/cimd"
	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/state"
)

// A Client ID Metadata Document client (issue 20 §1, §2): bootstrap writes
// the document (the client_id is its URL, the keys inline) and sends
// nothing; a due rotation publishes the next key in the document first and
// signs with it only once an AS's cached copy may hold it
// (DCRCTL_DOC_CACHE); the old key stays published for its window.
func TestDocumentClientRotatesByCacheLifetime(t *testing.T) {
	f := startFakeIdP(t)
	mem := &state.MemoryStore{}
	docFile := filepath.Join(t.TempDir(), "client.json")
	const url = "https://bff.example.test/oauth/client.json"
	e := testEngine(t, f, mem.Handle(), map[string]string{"client_id_url": url, "client_doc_file": docFile, "doc_cache": "5m", "iat": ""})
	e.IAT = nil
	clock := time.Now()
	e.Now = func() time.Time { return clock }
	report, err := e.Bootstrap(context.Background(), Options{})
	if err != nil || report.Outcome != "described" {
		t.Fatalf("%v %+v", err, report)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("requests: %v, want none", got)
	}
	readDoc := func() (id string, kids []string) {
		data, err := os.ReadFile(docFile)
		if err != nil {
			t.Fatal(err)
		}
		if problems := cimd.Lint(data, url); len(problems) != 0 {
			t.Errorf("the document written would be refused: %v", problems)
		}
		var doc struct {
			ClientID string `json:"client_id"`
			JWKS     struct {
				Keys []struct{ Kid string } `json:"keys"`
			} `json:"jwks"`
		}
		json.Unmarshal(data, &doc)
		for _, k := range doc.JWKS.Keys {
			kids = append(kids, k.Kid)
		}
		return doc.ClientID, kids
	}
	if id, kids := readDoc(); id != url || len(kids) != 1 || kids[0] != "k1" {
		t.Fatalf("document: client_id %q, keys %v", id, kids)
	}
	if st := mem.Read(); st.ClientID != url || st.Management != state.ManagementDocument {
		t.Fatalf("state: %+v", st)
	}

	clock = clock.Add(31 * 24 * time.Hour) // rotation due
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st := mem.Read()
	if _, kids := readDoc(); len(kids) != 2 || st.ActiveKID != "k1" || st.PendingKID == "" {
		t.Fatalf("after the due rotation: document keys %v, active %s, next %q: want both published, k1 still signing", kids, st.ActiveKID, st.PendingKID)
	}
	clock = clock.Add(6 * time.Minute) // past DCRCTL_DOC_CACHE
	if _, err := e.Bootstrap(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	st = mem.Read()
	if _, kids := readDoc(); st.ActiveKID == "k1" || st.PendingKID != "" || len(kids) != 2 {
		t.Errorf("after the cache lifetime: active %s, next %q, document keys %v: want the new key signing, k1 still published", st.ActiveKID, st.PendingKID, kids)
	}
}

// A state that holds a registered client is never turned into a document
// client by setting DCRCTL_CLIENT_ID_URL: its RAT would be dropped.
func TestDocumentClientNeverDropsARegistration(t *testing.T) {
	f, mem, e := registeredEngine(t, nil)
	before := mem.Bytes()
	doc := testEngine(t, f, mem.Handle(), map[string]string{"client_id_url": "https://bff.example.test/c.json",
		"client_doc_file": filepath.Join(t.TempDir(), "c.json"), "state_file": e.Cfg.StatePath, "signing_key": e.Cfg.SigningKeyPath})
	doc.Keys = e.Keys
	_, err := doc.Bootstrap(context.Background(), Options{})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || cfgErr.Name != "DCRCTL_CLIENT_ID_URL" {
		t.Fatalf("%v, want a configuration error naming DCRCTL_CLIENT_ID_URL", err)
	}
	if !bytes.Equal(mem.Bytes(), before) {
		t.Error("the state changed")
	}
}
