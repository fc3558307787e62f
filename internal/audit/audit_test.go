package audit

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAppendAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json.audit.jsonl")
	for i, cmd := range []string{"bootstrap", "keys rotate", "keys retire"} {
		e := Entry{Command: cmd, Outcome: "updated", Steps: []string{"step"}, Before: Snapshot{ClientID: "c"}, After: Snapshot{ClientID: "c"}}
		e.Stamp(time.Date(2026, 12, 1, 10, i, 0, 0, time.UTC))
		if err := Append(path, e); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n")
	f.Close()

	all, skipped, err := Read(path, 0)
	if err != nil || len(all) != 3 || skipped != 1 {
		t.Fatalf("read all: %d entries, %d skipped, %v", len(all), skipped, err)
	}
	if all[0].Command != "bootstrap" || all[0].PID == 0 || all[0].Host == "" || all[0].User == "" {
		t.Errorf("first entry %+v", all[0])
	}
	last, _, _ := Read(path, 2)
	if len(last) != 2 || last[1].Command != "keys retire" || last[0].Command != "keys rotate" {
		t.Errorf("last 2: %+v", last)
	}
	if none, _, err := Read(filepath.Join(t.TempDir(), "missing"), 0); err != nil || none != nil {
		t.Errorf("missing file: %v %v", none, err)
	}
}
