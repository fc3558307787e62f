package ui

import (
	"fmt"
	"testing"

	"github.com/dcrctl/dcrctl/internal/engine"
)

// BenchmarkView is the render time of the main screen at 80×24 for 3, 30
// and 300 keys (target: ≤ 1 ms per frame at 300).
func BenchmarkView(b *testing.B) {
	for _, n := range []int{3, 30, 300} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			st := sampleStatus("")
			st.Keys = nil
			for i := 0; i < n; i++ {
				st.Keys = append(st.Keys, engine.KeyStatus{KID: fmt.Sprintf("key-%03d", i), Alg: "RS256", Use: "sig",
					CreatedAt: daysAgo(i), AgeDays: intp(i), States: []string{"published"}})
			}
			m := loaded(b, &fakeBackend{status: st}, true)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.View()
			}
		})
	}
}
