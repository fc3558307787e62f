package testenv

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Get fetches url and returns the status and body; a failed request is
// status 0 with the error as the body (servers that are not up yet).
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Eventually polls cond every 100 ms for at most limit, then fails the test
// naming what it waited for.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within %s", what, limit)
}
