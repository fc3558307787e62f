package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/internal/kubestore"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// fleetIdP is one kind of IdP a fleet meets: one that rotates the RAT on
// every read (the Curity emulation, managed with the careful generic
// preset) and one that keeps it (the test IdP with its own preset).
type fleetIdP struct {
	name, emulate, preset string
}

var fleetIdPs = []fleetIdP{
	{name: "rotating", emulate: "curity", preset: "generic"},
	{name: "keeping", preset: "oidc-provider"},
}

// fleetReps is how often each fleet scenario runs in one test run
// (DCRCTL_FLEET_REPS; 10 in make test): one failure is a bug.
func fleetReps(t *testing.T) int {
	if n, err := strconv.Atoi(os.Getenv("DCRCTL_FLEET_REPS")); err == nil && n > 0 {
		return n
	}
	return 10
}

// startFleetIdP starts the IdP slowed to slowness per request (after it
// has applied each one, so a rotation lands while the replica still waits).
func startFleetIdP(t *testing.T, kind fleetIdP, slowness time.Duration) *testenv.IdP {
	t.Helper()
	idp := testenv.StartEmulation(t, kind.emulate)
	for _, m := range []string{"GET", "POST", "PUT"} {
		idp.Delay(t, m, slowness)
	}
	return idp
}

// fleetWave starts n replicas of the same pod template stagger apart and
// waits for all of them (each bounded by four minutes).
func fleetWave(t *testing.T, replicas []*client, stagger time.Duration) []testenv.Result {
	t.Helper()
	results := make([]testenv.Result, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = testenv.Run(t, 4*time.Minute, r.env, "bootstrap")
		}()
		time.Sleep(stagger)
	}
	wg.Wait()
	for i, res := range results {
		replicas[i].outputs = append(replicas[i].outputs, res.Stdout, res.Stderr)
	}
	return results
}

// waveVerdict is what the IdP's own request log says of one wave.
type waveVerdict struct {
	registrations, updates, deadRAT, total int
}

func judgeWave(reqs []testenv.Request) waveVerdict {
	var v waveVerdict
	for _, r := range reqs {
		v.total++
		switch {
		case r.Method == "POST" && r.Path == "/reg":
			v.registrations++
		case r.Method == "PUT":
			v.updates++
		}
		if r.Status == 401 || r.Status == 403 {
			v.deadRAT++
		}
	}
	return v
}

// assertFleetAgrees checks every replica's exit and that its local copies
// (client_id, PEM, active kid) are the Secret's.
func assertFleetAgrees(t *testing.T, k *testenv.Kube, ns string, replicas []*client, results []testenv.Result) {
	t.Helper()
	st, data := secretState(t, k, ns)
	for i, res := range results {
		if res.Code != 0 {
			t.Errorf("replica %d: exit %d\n%s", i, res.Code, res.Stderr)
			continue
		}
		local := replicas[i].state()
		pem, _ := os.ReadFile(replicas[i].keyPath())
		if local.ClientID != st.ClientID || local.ActiveKID != st.ActiveKID || string(pem) != string(data[kubestore.KeyPEM]) {
			t.Errorf("replica %d holds client %q kid %q (PEM equal: %v); the Secret %q kid %q",
				i, local.ClientID, local.ActiveKID, string(pem) == string(data[kubestore.KeyPEM]), st.ClientID, st.ActiveKID)
		}
		if strings.Contains(res.Stderr, "got no answer that dcrctl saved") {
			t.Errorf("replica %d reports a lost answer:\n%s", i, res.Stderr)
		}
	}
}

