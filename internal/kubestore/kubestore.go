// Package kubestore keeps dcrctl's state on the Kubernetes API, for replicas
// on several nodes that share one registration, one RAT and one set of keys
// (DCRCTL_STATE_STORE=kubernetes): the state, the active and the pending
// private key in one Secret; every write a compare-and-swap on its
// resourceVersion; a coordination.k8s.io Lease so that two replicas do not
// work on the registration at once. The Lease only reduces contention (it
// gives no fencing); the compare-and-swap, and the write-ahead note written
// through it before any request that may rotate the RAT, keep the state
// correct. The application still reads BFF_JWT_SIGNING_KEY and the state
// file: both are written locally from the Secret (0600, atomically).
package kubestore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dcrctl/dcrctl/internal/atomicfile"
	"github.com/dcrctl/dcrctl/internal/state"
)

// The Secret's data keys.
const (
	KeyState   = "state.json"
	KeyPEM     = "signing-key.pem"
	KeyNextPEM = "signing-key.next.pem"
)

// The three resources dcrctl touches. The dynamic client (with the typed
// structs converted to and from unstructured objects) keeps dcrctl light:
// the full clientset registers every API group at start, which cost every
// run, file store or not, about 25 MB of memory.
var (
	secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	leasesGVR  = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	reviewsGVR = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}
)

func toUnstructured(obj any, apiVersion, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u, nil
}

func fromUnstructured[T any](u *unstructured.Unstructured) (*T, error) {
	out := new(T)
	return out, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)
}

// Store is the Secret and Lease of one client.
type Store struct {
	Client    dynamic.Interface
	Namespace string
	Secret    string
	Lease     string
	// Identity is this process as the Lease names its holder.
	Identity string
	// StatePath and KeyPath are the local copies the application reads:
	// BFF_CLIENT_CRED_PATH and BFF_JWT_SIGNING_KEY (its pending key beside
	// it, KeyPath + ".next").
	StatePath, KeyPath string
	LeaseDuration      time.Duration
	Timeout            time.Duration // per API call
	Log                *slog.Logger

	mu      sync.Mutex
	version string // the Secret's resourceVersion as last read or written; "" = none yet
	// fetched is the Secret as CheckWritable read it, for the Load that
	// follows (one API request, not two); nil when not found.
	fetched     *corev1.Secret
	hasFetched  bool
	leaseHeld   bool
	stopRenewal func()

	requests atomic.Int64 // API requests sent, for the debug log and the benchmark
}

// Requests is how many API requests this store has sent.
func (s *Store) Requests() int64 { return s.requests.Load() }

// counting counts every request a client sends.
type counting struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func (s *Store) Where() string { return fmt.Sprintf("Secret %s/%s", s.Namespace, s.Secret) }

func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	// Saves run even after the operation's context ended (an answer must
	// be saved): each call is bounded by its own timeout instead.
	return context.WithTimeout(context.WithoutCancel(ctx), s.Timeout)
}

// Load reads the Secret, writes the local copies, and returns the state.
func (s *Store) Load(ctx context.Context) (*state.State, error) {
	sec, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	if sec == nil {
		s.setVersion("")
		return &state.State{}, nil
	}
	s.setVersion(sec.ResourceVersion)
	st := &state.State{}
	if raw := sec.Data[KeyState]; len(raw) > 0 {
		if st, err = state.Parse(raw); err != nil {
			return nil, &state.CorruptError{Path: s.Where() + " key " + KeyState, Err: err}
		}
	}
	if err := s.materialise(sec.Data); err != nil {
		return nil, err
	}
	return st, nil
}

// get reads the Secret (nil when there is none), or takes the copy
// CheckWritable just read.
func (s *Store) get(ctx context.Context) (*corev1.Secret, error) {
	s.mu.Lock()
	if s.hasFetched {
		sec := s.fetched
		s.fetched, s.hasFetched = nil, false
		s.mu.Unlock()
		return sec, nil
	}
	s.mu.Unlock()
	ctx, cancel := s.call(ctx)
	defer cancel()
	u, err := s.Client.Resource(secretsGVR).Namespace(s.Namespace).Get(ctx, s.Secret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, s.apiError("get", "secrets", s.Secret, err)
	}
	return fromUnstructured[corev1.Secret](u)
}

