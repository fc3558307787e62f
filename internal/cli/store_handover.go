//go:build nokube

package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/dcrctl/dcrctl/internal/config"
	"github.com/dcrctl/dcrctl/internal/state"
)

// The lean dcrctl (`make build`, -tags nokube) leaves the Kubernetes store
// out: client-go's package initialisation costs every command about 8 ms
// of start-up whether it uses the store or not (BENCHMARKS.md). With
// DCRCTL_STATE_STORE=kubernetes it hands the command over to dcrctl-kube,
// the same program with the store, found beside this executable or on
// PATH. syscall.Exec keeps the process: its PID, terminal, standard input,
// signals and exit code are dcrctl-kube's.

// stateStores is what `dcrctl version` says this build holds.
const stateStores = "file (kubernetes through dcrctl-kube)"

// handOverIfKubernetes execs dcrctl-kube when the configuration asks for
// the Kubernetes store. It is called as soon as the configuration is
// loaded: before a prompt or --admin-token-stdin reads standard input.
func (a *App) handOverIfKubernetes(cfg *config.Config) error {
	if cfg.StateStore != "kubernetes" {
		return nil
	}
	if os.Getenv(handedOver) != "" {
		return &config.Error{Name: kubeStoreSetting, Problem: "dcrctl-kube was reached but is a dcrctl built without the Kubernetes store (-tags nokube): install the dcrctl-kube that `make build` makes"}
	}
	path, err := kubeBinary()
	if err != nil {
		return &config.Error{Name: kubeStoreSetting, Problem: err.Error()}
	}
	env := append(os.Environ(), handedOver+"=1")
	if a.profile != "" {
		env = append(env, "DCRCTL_PROFILE="+a.profile) // chosen in the TUI's picker, say
	}
	err = syscall.Exec(path, append([]string{path}, os.Args[1:]...), env)
	return &config.Error{Name: kubeStoreSetting, Problem: fmt.Sprintf("starting %s: %v", path, err)}
}

// kubeBinary is dcrctl-kube beside this executable, else on PATH.
func kubeBinary() (string, error) {
	const name = "dcrctl-kube"
	var beside string
	if self, err := os.Executable(); err == nil {
		beside = filepath.Join(filepath.Dir(self), name)
		if info, err := os.Stat(beside); err == nil && !info.IsDir() {
			return beside, nil
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("this dcrctl is built without the Kubernetes store, and no %s is beside it (%s) or on PATH: install the dcrctl-kube that `make build` makes next to dcrctl, or run it directly", name, beside)
}

// kubernetesStore is reached only if a configuration was never loaded
// through Config (each profile of `dcrctl profiles`): hand over then.
func (a *App) kubernetesStore(cfg *config.Config) (state.Store, error) {
	if err := a.handOverIfKubernetes(cfg); err != nil {
		return nil, err
	}
	return nil, errors.New("unreachable: the Kubernetes store was not handed over")
}

// storeForbidden: this build holds no store that can be forbidden.
func storeForbidden(error) bool { return false }
