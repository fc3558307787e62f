package kubestore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/dcrctl/dcrctl/internal/state"
)

// withVersions gives client-go's fake dynamic client what a real API server
// does and the fake's tracker leaves out: a resourceVersion on every object
// it returns, and an update carrying a stale one refused with 409 Conflict.
// (The real kube-apiserver tests in test/integration prove the rest.)
func withVersions(client *dynamicfake.FakeDynamicClient) {
	var mu sync.Mutex
	versions := map[string]int{}
	key := func(gvr schema.GroupVersionResource, name string) string { return gvr.Resource + "/" + name }
	stamp := func(obj runtime.Object, v int) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			u.SetResourceVersion(strconv.Itoa(v))
		}
	}
	tracker := client.Tracker()
	client.PrependReactor("*", "*", func(action clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		gvr, ns := action.GetResource(), action.GetNamespace()
		switch action.GetVerb() {
		case "get":
			a := action.(clienttesting.GetAction)
			obj, err := tracker.Get(gvr, ns, a.GetName())
			if err == nil {
				obj = obj.DeepCopyObject()
				stamp(obj, versions[key(gvr, a.GetName())])
			}
			return true, obj, err
		case "create":
			u := action.(clienttesting.CreateAction).GetObject().(*unstructured.Unstructured)
			if gvr.Resource == "selfsubjectaccessreviews" {
				unstructured.SetNestedField(u.Object, true, "status", "allowed")
				return true, u, nil
			}
			stored := u.DeepCopy()
			stored.SetResourceVersion("")
			if err := tracker.Create(gvr, stored, ns); err != nil {
				return true, nil, err
			}
			versions[key(gvr, u.GetName())] = 1
			out := u.DeepCopy()
			stamp(out, 1)
			return true, out, nil
		case "update":
			u := action.(clienttesting.UpdateAction).GetObject().(*unstructured.Unstructured)
			k := key(gvr, u.GetName())
			if u.GetResourceVersion() != strconv.Itoa(versions[k]) {
				return true, nil, apierrors.NewConflict(gvr.GroupResource(), u.GetName(), errors.New("the object has been modified"))
			}
			stored := u.DeepCopy()
			stored.SetResourceVersion("") // the tracker keeps versions of its own
			if err := tracker.Update(gvr, stored, ns); err != nil {
				return true, nil, err
			}
			versions[k]++
			out := u.DeepCopy()
			stamp(out, versions[k])
			return true, out, nil
		}
		return false, nil, nil
	})
}

// replica is one pod's store on the shared fake API.
func replica(t *testing.T, client *dynamicfake.FakeDynamicClient, name string) *Store {
	dir := t.TempDir()
	return &Store{Client: client, Namespace: "bff", Secret: "dcrctl-state", Lease: "dcrctl-state-lock", Identity: name,
		StatePath: filepath.Join(dir, "client.json"), KeyPath: filepath.Join(dir, "key.pem"),
		LeaseDuration: 15 * time.Second, Timeout: 5 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func fakeAPI() *dynamicfake.FakeDynamicClient {
	client := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	withVersions(client)
	return client
}

// Two replicas read the same Secret: the first write wins, the second is
// refused (nothing planned from its read may be sent) unless it carries an
// IdP's answer (mustWin), which is laid over the other's state.
func TestSaveComparesAndSwaps(t *testing.T) {
	client := fakeAPI()
	a, b := replica(t, client, "a"), replica(t, client, "b")
	ctx := context.Background()
	if _, err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(&state.State{ClientID: "c1", RegistrationAccessToken: "rat-1"}, false); err != nil {
		t.Fatalf("first write: %v", err)
	}
	for _, s := range []*Store{a, b} {
		if _, err := s.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Save(&state.State{ClientID: "c1", RegistrationAccessToken: "rat-2"}, false); err != nil {
		t.Fatalf("a's write: %v", err)
	}
	if err := b.Save(&state.State{ClientID: "c1", RegistrationAccessToken: "rat-stale", ActiveKID: "k2"}, false); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("b's write from a stale read: %v, want ErrConflict", err)
	}
	if err := b.Save(&state.State{ClientID: "c1", RegistrationAccessToken: "rat-3"}, true); err != nil {
		t.Fatalf("b's answer (mustWin): %v", err)
	}
	st, err := replica(t, client, "c").Load(ctx)
	if err != nil || st.RegistrationAccessToken != "rat-3" {
		t.Fatalf("the Secret holds %+v (%v), want b's answer", st, err)
	}
}

// Claim takes the Lease: a second replica waits for it, gives up after its
// timeout (exit 75), stops at once when cancelled, and once the first one
// released it, learns that the Secret changed since it read it.
func TestClaimWaitsForTheLeaseThenSeesTheChange(t *testing.T) {
	client := fakeAPI()
	a, b := replica(t, client, "a"), replica(t, client, "b")
	ctx := context.Background()
	for _, s := range []*Store{a, b} {
		if _, err := s.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	unlockA, _ := a.Lock(ctx, time.Second)
	if err := a.Claim(ctx, time.Second); err != nil {
		t.Fatalf("a's claim: %v", err)
	}
	if err := b.Claim(ctx, 300*time.Millisecond); !errors.Is(err, state.ErrLockTimeout) {
		t.Fatalf("b's claim while a holds the Lease: %v, want ErrLockTimeout", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Claim(cancelled, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("b's claim, cancelled: %v, want context.Canceled", err)
	}
	if err := a.Save(&state.State{ClientID: "c1", RegistrationAccessToken: "rat-1"}, false); err != nil {
		t.Fatal(err)
	}
	unlockA()
	if err := b.Claim(ctx, time.Second); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("b's claim after a wrote: %v, want ErrConflict", err)
	}
}
