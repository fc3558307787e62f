package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/dcrctl/dcrctl/internal/kubestore"
	"github.com/dcrctl/dcrctl/internal/state"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

const kubeSecret, kubeLease = "dcrctl-state", "dcrctl-state-lock"

// documentedRole is the Role of deploy/kubernetes/rbac.yaml, read from the
// file itself: the tests grant exactly what the README documents.
func documentedRole(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	for _, doc := range manifestDocs(t, "rbac.yaml") {
		var role rbacv1.Role
		if yaml.Unmarshal([]byte(doc), &role) == nil && role.Kind == "Role" {
			return role.Rules
		}
	}
	t.Fatal("deploy/kubernetes/rbac.yaml has no Role")
	return nil
}

// kubeReplica is one replica (pod) of the BFF: its own local folder, the
// shared Secret in ns.
func kubeReplica(t *testing.T, k *testenv.Kube, idpURL, ns string) *client {
	t.Helper()
	c := newClient(t, idpURL)
	c.env["DCRCTL_STATE_STORE"] = "kubernetes"
	c.env["DCRCTL_KUBECONFIG"] = k.Kubeconfig(t)
	c.env["DCRCTL_KUBE_NAMESPACE"] = ns
	c.env["DCRCTL_KUBE_LEASE_DURATION"] = "3s" // a killed replica's Lease is taken over soon
	return c
}

