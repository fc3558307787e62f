package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Kube is a real kube-apiserver with its etcd, on 127.0.0.1 only, built
// from the Go module proxy by scripts/build-kube.sh. Two static-token
// users: an admin (system:masters) that sets the test up, and "dcrctl",
// which has only what a test's Role grants it.
type Kube struct {
	URL        string
	CAFile     string
	AdminToken string
	UserToken  string
	dir        string
	logs       *syncBuffer
}

// KubeUser is the user dcrctl runs as in the tests.
const KubeUser = "dcrctl"

var (
	kubeOnce sync.Once
	kubeDir  string
	kubeErr  error
)

// kubeBinaries builds (or finds cached) kube-apiserver and etcd.
func kubeBinaries(t testing.TB) string {
	t.Helper()
	kubeOnce.Do(func() {
		cmd := exec.Command("bash", filepath.Join(RepoRoot(), "scripts", "build-kube.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			kubeErr = fmt.Errorf("scripts/build-kube.sh: %v", err)
			return
		}
		kubeDir = strings.TrimSpace(string(out))
	})
	if kubeErr != nil {
		t.Fatal(kubeErr)
	}
	return kubeDir
}

// StartKube starts etcd and kube-apiserver for the test.
func StartKube(t testing.TB) *Kube {
	t.Helper()
	bins := kubeBinaries(t)
	dir := t.TempDir()
	k := &Kube{dir: dir, AdminToken: "admin-" + randomToken(t), UserToken: "dcrctl-" + randomToken(t)}
	caPEM, certPEM, keyPEM := selfSignedServing(t)
	k.CAFile = writeFile(t, dir, "ca.pem", caPEM)
	certFile := writeFile(t, dir, "serving.pem", certPEM)
	keyFile := writeFile(t, dir, "serving-key.pem", keyPEM)
	saKey := writeFile(t, dir, "sa.pem", rsaKeyPEM(t))
	tokens := writeFile(t, dir, "tokens.csv", []byte(fmt.Sprintf("%s,admin,admin,\"system:masters\"\n%s,%s,%s-uid\n", k.AdminToken, k.UserToken, KubeUser, KubeUser)))

	// FreePort closes its port before the server binds it: on a busy
	// machine another process may take it first, and the server exits with
	// "address already in use". Each is then started again on new ports.
	var etcdURL string
	for attempt := 1; ; attempt++ {
		etcdPort, peerPort := FreePort(t), FreePort(t)
		etcdURL = "http://127.0.0.1:" + strconv.Itoa(etcdPort)
		peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
		logs, err := tryStartServer(t, exec.Command(filepath.Join(bins, "etcd"),
			"--data-dir", filepath.Join(dir, "etcd-"+strconv.Itoa(attempt)), "--name", "default",
			"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", "default="+peerURL, "--unsafe-no-fsync", "--log-level", "error"), etcdURL+"/health")
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(logs.String(), "address already in use") {
			t.Fatalf("etcd: %v\n%s", err, logs.String())
		}
	}
	for attempt := 1; ; attempt++ {
		apiPort := FreePort(t)
		api := exec.Command(filepath.Join(bins, "kube-apiserver"),
			"--etcd-servers", etcdURL,
			"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(apiPort),
			"--endpoint-reconciler-type", "none",
			"--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
			"--token-auth-file", tokens, "--authorization-mode", "RBAC",
			"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saKey,
			"--service-account-signing-key-file", saKey, "--service-cluster-ip-range", "10.0.0.0/24",
			"--enable-priority-and-fairness=false", "--v", "0")
		k.logs = &syncBuffer{}
		api.Stdout, api.Stderr = k.logs, k.logs
		if err := api.Start(); err != nil {
			t.Fatalf("start kube-apiserver: %v", err)
		}
		exited := make(chan struct{})
		go func() { api.Wait(); close(exited) }()
		t.Cleanup(func() {
			api.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				api.Process.Kill()
				<-exited
			}
		})
		k.URL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
		err := k.waitReady(exited)
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(k.logs.String(), "address already in use") {
			t.Fatalf("%v\n%s", err, k.logs.String())
		}
	}
	return k
}

// waitReady polls /readyz (at most 90 s: a loaded machine starts it
// slowly), and gives up early when the server has exited.
func (k *Kube) waitReady(exited <-chan struct{}) error {
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(k.CAFile)
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var last string
	for attempt := 0; attempt < 450; attempt++ {
		select {
		case <-exited:
			return fmt.Errorf("kube-apiserver exited before it was ready")
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, k.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+k.AdminToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 90 s: %s", last)
}

func (k *Kube) restConfig(token string) *rest.Config {
	return &rest.Config{Host: k.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAFile: k.CAFile}, Timeout: 10 * time.Second}
}

// Admin is a client with every permission, to set tests up and inspect.
func (k *Kube) Admin(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(k.restConfig(k.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Kubeconfig writes a kubeconfig for the dcrctl user and returns its path.
func (k *Kube) Kubeconfig(t testing.TB) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: dcrctl
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: dcrctl}
current-context: test
`, k.URL, k.CAFile, k.UserToken)
	return writeFile(t, t.TempDir(), "kubeconfig", []byte(cfg))
}

// Namespace creates a fresh namespace (deleted ones stay Terminating: no
// controllers run here).
func (k *Kube) Namespace(t testing.TB) string {
	t.Helper()
	name := "t-" + strings.ToLower(randomToken(t)[:10])
	_, err := k.Admin(t).CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// Grant binds a Role with rules to the dcrctl user in ns.
func (k *Kube) Grant(t testing.TB, ns string, rules []rbacv1.PolicyRule) {
	t.Helper()
	admin := k.Admin(t)
	ctx := context.Background()
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dcrctl"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dcrctl"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: KubeUser}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "dcrctl"},
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomToken(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func rsaKeyPEM(t testing.TB) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// selfSignedServing is a throw-away CA and a serving certificate for
// 127.0.0.1 signed by it.
func selfSignedServing(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dcrctl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