// materialise writes the Secret's state and keys to the local files the
// application reads, each only when it differs.
func (s *Store) materialise(data map[string][]byte) error {
	for key, path := range map[string]string{KeyState: s.StatePath, KeyPEM: s.KeyPath, KeyNextPEM: s.KeyPath + ".next"} {
		want := data[key]
		if len(want) == 0 {
			continue // a key not in the Secret yet: a local one is adopted by the run
		}
		if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, want) {
			continue
		}
		if err := atomicfile.Write(path, want, 0o600); err != nil {
			return &state.UnwritableError{Path: path, Err: err}
		}
	}
	return nil
}

// Save writes st and the local keys to the Secret, comparing and swapping
// on the resourceVersion last seen, then the local state file.
func (s *Store) Save(st *state.State, mustWin bool) error {
	encoded, err := state.Encode(st)
	if err != nil {
		return err
	}
	data := map[string][]byte{KeyState: encoded}
	for key, path := range map[string]string{KeyPEM: s.KeyPath, KeyNextPEM: s.KeyPath + ".next"} {
		pem, err := os.ReadFile(path)
		switch {
		case err == nil:
			data[key] = pem
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if st.PendingKID == "" {
		delete(data, KeyNextPEM) // a discarded or promoted next key leaves the Secret
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		err := s.write(data)
		if err == nil {
			break
		}
		if !errors.Is(err, state.ErrConflict) || !mustWin || attempt == attempts {
			return err
		}
		// The IdP's answer is the newest state there is: read the other
		// writer's version and lay ours over it.
		if _, err := s.Load(context.Background()); err != nil {
			return err
		}
		s.Log.Warn("another replica wrote the state while an answer was on its way; keeping the answer", "secret", s.Where())
	}
	if err := atomicfile.Write(s.StatePath, encoded, 0o600); err != nil {
		return &state.UnwritableError{Path: s.StatePath, Err: err}
	}
	return nil
}

// write is one compare-and-swap of the Secret's data.
func (s *Store) write(data map[string][]byte) error {
	ctx, cancel := s.call(context.Background())
	defer cancel()
	secrets := s.Client.Resource(secretsGVR).Namespace(s.Namespace)
	version := s.currentVersion()
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.Secret, Namespace: s.Namespace, ResourceVersion: version,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "dcrctl"}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	u, err := toUnstructured(sec, "v1", "Secret")
	if err != nil {
		return err
	}
	var out *unstructured.Unstructured
	if version == "" {
		out, err = secrets.Create(ctx, u, metav1.CreateOptions{})
	} else {
		out, err = secrets.Update(ctx, u, metav1.UpdateOptions{})
	}
	switch {
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return fmt.Errorf("%s: %w", s.Where(), state.ErrConflict)
	case err != nil:
		verb := "update"
		if version == "" {
			verb = "create"
		}
		return s.apiError(verb, "secrets", s.Secret, err)
	}
	s.setVersion(out.GetResourceVersion())
	return nil
}

func (s *Store) setVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

func (s *Store) currentVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// CheckWritable asks the API server whether this identity may do what a
// run needs with the Secret (get, update; create while it does not exist),
// and checks the local copies' folders, before any request to the IdP.
func (s *Store) CheckWritable(ctx context.Context) error {
	sec, err := s.get(ctx)
	if err != nil {
		return err // a missing get permission is named here
	}
	s.mu.Lock()
	s.fetched, s.hasFetched = sec, true
	s.mu.Unlock()
	ctx, cancel := s.call(ctx)
	defer cancel()
	// One access review: update on the Secret, or create while there is
	// none (RBAC cannot restrict create by name).
	verb, name := "update", s.Secret
	if sec == nil {
		verb, name = "create", ""
	}
	if err := s.allowed(ctx, verb, "", "secrets", name); err != nil {
		return err
	}
	for _, path := range []string{s.StatePath, s.KeyPath} {
		if err := state.CheckWritable(path); err != nil {
			return err
		}
	}
	return nil
}

// allowed is a SelfSubjectAccessReview: whether this identity may verb the
// object. Every authenticated identity may ask (system:basic-user).
func (s *Store) allowed(ctx context.Context, verb, group, resource, name string) error {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: s.Namespace, Verb: verb, Group: group, Resource: resource, Name: name},
	}}
	u, err := toUnstructured(review, "authorization.k8s.io/v1", "SelfSubjectAccessReview")
	if err != nil {
		return err
	}
	created, err := s.Client.Resource(reviewsGVR).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return s.apiError("create", "selfsubjectaccessreviews", "", err)
	}
	out, err := fromUnstructured[authorizationv1.SelfSubjectAccessReview](created)
	if err != nil {
		return err
	}
	if !out.Status.Allowed {
		return &ForbiddenError{Verb: verb, Resource: resource, Name: name, Namespace: s.Namespace}
	}
	return nil
}