// The fence holds when replicas race (issue 16): 16 replicas of one
// Deployment start 50 ms apart against an IdP that takes 300 ms per
// request, at an IdP that rotates the RAT on reads and at one that keeps
// it, with and without DCR_CLIENT_ID, first wave and rotation wave. With
// DCRCTL_FRESH_FOR=0 every replica reads the registration itself: the
// most requests that can race. The IdP's log is the judge: one
// registration, one update per rotation, no request with a dead RAT.
func TestKubeFleetFenceHolds(t *testing.T) {
	k := testenv.StartKube(t)
	reps := fleetReps(t)
	for _, kind := range fleetIdPs {
		for _, requestedID := range []bool{false, true} {
			name := kind.name + "/assigned-id"
			if requestedID {
				name = kind.name + "/requested-id"
			}
			t.Run(name, func(t *testing.T) {
				// The waves wait on the slowed IdP, not on the CPU: the four
				// scenarios run side by side, each with its own IdP.
				t.Parallel()
				idp := startFleetIdP(t, kind, 300*time.Millisecond)
				for rep := range reps {
					ns := k.Namespace(t)
					k.Grant(t, ns, documentedRole(t))
					replicas := make([]*client, 16)
					for i := range replicas {
						c := kubeReplica(t, k, idp.URL, ns)
						c.env["DCRCTL_IDP_PRESET"] = kind.preset
						c.env["DCRCTL_FRESH_FOR"] = "0"
						c.env["DCRCTL_LOCK_TIMEOUT"] = "180s"
						if requestedID {
							c.env["DCR_CLIENT_ID"] = fmt.Sprintf("fleet-%s-%d", ns, rep)
						}
						replicas[i] = c
					}

					idp.ResetRequests(t)
					results := fleetWave(t, replicas, 50*time.Millisecond)
					v := judgeWave(idp.Requests(t))
					if v.registrations != 1 || v.deadRAT != 0 {
						t.Errorf("rep %d, first wave: %d registrations, %d requests with a dead RAT (want 1 and 0)", rep, v.registrations, v.deadRAT)
					}
					assertFleetAgrees(t, k, ns, replicas, results)

					ageSecret(t, k, ns, 31)
					idp.ResetRequests(t)
					results = fleetWave(t, replicas, 50*time.Millisecond)
					v = judgeWave(idp.Requests(t))
					if v.registrations != 0 || v.updates != 1 || v.deadRAT != 0 {
						t.Errorf("rep %d, rotation wave: %d registrations, %d updates, %d requests with a dead RAT (want 0, 1 and 0)", rep, v.registrations, v.updates, v.deadRAT)
					}
					assertFleetAgrees(t, k, ns, replicas, results)
					if t.Failed() {
						return // one failing rep says it; the next would bury it
					}
				}
			})
		}
	}
}

// A rollout costs the IdP O(1) requests: with the Kubernetes store's
// default DCRCTL_FRESH_FOR, 16 replicas restarted with nothing due send at
// most one request between them, at either kind of IdP.
func TestKubeFleetRolloutIsOneRead(t *testing.T) {
	k := testenv.StartKube(t)
	for _, kind := range fleetIdPs {
		t.Run(kind.name, func(t *testing.T) {
			idp := startFleetIdP(t, kind, 300*time.Millisecond)
			ns := k.Namespace(t)
			k.Grant(t, ns, documentedRole(t))
			replicas := make([]*client, 16)
			for i := range replicas {
				replicas[i] = kubeReplica(t, k, idp.URL, ns)
				replicas[i].env["DCRCTL_IDP_PRESET"] = kind.preset
				replicas[i].env["DCRCTL_LOCK_TIMEOUT"] = "180s"
			}
			fleetWave(t, replicas, 50*time.Millisecond) // first wave: registers
			idp.ResetRequests(t)
			results := fleetWave(t, replicas, 50*time.Millisecond) // the rollout
			if v := judgeWave(idp.Requests(t)); v.total > 1 {
				t.Errorf("a no-change rollout of 16 sent %d requests to the IdP, want at most 1: %v", v.total, methods(idp.Requests(t)))
			}
			assertFleetAgrees(t, k, ns, replicas, results)
			for i, res := range results {
				if !strings.Contains(res.Stderr, "verified at the IdP recently") && !strings.Contains(res.Stdout, "verified at the IdP") {
					t.Errorf("replica %d does not say it relied on a recent verification:\n%s%s", i, res.Stdout, res.Stderr)
				}
			}
		})
	}
}
