package testenv

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// CountingProxy is a reverse proxy on 127.0.0.1 in front of a real IdP that
// records every request dcrctl sends it: the IdP's own traffic, seen on the
// wire, for IdPs that keep no request log of their own (Glewlwyd, Hydra).
// The IdP is configured with the proxy's URL as its public URL, so every
// URL it hands out (registration_client_uri, token endpoint) leads back here.
type CountingProxy struct {
	URL string

	mu   sync.Mutex
	seen []Request
}

// StartCountingProxy listens on a free loopback port; Forward sets where to.
func StartCountingProxy(t testing.TB) (*CountingProxy, func(target string)) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CountingProxy{URL: "http://" + l.Addr().String()}
	var handler http.Handler = http.NotFoundHandler()
	var ready sync.WaitGroup
	ready.Add(1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		p.mu.Lock()
		p.seen = append(p.seen, Request{Method: r.Method, Path: r.URL.Path})
		p.mu.Unlock()
		handler.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	forward := func(target string) {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		handler = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the IdP builds its URLs from its configured public URL
		}}
		ready.Done()
	}
	return p, forward
}

// Requests returns the requests seen since the last reset, admin and
// health routes excluded.
func (p *CountingProxy) Requests(testing.TB) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, 0, len(p.seen))
	for _, r := range p.seen {
		if !strings.HasPrefix(r.Path, "/admin/") && !strings.HasPrefix(r.Path, "/health/") {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets what was seen.
func (p *CountingProxy) ResetRequests(testing.TB) {
	p.mu.Lock()
	p.seen = nil
	p.mu.Unlock()
}
