package cli

// kubeStoreSetting names the setting in errors about the Kubernetes store.
const kubeStoreSetting = "DCRCTL_STATE_STORE=kubernetes"

// stateStores is what `dcrctl version` says the binary holds.
const stateStores = "file, kubernetes"
