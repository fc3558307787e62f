//go:build !nokube

package cli

import (
	"errors"
	"os"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/kubestore"
	"github.com/dcrctl/dcrctl/internal/state"
)

// This build holds the Kubernetes state store (the default build; `make
// build` names it dcrctl-kube). The lean build (-tags nokube) hands
// DCRCTL_STATE_STORE=kubernetes over to it: store_handover.go.

// stateStores is what `dcrctl version` says this build holds.
const stateStores = "file, kubernetes"

// handedOver marks the environment of a handed-over process, so that a
// lean binary installed as dcrctl-kube fails instead of looping. The mark
// is the lean parent's: this process's children (the application under
// `dcrctl run`, a DCRCTL_ON_KEY_CHANGE command) must not inherit it.
func init() { os.Unsetenv(handedOver) }

// handOverIfKubernetes has nothing to hand over: the store is here.
func (a *App) handOverIfKubernetes(*config.Config) error { return nil }

// kubernetesStore is the state store on the Kubernetes API.
func (a *App) kubernetesStore(cfg *config.Config) (state.Store, error) {
	store, err := kubestore.New(kubestore.Options{Kubeconfig: cfg.Kubeconfig, Namespace: cfg.KubeNamespace,
		Secret: cfg.KubeSecret, Lease: cfg.KubeLease, StatePath: cfg.StatePath, KeyPath: cfg.SigningKeyPath,
		Timeout: cfg.Timeout, LeaseDuration: cfg.KubeLeaseTTL, Log: a.log})
	if err != nil {
		return nil, &config.Error{Name: kubeStoreSetting, Problem: err.Error()}
	}
	return store, nil
}

// storeForbidden: the Kubernetes API refused a verb the Role lacks (exit 77).
func storeForbidden(err error) bool {
	var forbidden *kubestore.ForbiddenError
	return errors.As(err, &forbidden)
}
