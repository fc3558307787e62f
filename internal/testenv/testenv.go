// Package testenv starts the real parts dcrctl's tests run against: the
// node oidc-provider test IdP (test/idp) and a prometheus-pushgateway, both on
// 127.0.0.1, and builds and runs the real dcrctl binary. Every wait here is
// bounded in count and time.
package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fixed test secrets; tests scan all output for them.
const (
	IAT        = "test-iat-5f1c0a7e9b2d4c33"
	AdminToken = "test-admin-token-8d2e6f4a1b9c"
	IATClient  = "gateway"
	IATSecret  = "test-gateway-secret-3a7b9e1d"
)

// RepoRoot is the module root, found from this file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// IdP is a running test IdP.
type IdP struct {
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// Request is one request the IdP saw (its own log, admin routes excluded).
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// AnsweredAt is when the test IdP answered, in ms since the epoch
	// (the counting proxy in front of other IdPs leaves it 0).
	AnsweredAt int64 `json:"answered_at,omitempty"`
	// Status is the test IdP's answer (0 from the counting proxy).
	Status int `json:"status,omitempty"`
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartIdP starts the test IdP on port (0: any free one) and waits until it
// listens. It is stopped when the test ends.
func StartIdP(t testing.TB, port int) *IdP { return startIdP(t, port, "") }

// StartRegisterOnlyIdP starts the test IdP as an RFC 7591-only server
// (oidc-provider with registrationManagement off): registration gives a
// client_id and no RAT; requested client_ids are ignored; the issuer has a
// path (RegisterOnlyIssuerPath), as hosted multi-tenant servers' do.
func StartRegisterOnlyIdP(t testing.TB) *IdP {
	return startIdP(t, 0, "", "IDP_MANAGEMENT=off", "IDP_ISSUER_PATH="+RegisterOnlyIssuerPath)
}

// RegisterOnlyIssuerPath is the path of the register-only IdP's issuer.
const RegisterOnlyIssuerPath = "/tenants/mcp"

// StartCIMDIdP starts the test IdP with oidc-provider's Client ID Metadata
// Document support switched on (advertised in its discovery document). It
// trusts the CA of caFile ("" for none) to fetch documents over https from
// 127.0.0.1 (a marked test-only fetch, see server.mjs).
func StartCIMDIdP(t testing.TB, caFile string) *IdP {
	return startIdP(t, 0, "", "IDP_CIMD=on", "NODE_EXTRA_CA_CERTS="+caFile)
}

// StartEmulation starts the test IdP switched into an emulation of a product
// that cannot run here (IDP_EMULATE in test/idp/server.mjs): keycloak,
// gravitee, curity or okta.
func StartEmulation(t testing.TB, product string) *IdP { return startIdP(t, 0, product) }

func startIdP(t testing.TB, port int, emulate string, extraEnv ...string) *IdP {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "test", "idp")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		t.Fatalf("test IdP dependencies missing: run `make test-deps` (npm ci in test/idp): %v", err)
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(port),
		"IDP_IAT="+IAT,
		"IDP_ADMIN_TOKEN="+AdminToken,
		"IDP_IAT_CLIENT_ID="+IATClient,
		"IDP_IAT_CLIENT_SECRET="+IATSecret,
		"IDP_EMULATE="+emulate,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start test IdP: %v", err)
	}
	idp := &IdP{cmd: cmd, logs: logs}
	t.Cleanup(idp.Stop)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var msg struct {
				Listening string `json:"listening"`
			}
			if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Listening != "" {
				ready <- msg.Listening
			}
		}
	}()
	select {
	case idp.URL = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("test IdP did not start in 20s; stderr:\n%s", logs.String())
	}
	return idp
}

// Stop ends the IdP process.
func (i *IdP) Stop() {
	if i.cmd.Process != nil && i.cmd.ProcessState == nil {
		i.cmd.Process.Kill()
		i.cmd.Wait()
	}
}

// Requests returns the requests the IdP saw since the last reset.
func (i *IdP) Requests(t testing.TB) []Request {
	t.Helper()
	var out []Request
	i.admin(t, http.MethodGet, "/admin/requests", &out)
	return out
}

// ResetRequests clears the IdP's request log.
func (i *IdP) ResetRequests(t testing.TB) {
	t.Helper()
	i.admin(t, http.MethodDelete, "/admin/requests", nil)
}

