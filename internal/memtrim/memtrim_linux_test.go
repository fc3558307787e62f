//go:build linux

package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFileKiB is this process's resident file-backed memory (RssFile).
func rssFileKiB(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("RssFile %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func TestReleaseDropsCodePagesAndTheProgramRunsOn(t *testing.T) {
	before := rssFileKiB(t)
	released, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	if released == 0 {
		t.Fatal("no read-only mapping of the executable was released")
	}
	if after >= before {
		t.Fatalf("RssFile %d KiB before, %d KiB after: nothing was handed back", before, after)
	}
	// The code runs on from the page cache: a second call works the same.
	if again, err := Release(); err != nil || again != released {
		t.Fatalf("second Release: %d bytes, %v; first %d", again, err, released)
	}
	t.Logf("RssFile %d KiB -> %d KiB (%d KiB of mappings released)", before, after, released/1024)
}
