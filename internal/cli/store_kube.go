package cli

import (
	"errors"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/kubestore"
	"github.com/dcrctl/dcrctl/internal/state"
)

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