// Delay makes the IdP hold its answer to every later request with this
// HTTP method for d, after handling it (0 ends the delay).
func (i *IdP) Delay(t testing.TB, method string, d time.Duration) {
	t.Helper()
	i.admin(t, http.MethodPost, fmt.Sprintf("/admin/delay?method=%s&ms=%d", method, d.Milliseconds()), nil)
}

// Fail makes the IdP answer every later request with this HTTP method with
// status, without handling it (0 ends it).
func (i *IdP) Fail(t testing.TB, method string, status int) {
	t.Helper()
	i.admin(t, http.MethodPost, fmt.Sprintf("/admin/fail?method=%s&status=%d", method, status), nil)
}

func (i *IdP) admin(t testing.TB, method, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, i.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+AdminToken)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// Pushgateway is a running prometheus-pushgateway.
type Pushgateway struct{ URL string }

// StartPushgateway starts the Debian prometheus-pushgateway on loopback.
func StartPushgateway(t testing.TB) *Pushgateway {
	t.Helper()
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		t.Fatalf("prometheus-pushgateway not installed (make test-deps installs it): %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pg := &Pushgateway{URL: "http://" + addr}
	client := &http.Client{Timeout: time.Second}
	for attempt := 0; attempt < 100; attempt++ {
		if resp, err := client.Get(pg.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return pg
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pushgateway not ready in 10s:\n%s", logs.String())
	return nil
}

// Metrics returns the pushgateway's /metrics text.
func (p *Pushgateway) Metrics(t testing.TB) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// build is one binary built once per test process.
type build struct {
	once sync.Once
	tags string
	path string
	err  error
}

var (
	plainBuild = &build{}
	faultBuild = &build{tags: "faultinject"}
)

func (b *build) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "dcrctl-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "dcrctl")
		b.err = goBuild(b.tags, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func goBuild(tags, path string) error {
	cmd := exec.Command("go", "build", "-tags", tags, "-o", path, "./cmd/dcrctl")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -tags %q: %v\n%s", tags, err, out)
	}
	return nil
}

// Binary builds dcrctl once per test process and returns its path.
func Binary(t testing.TB) string { return plainBuild.get(t) }

// FaultBinary is dcrctl built with -tags faultinject: DCRCTL_FAULT_KILL_AT=<point>
// makes it SIGKILL itself at that step (internal/faults).
func FaultBinary(t testing.TB) string { return faultBuild.get(t) }

// Result is one finished dcrctl run.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Output is stdout and stderr together.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// Run runs the dcrctl binary with exactly env (plus PATH and HOME) and args,
// for at most timeout.
func Run(t testing.TB, timeout time.Duration, env map[string]string, args ...string) Result {
	t.Helper()
	return Wait(t, Start(t, env, args...), timeout)
}

// RunWrapped runs the binary through a wrapper command line (setpriv to run
// it as another user, unshare for a read-only mount): wrapper, then the
// binary's path, then args.
func RunWrapped(t testing.TB, timeout time.Duration, env map[string]string, wrapper []string, args ...string) Result {
	t.Helper()
	argv := append(append(slices.Clone(wrapper[1:]), Binary(t)), args...)
	return Wait(t, start(t, env, argv, wrapper[0]), timeout)
}

// RunWithStdin runs the binary with stdin as its standard input.
func RunWithStdin(t testing.TB, timeout time.Duration, env map[string]string, stdin string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return Wait(t, cmd, timeout)
}

// Wait waits for a started dcrctl, killing it after timeout.
func Wait(t testing.TB, cmd *exec.Cmd, timeout time.Duration) Result {
	t.Helper()
	args := cmd.Args
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	res := Result{Stdout: cmd.Stdout.(*bytes.Buffer).String(), Stderr: cmd.Stderr.(*bytes.Buffer).String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode() // -1 when killed by a signal
	} else if err != nil {
		t.Fatalf("dcrctl %v: %v", args, err)
	}
	return res
}

// Start starts the binary without waiting; Stdout and Stderr are buffers.
func Start(t testing.TB, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	bin := Binary(t)
	_, kill := env["DCRCTL_FAULT_KILL_AT"]
	_, pause := env["DCRCTL_FAULT_PAUSE_AT"]
	if kill || pause {
		bin = FaultBinary(t)
	}
	return start(t, env, args, bin)
}

func start(t testing.TB, env map[string]string, args []string, bin string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
