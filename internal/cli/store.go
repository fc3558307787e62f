package cli

// handedOver is set in the environment of dcrctl-kube when the lean dcrctl
// hands a command over to it (store_handover.go).
const handedOver = "DCRCTL_HANDED_OVER"

// kubeStoreSetting names the setting in errors about the Kubernetes store.
const kubeStoreSetting = "DCRCTL_STATE_STORE=kubernetes"