// secretState is the state as the Secret holds it.
func secretState(t *testing.T, k *testenv.Kube, ns string) (*state.State, map[string][]byte) {
	t.Helper()
	sec, err := k.Admin(t).CoreV1().Secrets(ns).Get(context.Background(), kubeSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Parse(sec.Data[kubestore.KeyState])
	if err != nil {
		t.Fatal(err)
	}
	return st, sec.Data
}

// ageSecret ages the Secret's key records by days.
func ageSecret(t *testing.T, k *testenv.Kube, ns string, days int) {
	t.Helper()
	k.AgeSecret(t, ns, kubeSecret, days)
}

// kubeWorld is an API server, the test IdP and a fresh namespace whose
// Role is the documented one.
func kubeWorld(t *testing.T) (*testenv.Kube, *testenv.IdP, string) {
	t.Helper()
	k := testenv.StartKube(t)
	idp := testenv.StartIdP(t, 0)
	ns := k.Namespace(t)
	k.Grant(t, ns, documentedRole(t))
	return k, idp, ns
}

// First registration through the Kubernetes store: the Secret holds the
// state and the key; each replica's local files are written from it and
// match what the IdP publishes; a second replica registers nothing.
func TestKubeStoreRegistersOnceForAllReplicas(t *testing.T) {
	k, idp, ns := kubeWorld(t)

	a := kubeReplica(t, k, idp.URL, ns)
	a.mustRun(0, "bootstrap")
	st, data := secretState(t, k, ns)
	if st.ClientID == "" || len(data[kubestore.KeyPEM]) == 0 {
		t.Fatalf("Secret after registration: %+v keys %v", st, slices.Collect(func(yield func(string) bool) {
			for k := range data {
				yield(k)
			}
		}))
	}
	assertKeyMatchesState(t, a)

	b := kubeReplica(t, k, idp.URL, ns) // another pod, empty folder
	idp.ResetRequests(t)
	b.mustRun(0, "bootstrap")
	if got := methods(idp.Requests(t)); len(got) != 0 {
		t.Errorf("second replica: %v, want none (the registration is verified, DCRCTL_FRESH_FOR)", got)
	}
	pemA, _ := os.ReadFile(a.keyPath())
	pemB, _ := os.ReadFile(b.keyPath())
	if string(pemA) != string(pemB) || b.state().ClientID != st.ClientID {
		t.Error("the second replica's local files differ from the first's")
	}
	if fi, _ := os.Stat(b.keyPath()); fi.Mode().Perm() != 0o600 {
		t.Errorf("local PEM mode %v", fi.Mode().Perm())
	}
	assertKeyMatchesState(t, b)
}

// A Role without update on the Secret: a clear error naming the verb and
// the object, before any request to the IdP.
func TestKubeStoreMissingPermissionFailsBeforeTheIdP(t *testing.T) {
	k := testenv.StartKube(t)
	idp := testenv.StartIdP(t, 0)
	ns := k.Namespace(t)
	rules := documentedRole(t)
	k.Grant(t, ns, rules)
	c := kubeReplica(t, k, idp.URL, ns)
	c.mustRun(0, "bootstrap")

	rules[0].Verbs = []string{"get"} // no update
	role, _ := k.Admin(t).RbacV1().Roles(ns).Get(context.Background(), "dcrctl", metav1.GetOptions{})
	role.Rules = rules
	if _, err := k.Admin(t).RbacV1().Roles(ns).Update(context.Background(), role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	idp.ResetRequests(t)
	res := c.mustRun(77, "keys", "rotate", "--yes")
	if !strings.Contains(res.Stderr, "does not allow update on secrets "+kubeSecret+" in namespace "+ns) {
		t.Errorf("the error should name the verb and the object:\n%s", res.Stderr)
	}
	if reqs := idp.Requests(t); len(reqs) != 0 {
		t.Errorf("requests sent to the IdP: %v", methods(reqs))
	}
}

// 16 replicas start at once with a rotation due: exactly one new key, one
// update at the IdP, all exit 0, and the RAT in the Secret is the live one.
func TestKubeStoreSixteenReplicasRotateOnce(t *testing.T) {
	k, idp, ns := kubeWorld(t)
	first := kubeReplica(t, k, idp.URL, ns)
	first.mustRun(0, "bootstrap")
	ageSecret(t, k, ns, 31)
	idp.ResetRequests(t)

	replicas := make([]*client, 16)
	for i := range replicas {
		replicas[i] = kubeReplica(t, k, idp.URL, ns)
		replicas[i].env["DCRCTL_LOCK_TIMEOUT"] = "180s"
	}
	var wg sync.WaitGroup
	results := make([]testenv.Result, len(replicas))
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = testenv.Run(t, 4*time.Minute, r.env, "bootstrap")
		}()
	}
	wg.Wait()
	for i, res := range results {
		replicas[i].outputs = append(replicas[i].outputs, res.Stdout, res.Stderr)
		if res.Code != 0 {
			t.Errorf("replica %d: exit %d\n%s", i, res.Code, res.Stderr)
		}
	}
	if n := countMethod(idp.Requests(t), "PUT"); n != 1 {
		t.Errorf("%d updates at the IdP, want 1", n)
	}
	st, _ := secretState(t, k, ns)
	first.mustRun(0, "bootstrap") // its local copies from the Secret afresh
	if published := first.publishedKIDs(); len(published) != 2 || !slices.Contains(published, st.ActiveKID) {
		t.Errorf("published %v, active %s: want the old key and one new one", published, st.ActiveKID)
	}
	if h := ratHealth(t, first); h != "valid" {
		t.Errorf("the RAT in the Secret is %s", h)
	}
	for _, r := range replicas {
		assertKeyMatchesState(t, r)
	}
}

