//go:build bench

// Package bench measures dcrctl against its floor on the real test IdP and
// prints a table (`make bench`). It asserts nothing about time: these
// machines are shared; the numbers are for reading, BENCHMARKS.md keeps them.
package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/keys"
	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

const runs = 15

type client struct {
	dir string
	env map[string]string
}

func newClient(t *testing.T, idpURL, alg string) *client {
	dir := t.TempDir()
	return &client{dir: dir, env: map[string]string{
		"IDP_BASE_URL": idpURL, "DCR_IAT": testenv.IAT,
		"DCR_REDIRECT_URIS":    "https://bff.example.test/callback",
		"BFF_JWT_SIGNING_KEY":  filepath.Join(dir, "key.pem"),
		"BFF_CLIENT_CRED_PATH": filepath.Join(dir, "client.json"),
		"DCRCTL_KEY_ALG":       alg,
	}}
}

func (c *client) run(t *testing.T, bin string, args ...string) time.Duration {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("dcrctl %v: %v\n%s", args, err, stderr.String())
	}
	return time.Since(start)
}

func (c *client) age(t *testing.T, days int) {
	st, err := state.Load(c.env["BFF_CLIENT_CRED_PATH"])
	if err != nil {
		t.Fatal(err)
	}
	for i := range st.Keys {
		st.Keys[i].CreatedAt = st.Keys[i].CreatedAt.Add(-time.Duration(days) * 24 * time.Hour)
	}
	if err := state.Save(c.env["BFF_CLIENT_CRED_PATH"], st); err != nil {
		t.Fatal(err)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// releaseBinary builds dcrctl as `make build` builds it (static,
// stripped), for size and RSS; it returns its path.
func releaseBinary(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "dcrctl")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, "./cmd/dcrctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return path
}

func TestBenchTable(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	bin := releaseBinary(t)
	var rows [][3]string
	row := func(what, value, target string) { rows = append(rows, [3]string{what, value, target}) }

	// 1. No-change bootstrap vs a lone curl of the same GET, interleaved A B.
	c := newClient(t, idp.URL, "ES256")
	c.run(t, bin, "bootstrap")
	st, _ := state.Load(c.env["BFF_CLIENT_CRED_PATH"])
	var dcr, curl []time.Duration
	for i := 0; i < runs; i++ {
		dcr = append(dcr, c.run(t, bin, "bootstrap"))
		start := time.Now()
		out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+st.RegistrationAccessToken, st.RegistrationClientURI).Output()
		curl = append(curl, time.Since(start))
		if err != nil || string(out) != "200" {
			t.Fatalf("curl: %v %s", err, out)
		}
	}
	idp.ResetRequests(t)
	c.run(t, bin, "bootstrap")
	noChangeReqs := len(idp.Requests(t))
	row("no-change bootstrap: requests (IdP log)", strconv.Itoa(noChangeReqs), "1")
	row("no-change bootstrap / curl, median wall", fmt.Sprintf("%s / %s = %.2f", ms(median(dcr)), ms(median(curl)), float64(median(dcr))/float64(median(curl))), "≤ 1.3")

	// 2. First registration.
	var reg []time.Duration
	regReqs := 0
	for i := 0; i < runs; i++ {
		fresh := newClient(t, idp.URL, "ES256")
		idp.ResetRequests(t)
		reg = append(reg, fresh.run(t, bin, "bootstrap"))
		regReqs = len(idp.Requests(t))
	}
	row("first registration: requests", strconv.Itoa(regReqs), "2 (discovery + POST)")
	row("first registration (ES256): median wall", ms(median(reg)), "")

	// 3. Rotation per algorithm, and key generation alone.
	for _, alg := range keys.Algorithms {
		var rot, gen []time.Duration
		rotReqs := 0
		rc := newClient(t, idp.URL, alg)
		rc.run(t, bin, "bootstrap")
		for i := 0; i < 10; i++ {
			rc.age(t, 31)
			idp.ResetRequests(t)
			rot = append(rot, rc.run(t, bin, "bootstrap"))
			rotReqs = len(idp.Requests(t))
			start := time.Now()
			if _, err := keys.Generate(alg); err != nil {
				t.Fatal(err)
			}
			gen = append(gen, time.Since(start))
		}
		row(fmt.Sprintf("rotation %s: requests / median wall / key generation", alg), fmt.Sprintf("%d / %s / %s", rotReqs, ms(median(rot)), ms(median(gen))), "2 (GET + PUT)")
	}

	// 4. Peak RSS of a no-change bootstrap, binary size.
	cmd := exec.Command("/usr/bin/time", "-v", bin, "bootstrap")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no RSS in:\n%s", out)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	row("peak RSS, no-change bootstrap", fmt.Sprintf("%.1f MB", float64(kb)/1024), "≤ 25 MB")
	fi, _ := os.Stat(bin)
	row("binary size (stripped)", fmt.Sprintf("%.1f MB", float64(fi.Size())/(1<<20)), "")

	// 5. TUI: start to first full frame in tmux, against the IdP.
	tui, afterGET := tuiFirstFrame(t, bin, c, idp)
	row("TUI: IdP's answer to the GET → first full frame (tmux, median of 5; includes up to one capture-pane poll)", ms(afterGET), "≤ 50 ms after the GET")
	baseline := tmuxBaseline(t, c.dir)
	row("TUI: start → first full frame / the same harness printing at once / difference", ms(tui)+" / "+ms(baseline)+" / "+ms(tui-baseline), "")

	// 6. Fleet: 200 processes at once, separate state files, one IdP.
	fleet := make([]*client, 200)
	for i := range fleet {
		fleet[i] = newClient(t, idp.URL, "ES256")
		fleet[i].run(t, bin, "bootstrap")
	}
	idp.ResetRequests(t)
	start := time.Now()
	cmds := make([]*exec.Cmd, len(fleet))
	for i, fc := range fleet {
		cmds[i] = exec.Command(bin, "bootstrap")
		cmds[i].Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range fc.env {
			cmds[i].Env = append(cmds[i].Env, k+"="+v)
		}
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	failed := 0
	for _, cmd := range cmds {
		if cmd.Wait() != nil {
			failed++
		}
	}
	wave := time.Since(start)
	row("fleet: 200 no-change bootstraps at once: failures / IdP requests / wall", fmt.Sprintf("%d / %d / %s", failed, len(idp.Requests(t)), ms(wave)), "0 / 200")

	var b strings.Builder
	fmt.Fprintf(&b, "\n| measure | result | target |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	fmt.Print(b.String())
}

// tuiFirstFrame starts the TUI in a new tmux session five times and
// returns the medians of the time from start to the first screen that shows
// the client (its " read " line), and of the time from the IdP's answer to
// its GET to that screen (what the target speaks of).
func tuiFirstFrame(t *testing.T, bin string, c *client, idp *testenv.IdP) (fromStart, afterGET time.Duration) {
	var script strings.Builder
	for k, v := range c.env {
		fmt.Fprintf(&script, "export %s='%s'\n", k, v)
	}
	fmt.Fprintf(&script, "exec %s tui\n", bin)
	var after []time.Duration
	fromStart = firstScreen(t, c.dir, script.String(), idp.ResetRequests, func(seen time.Time) {
		var answered int64
		for _, r := range idp.Requests(t) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/reg/") && answered == 0 {
				answered = r.AnsweredAt // the first: the screen waits for it
			}
		}
		if answered == 0 {
			t.Fatal("the TUI's GET is not in the IdP's log")
		}
		after = append(after, seen.Sub(time.UnixMilli(answered)))
	})
	return fromStart, median(after)
}

