package ui

import (
	"testing"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// The browse screen maps keys to intents and moves its own selection; it
// starts no work itself.
func TestBrowseScreenMapsKeysToIntents(t *testing.T) {
	keys := DefaultKeyMap(false)
	b := newBrowseScreen(NewStyles(false))
	st := &engine.Status{ClientID: "c", Keys: []engine.KeyStatus{{KID: "new"}, {KID: "old"}}}
	b.layout(st, 80, 10)
	for k, want := range map[string]browseIntent{"r": intentRotate, "x": intentRetire, "R": intentRenew, "F": intentReregister,
		"s": intentRefresh, "d": intentDoctor, "h": intentHistory, "m": intentMetadata, "enter": intentDetails, "?": intentHelp, "esc": intentCancel, "z": intentNone} {
		if _, got, _ := b.update(keyPress(k), keys); got != want {
			t.Errorf("key %q: intent %d, want %d", k, got, want)
		}
	}
	if got := b.selected(st); got == nil || got.KID != "new" {
		t.Fatalf("selected at first: %+v", got)
	}
	b, intent, _ := b.update(keyPress("down"), keys)
	if intent != intentNone {
		t.Errorf("down: intent %d", intent)
	}
	if got := b.selected(st); got == nil || got.KID != "old" {
		t.Errorf("selected after down: %+v", got)
	}
	b.layout(&engine.Status{ClientID: "c", Keys: []engine.KeyStatus{{KID: "only"}}}, 80, 10)
	if got := b.selected(&engine.Status{Keys: []engine.KeyStatus{{KID: "only"}}}); got == nil || got.KID != "only" {
		t.Errorf("the cursor did not stay within fewer keys: %+v", got)
	}
	if b.selected(nil) != nil {
		t.Error("a selection without a status")
	}
}