// Another writer changes the Secret between a replica's read and its write
// (its Lease lapsed, say): the replica's compare-and-swap fails, it reads
// again and plans afresh; nothing planned from the stale state is sent.
func TestKubeStoreStaleReadIsNeverActedOn(t *testing.T) {
	k := testenv.StartKube(t)
	idp := testenv.StartIdP(t, 0)
	ns := k.Namespace(t)
	k.Grant(t, ns, append(documentedRole(t), rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "update"}}))
	a := kubeReplica(t, k, idp.URL, ns)
	a.mustRun(0, "bootstrap")
	ageSecret(t, k, ns, 31)

	gate := filepath.Join(a.dir, "gate")
	a.env["DCRCTL_FAULT_PAUSE_AT"] = "before-intent"
	a.env["DCRCTL_FAULT_PAUSE_FILE"] = gate
	cmd := testenv.Start(t, a.env, "bootstrap")
	for attempt := 0; attempt < 600; attempt++ { // at most 60 s
		if _, err := os.Stat(gate + ".reached"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(gate + ".reached"); err != nil {
		cmd.Process.Kill()
		t.Fatal("replica A never reached its update")
	}
	// B: another writer on the same Secret, under another Lease.
	b := kubeReplica(t, k, idp.URL, ns)
	b.env["DCRCTL_KUBE_LEASE"] = "another-lock"
	idp.ResetRequests(t)
	b.mustRun(0, "bootstrap") // rotates
	os.WriteFile(gate, nil, 0o600)
	res := a.wait(cmd)
	if res.Code != 0 || !strings.Contains(res.Stderr, "another replica changed the state") {
		t.Fatalf("replica A: exit %d\n%s", res.Code, res.Stderr)
	}
	if n := countMethod(idp.Requests(t), "PUT"); n != 1 {
		t.Errorf("%d updates at the IdP, want B's alone", n)
	}
	a.mustRun(0, "bootstrap")
	if h := ratHealth(t, a); h != "valid" {
		t.Errorf("RAT after the conflict: %s", h)
	}
	assertKeyMatchesState(t, a)
}

// SIGKILL at each step of a rotation with the Kubernetes store: the next run
// completes or rolls back, nothing lost.
func TestKubeStoreCrashAtEveryStepRecovers(t *testing.T) {
	k := testenv.StartKube(t)
	idp := testenv.StartIdP(t, 0)
	for _, point := range []string{"pending-key-written", "pending-key-recorded", "intent-recorded", "jwks-accepted", "jwks-recorded", "pending-key-renamed"} {
		t.Run(point, func(t *testing.T) {
			ns := k.Namespace(t)
			k.Grant(t, ns, documentedRole(t))
			c := kubeReplica(t, k, idp.URL, ns)
			c.env["BOOTSTRAP_ADMIN_TOKEN"] = testenv.AdminToken
			c.mustRun(0, "bootstrap")
			ageSecret(t, k, ns, 31)
			c.env["DCRCTL_FAULT_KILL_AT"] = point
			if res := c.run("bootstrap"); res.Code != -1 {
				t.Fatalf("not killed at %q (exit %d)\n%s", point, res.Code, res.Stderr)
			}
			delete(c.env, "DCRCTL_FAULT_KILL_AT")
			c.mustRun(0, "bootstrap") // waits out the dead replica's Lease
			c.mustRun(0, "bootstrap")
			assertKeyMatchesState(t, c)
			if h := ratHealth(t, c); h != "valid" {
				t.Errorf("RAT after recovery: %s", h)
			}
			if st, _ := secretState(t, k, ns); st.InFlight != nil || st.ActiveKID == "bff-initial" {
				t.Errorf("Secret after recovery: active %s, note %+v", st.ActiveKID, st.InFlight)
			}
		})
	}
}

// A bootstrap with nothing to change, within DCRCTL_FRESH_FOR of the last
// verification, costs no IdP request and two API-server requests (the
// Secret and one access review): no Lease. Past it, one read under the
// Lease, and the verification is recorded for the other replicas.
func TestKubeStoreNoChangeBootstrapIsCheap(t *testing.T) {
	k, idp, ns := kubeWorld(t)
	c := kubeReplica(t, k, idp.URL, ns)
	c.mustRun(0, "bootstrap")
	idp.ResetRequests(t)
	res := c.mustRun(0, "--log-level", "debug", "bootstrap")
	if got := methods(idp.Requests(t)); len(got) != 0 {
		t.Errorf("IdP requests %v, want none", got)
	}
	if !strings.Contains(res.Stderr, `"msg":"kubernetes API requests","count":2`) {
		t.Errorf("want 2 API-server requests:\n%s", grep(res.Stderr, "kubernetes API requests"))
	}
	before, _ := secretState(t, k, ns)
	c.env["DCRCTL_FRESH_FOR"] = "0"
	c.mustRun(0, "bootstrap")
	if got := methods(idp.Requests(t)); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
		t.Errorf("with DCRCTL_FRESH_FOR=0: IdP requests %v, want one GET", got)
	}
	if after, _ := secretState(t, k, ns); after.VerifiedAt == nil || before.VerifiedAt == nil || after.VerifiedAt.Before(*before.VerifiedAt) {
		t.Errorf("verified_at before %v, after %v", before.VerifiedAt, after.VerifiedAt)
	}
}
