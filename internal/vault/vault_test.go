package vault

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcrctl/dcrctl/internal/keys"
)

// Both vaults keep the same contract: no key is fs.ErrNotExist, the next
// key waits beside the active one, a promotion swaps them whole, and a
// discarded next key is gone (twice is no error).
func TestVaultsKeepTheContract(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]Vault{"files": Files{Path: filepath.Join(dir, "key.pem")}, "memory": &Memory{}} {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Active(); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("no key yet: %v", err)
			}
			first, _, _ := keys.GenerateWithKID("ES256")
			next, nextTP, _ := keys.GenerateWithKID("ES256")
			if err := v.SetActive(first); err != nil {
				t.Fatal(err)
			}
			if err := v.SetNext(next); err != nil {
				t.Fatal(err)
			}
			if err := v.Promote(); err != nil {
				t.Fatal(err)
			}
			active, err := v.Active()
			if err != nil {
				t.Fatal(err)
			}
			if tp, _ := keys.Thumbprint(active); tp != nextTP {
				t.Error("the promoted key is not the next key")
			}
			if _, err := v.Next(); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a next key is left after the promotion: %v", err)
			}
			if err := v.SetNext(first); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := v.DiscardNext(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := v.Next(); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a discarded next key is still there: %v", err)
			}
		})
	}
	fi, err := os.Stat(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the signing key file has mode %v, want 0600", fi.Mode().Perm())
	}
	if got := (Files{Path: filepath.Join(dir, "key.pem")}).Exposed(); got != "" {
		t.Errorf("a 0600 key reported exposed: %s", got)
	}
}