// ForbiddenError names the permission the Role lacks. Exit 77.
type ForbiddenError struct {
	Verb, Resource, Name, Namespace string
	Err                             error
}

func (e *ForbiddenError) Error() string {
	obj := e.Resource
	if e.Name != "" {
		obj += " " + e.Name
	}
	msg := fmt.Sprintf("the Kubernetes API does not allow %s on %s in namespace %s for this identity: grant it in the Role (see deploy/kubernetes/rbac.yaml)", e.Verb, obj, e.Namespace)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// apiError names the object and the verb of a failed API call.
func (s *Store) apiError(verb, resource, name string, err error) error {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return &ForbiddenError{Verb: verb, Resource: resource, Name: name, Namespace: s.Namespace, Err: err}
	}
	return fmt.Errorf("kubernetes: %s %s %s/%s: %w", verb, resource, s.Namespace, name, err)
}

// Lock takes nothing yet: a run that changes nothing costs no Lease
// requests (a no-change bootstrap is two API requests: the Secret and one
// access review). Claim takes the Lease before the first write; unlock
// releases it if it was taken.
func (s *Store) Lock(context.Context, time.Duration) (func(), error) {
	// A Secret CheckWritable read outside a run (doctor) is not this run's:
	// the cache serves only the Load that follows CheckWritable in a run.
	s.mu.Lock()
	s.fetched, s.hasFetched = nil, false
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		held, stop := s.leaseHeld, s.stopRenewal
		s.leaseHeld, s.stopRenewal = false, nil
		s.mu.Unlock()
		if held {
			stop()
			s.release()
		}
		s.Log.Debug("kubernetes API requests", "count", s.Requests(), "secret", s.Where())
	}, nil
}

// Claim acquires the Lease (waiting up to timeout), keeps renewing it, and
// checks that the Secret is still the version Load read: ErrConflict if
// another replica wrote it meanwhile (the Lease stays held; the run starts
// again under it).
func (s *Store) Claim(ctx context.Context, timeout time.Duration) error {
	s.mu.Lock()
	held := s.leaseHeld
	s.mu.Unlock()
	if !held {
		stop, err := s.acquire(ctx, timeout)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.leaseHeld, s.stopRenewal = true, stop
		s.mu.Unlock()
	}
	sec, err := s.get(ctx)
	if err != nil {
		return err
	}
	now := ""
	if sec != nil {
		now = sec.ResourceVersion
	}
	if now != s.currentVersion() {
		return fmt.Errorf("%s: %w", s.Where(), state.ErrConflict)
	}
	return nil
}

// acquire takes the Lease, waiting up to timeout, and keeps renewing it
// until stop is called.
func (s *Store) acquire(ctx context.Context, timeout time.Duration) (stop func(), err error) {
	deadline := time.Now().Add(timeout)
	for {
		held, err := s.tryAcquire(ctx)
		if err != nil {
			return nil, err
		}
		if held {
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for Lease %s/%s: %w", s.Namespace, s.Lease, ctx.Err())
		}
		if timeout == 0 || time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: Lease %s/%s is held by another replica after %s (DCRCTL_LOCK_TIMEOUT)", state.ErrLockTimeout, s.Namespace, s.Lease, timeout)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200*time.Millisecond + rand.N(300*time.Millisecond)):
		}
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go s.renew(quit, done)
	return func() {
		close(quit)
		<-done
	}, nil
}