// tmuxBaseline is the same measure for a script that prints the marker at
// once: the cost of tmux, sh and the polling on this machine, which the
// TUI figure includes.
func tmuxBaseline(t *testing.T, dir string) time.Duration {
	return firstScreen(t, dir, "echo 'last read now'\nsleep 30\n", func(testing.TB) {}, func(time.Time) {}) // tmux trims a line's trailing blanks
}

// firstScreen runs script in a new 80x24 tmux session five times and
// returns the median time until the screen shows " read ". before runs
// ahead of each start, seen with the time the marker was seen.
func firstScreen(t *testing.T, dir, script string, before func(testing.TB), seen func(time.Time)) time.Duration {
	var samples []time.Duration
	path := filepath.Join(dir, "first-screen.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		socket := fmt.Sprintf("dcrctl-bench-%d-%d", os.Getpid(), i)
		before(t)
		start := time.Now()
		if out, err := exec.Command("tmux", "-L", socket, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", "sh "+path).CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v %s", err, out)
		}
		var took time.Duration
		for attempt := 0; attempt < 2000; attempt++ { // at most ~10 s
			out, _ := exec.Command("tmux", "-L", socket, "capture-pane", "-p", "-t", "b").Output()
			if bytes.Contains(out, []byte(" read ")) {
				took = time.Since(start)
				seen(time.Now())
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		exec.Command("tmux", "-L", socket, "kill-server").Run()
		if took == 0 {
			t.Fatal("the first screen never showed")
		}
		samples = append(samples, took)
	}
	return median(samples)
}
