package testenv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/dcrctl/dcrctl/internal/kubestore"
	"github.com/dcrctl/dcrctl/internal/state"
)

// AgeState moves every key record (created, published, superseded) back
// by days, as if that much time had passed: a rotation becomes due.
func AgeState(st *state.State, days int) {
	shift := time.Duration(days) * 24 * time.Hour
	back := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		older := p.Add(-shift)
		return &older
	}
	for i := range st.Keys {
		st.Keys[i].CreatedAt = st.Keys[i].CreatedAt.Add(-shift)
		st.Keys[i].PublishedAt = back(st.Keys[i].PublishedAt)
		st.Keys[i].SupersededAt = back(st.Keys[i].SupersededAt)
	}
}

// AgeSecret ages the state in the Secret name of ns by days. A running
// dcrctl may write the Secret meanwhile: a conflict reads it again.
func (k *Kube) AgeSecret(t testing.TB, ns, name string, days int) {
	t.Helper()
	admin := k.Admin(t).CoreV1().Secrets(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec, err := admin.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		st, err := state.Parse(sec.Data[kubestore.KeyState])
		if err != nil {
			return err
		}
		AgeState(st, days)
		sec.Data[kubestore.KeyState], _ = json.Marshal(st)
		_, err = admin.Update(context.Background(), sec, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