// tryAcquire takes the Lease when it is free, expired or already ours.
func (s *Store) tryAcquire(ctx context.Context) (bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	leases := s.Client.Resource(leasesGVR).Namespace(s.Namespace)
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(s.LeaseDuration / time.Second)
	lease, err := s.getLease(ctx)
	if apierrors.IsNotFound(err) {
		u, convErr := toUnstructured(&coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: s.Lease, Namespace: s.Namespace},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &s.Identity, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now},
		}, "coordination.k8s.io/v1", "Lease")
		if convErr != nil {
			return false, convErr
		}
		_, err = leases.Create(ctx, u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		if err != nil {
			return false, s.apiError("create", "leases", s.Lease, err)
		}
		return true, nil
	}
	if err != nil {
		return false, s.apiError("get", "leases", s.Lease, err)
	}
	if holder := lease.Spec.HolderIdentity; holder != nil && *holder != "" && *holder != s.Identity && !expired(lease) {
		return false, nil
	}
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &s.Identity, &seconds
	lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
	u, err := toUnstructured(lease, "coordination.k8s.io/v1", "Lease")
	if err != nil {
		return false, err
	}
	if _, err := leases.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil // someone else took it first
		}
		return false, s.apiError("update", "leases", s.Lease, err)
	}
	return true, nil
}

// getLease reads the Lease.
func (s *Store) getLease(ctx context.Context) (*coordinationv1.Lease, error) {
	u, err := s.Client.Resource(leasesGVR).Namespace(s.Namespace).Get(ctx, s.Lease, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return fromUnstructured[coordinationv1.Lease](u)
}

func expired(l *coordinationv1.Lease) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return time.Since(l.Spec.RenewTime.Time) > time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second
}

// renew keeps the Lease while the run works.
func (s *Store) renew(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(s.LeaseDuration / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if held, err := s.tryAcquire(context.Background()); err != nil || !held {
				s.Log.Warn("could not renew the Lease; the state's compare-and-swap still guards it", "lease", s.Lease, "err", err)
			}
		}
	}
}

// release gives the Lease up for the next replica.
func (s *Store) release() {
	ctx, cancel := s.call(context.Background())
	defer cancel()
	lease, err := s.getLease(ctx)
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != s.Identity {
		return
	}
	empty := ""
	lease.Spec.HolderIdentity = &empty
	if u, err := toUnstructured(lease, "coordination.k8s.io/v1", "Lease"); err == nil {
		// A failed release expires on its own.
		s.Client.Resource(leasesGVR).Namespace(s.Namespace).Update(ctx, u, metav1.UpdateOptions{})
	}
}

// Options configure New.
type Options struct {
	Kubeconfig         string // "" inside a cluster: the service account
	Namespace          string // "" = the pod's own namespace, else default
	Secret, Lease      string
	StatePath, KeyPath string
	Timeout            time.Duration
	LeaseDuration      time.Duration // 0: 15 s
	Log                *slog.Logger
}

// serviceAccountNamespace is where a pod learns its namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// New connects to the API server: with a kubeconfig, or in-cluster.
func New(o Options) (*Store, error) {
	var rc *rest.Config
	var err error
	if o.Kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w (set DCRCTL_KUBECONFIG outside a cluster)", err)
	}
	rc.Timeout = o.Timeout
	store := &Store{}
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return counting{next: rt, n: &store.requests} })
	client, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	ns := o.Namespace
	if ns == "" {
		ns = "default"
		if data, err := os.ReadFile(serviceAccountNamespace); err == nil && len(bytes.TrimSpace(data)) > 0 {
			ns = string(bytes.TrimSpace(data))
		}
	}
	lease := o.Lease
	if lease == "" {
		lease = o.Secret + "-lock"
	}
	host, _ := os.Hostname()
	store.Client, store.Namespace, store.Secret, store.Lease = client, ns, o.Secret, lease
	store.Identity = fmt.Sprintf("%s/%d", host, os.Getpid())
	store.StatePath, store.KeyPath = o.StatePath, o.KeyPath
	store.LeaseDuration, store.Timeout, store.Log = cmp.Or(o.LeaseDuration, 15*time.Second), o.Timeout, o.Log
	return store, nil
}
