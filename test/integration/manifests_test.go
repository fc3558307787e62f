package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/testenv"
)

// manifestDocs reads deploy/kubernetes/NAME and splits it into documents.
func manifestDocs(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n---\n")
}

// The example manifests are what operators copy: the API server accepts
// them (server-side dry run, unknown fields refused), and every variable
// the dcrctl containers set is one dcrctl reads.
func TestKubeManifestsAreAcceptedAndUseRealSettings(t *testing.T) {
	known := map[string]bool{}
	for _, s := range config.Settings {
		for _, env := range s.Env {
			known[env] = true
			if s.Secret {
				known[env+"_FILE"] = true
			}
		}
	}

	k := testenv.StartKube(t)
	ns := k.Namespace(t)
	admin := k.Admin(t)
	ctx := context.Background()
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	strict := func(doc string, into any) {
		t.Helper()
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
	}
	created := 0
	for _, doc := range manifestDocs(t, "rbac.yaml") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("rbac.yaml: %v", err)
		}
		var err error
		switch meta.Kind {
		case "ServiceAccount":
			var sa corev1.ServiceAccount
			strict(doc, &sa)
			_, err = admin.CoreV1().ServiceAccounts(ns).Create(ctx, &sa, dryRun)
		case "Role":
			var role rbacv1.Role
			strict(doc, &role)
			_, err = admin.RbacV1().Roles(ns).Create(ctx, &role, dryRun)
		case "RoleBinding":
			var binding rbacv1.RoleBinding
			strict(doc, &binding)
			_, err = admin.RbacV1().RoleBindings(ns).Create(ctx, &binding, dryRun)
		default:
			t.Fatalf("rbac.yaml: unexpected kind %q", meta.Kind)
		}
		if err != nil {
			t.Fatalf("rbac.yaml %s: %v", meta.Kind, err)
		}
		created++
	}
	if created != 3 {
		t.Fatalf("rbac.yaml: %d objects, want ServiceAccount, Role, RoleBinding", created)
	}

	docs := manifestDocs(t, "deployment.yaml")
	if len(docs) != 1 {
		t.Fatalf("deployment.yaml: %d documents, want the Deployment", len(docs))
	}
	var deploy appsv1.Deployment
	strict(docs[0], &deploy)
	if _, err := admin.AppsV1().Deployments(ns).Create(ctx, &deploy, dryRun); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	pod := deploy.Spec.Template.Spec
	var dcrctl []corev1.Container
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if strings.Contains(c.Image, "dcrctl") {
			dcrctl = append(dcrctl, c)
		}
	}
	if len(dcrctl) != 2 {
		t.Fatalf("deployment.yaml: %d dcrctl containers, want the init container and the sidecar", len(dcrctl))
	}
	for _, c := range dcrctl {
		for _, env := range c.Env {
			if !known[env.Name] {
				t.Errorf("deployment.yaml container %s sets %s, which dcrctl does not read", c.Name, env.Name)
			}
		}
	}
}
