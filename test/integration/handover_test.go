package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// copyBinary copies the executable src to dir/name.
func copyBinary(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runBinary runs bin with exactly env (PATH holding only the binary's own
// folder and the system's) and args; it returns the exit code and output.
func runBinary(t *testing.T, bin string, env map[string]string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// The lean dcrctl (make build: no Kubernetes store) hands the Kubernetes
// store over to dcrctl-kube (every Kubernetes test runs through that). Where
// dcrctl-kube is missing, or is itself a lean build, it says so and exits
// 78 before any request to the IdP.
func TestLeanBinaryWithoutDcrctlKubeSaysSo(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_STATE_STORE"] = "kubernetes"
	c.env["DCRCTL_KUBECONFIG"] = filepath.Join(c.dir, "no-kubeconfig")
	lean := testenv.Binary(t)
	if _, err := os.Stat(filepath.Join(filepath.Dir(lean), "dcrctl-kube")); err != nil {
		t.Fatalf("the test binary has no dcrctl-kube beside it: %v", err)
	}

	alone := copyBinary(t, lean, t.TempDir(), "dcrctl")
	idp.ResetRequests(t)
	code, out := runBinary(t, alone, c.env, "bootstrap")
	if code != 78 || !strings.Contains(out, "DCRCTL_STATE_STORE=kubernetes") || !strings.Contains(out, "dcrctl-kube") {
		t.Fatalf("lean dcrctl alone: exit %d, want 78 naming the variable and dcrctl-kube:\n%s", code, out)
	}

	// A lean build installed as dcrctl-kube: no endless hand-over.
	dir := t.TempDir()
	copyBinary(t, lean, dir, "dcrctl-kube")
	code, out = runBinary(t, copyBinary(t, lean, dir, "dcrctl"), c.env, "bootstrap")
	if code != 78 || !strings.Contains(out, "built without the Kubernetes store") {
		t.Fatalf("lean dcrctl-kube: exit %d, want 78 saying it is a lean build:\n%s", code, out)
	}
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Fatalf("the IdP saw %v", reqs)
	}
	if _, err := os.Stat(c.env["BFF_CLIENT_CRED_PATH"]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a state file was written: %v", err)
	}
}

// The hand-over mark belongs to the lean parent: the application that
// dcrctl-kube supervises does not inherit it (else a lean dcrctl it runs,
// say in a DCRCTL_ON_KEY_CHANGE command, would refuse the Kubernetes store).
func TestHandOverMarkIsNotInherited(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.env["DCRCTL_HANDED_OVER"] = "1"
	c.env["DCRCTL_LISTEN"] = "" // no HTTP
	seen := filepath.Join(c.dir, "mark")
	kube := filepath.Join(filepath.Dir(testenv.Binary(t)), "dcrctl-kube")
	code, out := runBinary(t, kube, c.env, "run", "--", "sh", "-c", `echo "${DCRCTL_HANDED_OVER:-unset}" > `+seen)
	if code != 0 {
		t.Fatalf("dcrctl-kube run: exit %d\n%s", code, out)
	}
	if got, err := os.ReadFile(seen); err != nil || strings.TrimSpace(string(got)) != "unset" {
		t.Fatalf("the application saw DCRCTL_HANDED_OVER=%q (%v), want it unset", got, err)
	}
}
