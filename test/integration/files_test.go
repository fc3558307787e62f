package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// A state file that is a symbolic link (as Kubernetes mounts a Secret, or an
// operator points at a shared volume) is written through: the link stays a
// link, its target gets the new state, and a restart that recreates the link
// finds the client (no second registration).
func TestSymlinkedStateIsWrittenThrough(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	real := filepath.Join(c.dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(real, "client.json")
	if err := os.Symlink("real/client.json", c.statePath()); err != nil { // relative, as kubelet makes them
		t.Fatal(err)
	}
	c.mustRun(0, "bootstrap")
	c.age(31)
	c.mustRun(0, "bootstrap") // a rotation: state written again

	fi, err := os.Lstat(c.statePath())
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the state link was replaced by a regular file: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("target %s: %v %v", target, err, fi)
	}
	clientID := c.state().ClientID // read through the link

	// A restart recreates the link: the client is the same one.
	os.Remove(c.statePath())
	if err := os.Symlink(target, c.statePath()); err != nil {
		t.Fatal(err)
	}
	idp.ResetRequests(t)
	c.mustRun(0, "bootstrap")
	for _, r := range methods(idp.Requests(t)) {
		if strings.HasPrefix(r, "POST /reg") {
			t.Fatalf("registered again after the link was recreated: %v", r)
		}
	}
	if c.state().ClientID != clientID {
		t.Error("client changed")
	}
	if _, err := os.Stat(target + ".lock"); err != nil {
		t.Errorf("the lock should sit beside the link's target: %v", err)
	}
}

// A missing folder for BFF_CLIENT_CRED_PATH is named, not created (a
// forgotten volume mount would lose the RAT on the next restart), and nothing
// is sent to the IdP.
func TestMissingStateFolderIsNamedAndNotCreated(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	missing := filepath.Join(c.dir, "not-mounted")
	c.env["BFF_CLIENT_CRED_PATH"] = filepath.Join(missing, "client.json")
	idp.ResetRequests(t)
	res := c.mustRun(73, "bootstrap")
	for _, want := range []string{"BFF_CLIENT_CRED_PATH", missing, "does not create the folder", "volume"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("the folder was created")
	}
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Errorf("requests sent: %v", methods(reqs))
	}
}

// readOnly runs dcrctl as root with the state folder bind-mounted read-only
// in a private mount namespace (nothing outside the namespace changes).
func readOnly(t *testing.T, c *client, args ...string) testenv.Result {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) not installed: %v", err)
	}
	dir := filepath.Dir(c.statePath())
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`
	res := testenv.RunWrapped(t, runTimeout, c.env, []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir}, args...)
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	return res
}

// On a read-only mount, a run that would have to save an answer fails before
// any request, naming the variable; the state is untouched.
func TestReadOnlyStateFailsBeforeAnyRequest(t *testing.T) {
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	c.mustRun(0, "bootstrap")
	c.age(31) // a rotation is due
	before, _ := os.ReadFile(c.statePath())
	idp.ResetRequests(t)
	for _, args := range [][]string{{"bootstrap"}, {"keys", "rotate", "--yes"}, {"rat", "renew", "--dry-run"}} {
		res := readOnly(t, c, args...)
		if res.Code != 73 || !strings.Contains(res.Stderr, "BFF_CLIENT_CRED_PATH") || !strings.Contains(res.Stderr, "read-only file system") {
			t.Errorf("dcrctl %v: exit %d, want 73 naming BFF_CLIENT_CRED_PATH and the read-only mount:\n%s", args, res.Code, res.Stderr)
		}
	}
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Errorf("requests sent: %v", methods(reqs))
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Error("state changed")
	}
}

// status by a user who can read the state but not write it (a real
// unprivileged user): it sends nothing and says why, whatever the preset
// says of reads (a RAT in any answer must be saved). The state file's loose
// mode is warned about (it holds the RAT).
func TestStatusByAUserWhoCannotWriteTheState(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to an unprivileged user needs root (CI runs as root)")
	}
	idp := testenv.StartIdP(t, 0)
	c := newClient(t, idp.URL)
	// Folders nobody can traverse but not write: the test's own temp folder
	// is 0700, so make one that is 0755 all the way down.
	shared, err := os.MkdirTemp("", "dcrctl-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	for _, p := range []string{shared, filepath.Dir(testenv.Binary(t))} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.env["BFF_CLIENT_CRED_PATH"] = filepath.Join(shared, "client.json")
	c.env["BFF_JWT_SIGNING_KEY"] = filepath.Join(shared, "signing-key.pem")
	c.mustRun(0, "bootstrap")
	for _, f := range []string{c.statePath(), c.keyPath()} {
		os.Chmod(f, 0o644) // readable by the other user, writable by root alone
	}
	before, _ := os.ReadFile(c.statePath())
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}

	c.env["DCRCTL_IDP_PRESET"] = "generic" // may rotate on a read
	idp.ResetRequests(t)
	res := testenv.RunWrapped(t, runTimeout, c.env, asNobody, "status")
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	if res.Code != 0 || !strings.Contains(res.Stdout, "not checked") || !strings.Contains(res.Stdout, "BFF_CLIENT_CRED_PATH") {
		t.Errorf("status (generic preset) as nobody: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if reqs := methods(idp.Requests(t)); len(reqs) != 0 {
		t.Errorf("a read that may rotate the RAT was sent without a way to save it: %v", reqs)
	}
	if !strings.Contains(res.Stderr, "readable by others") || !strings.Contains(res.Stderr, "BFF_CLIENT_CRED_PATH") {
		t.Errorf("no warning about the state file's mode:\n%s", res.Stderr)
	}

	// A preset that says reads keep the RAT makes dcrctl no less careful:
	// an IdP may still answer with a new one, which must be saved.
	c.env["DCRCTL_IDP_PRESET"] = "oidc-provider"
	res = testenv.RunWrapped(t, runTimeout, c.env, asNobody, "status", "-o", "json")
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	if res.Code != 0 || !strings.Contains(res.Stdout, `"health": "not checked"`) {
		t.Errorf("status (oidc-provider preset) as nobody: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if reqs := methods(idp.Requests(t)); len(reqs) != 0 {
		t.Errorf("a read was sent without a way to save a RAT it may bring: %v", reqs)
	}
	res = testenv.RunWrapped(t, runTimeout, c.env, asNobody, "bootstrap")
	c.outputs = append(c.outputs, res.Stdout, res.Stderr)
	if res.Code != 73 || !strings.Contains(res.Stderr, "permission denied") {
		t.Errorf("bootstrap as nobody: exit %d, want 73 (permission denied)\n%s", res.Code, res.Stderr)
	}
	if after, _ := os.ReadFile(c.statePath()); string(after) != string(before) {
		t.Error("state changed")
	}
}
