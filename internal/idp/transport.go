package idp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dcrctl/dcrctl/internal/secret"
)

// MaxBody bounds every IdP response read; client metadata is a few KiB.
const MaxBody = 1 << 20

// maxErrorBody is how much of an error body reaches a log or message.
const maxErrorBody = 512

// NewHTTPClient builds the client dcrctl talks to the IdP with: TLS
// verification on, an optional extra CA bundle, a per-request timeout.
// net/http already drops the Authorization header on a redirect to another host.
func NewHTTPClient(timeout time.Duration, caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("DCRCTL_CA_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("DCRCTL_CA_FILE: %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// Client talks RFC 7591/7592 to one IdP.
type Client struct {
	HTTP          *http.Client
	RetryDeadline time.Duration // keep retrying connection errors, 5xx and 429 this long
	Log           *slog.Logger
	Redactor      *secret.Redactor
	// AuthScheme is the Authorization scheme of the tokens sent (IAT, RAT,
	// admin token): RFC 6750's Bearer when empty; Okta's admin API takes
	// its API tokens as "SSWS".
	AuthScheme string

	// OnRequest, when set, is called before every attempt (tests count requests).
	OnRequest func(method, url string)

	sent atomic.Int64 // attempts so far, for a screen that shows progress
}

// Sent is how many requests (attempts, retries included) this client has
// sent so far.
func (cl *Client) Sent() int64 { return cl.sent.Load() }

// call is one logical request: a method, a URL, an optional bearer and body.
type call struct {
	op     string
	method string
	url    string
	bearer string
	body   any
}

// do sends c with retries and decodes a JSON answer into out (when non-nil).
// It returns the HTTP status of the final answer.
func (cl *Client) do(ctx context.Context, c call, out any) (int, error) {
	var payload []byte
	if c.body != nil {
		var err error
		if payload, err = json.Marshal(c.body); err != nil {
			return 0, fmt.Errorf("idp: %s: encode request: %w", c.op, err)
		}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, c.method, c.url, bytesOrNil(payload))
	if err != nil {
		return 0, fmt.Errorf("idp: %s: %w", c.op, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", cmp.Or(cl.AuthScheme, "Bearer")+" "+c.bearer)
	}

	httpClient := cl.HTTP
	parent := criticalParent(ctx) // nil for an ordinary request
	if parent != nil {
		// Bounded by the context's deadline (DCRCTL_UPDATE_TIMEOUT), not by
		// the per-request timeout meant for requests that change nothing.
		long := *cl.HTTP
		long.Timeout = 0
		httpClient = &long
	}
	attempts := 0
	start := time.Now()
	rc := &retryablehttp.Client{
		HTTPClient:   httpClient,
		RetryWaitMin: 200 * time.Millisecond,
		RetryWaitMax: 5 * time.Second,
		RetryMax:     1 << 20, // bounded by the deadline in CheckRetry
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, n int) {
			attempts = n + 1
			cl.sent.Add(1)
			if cl.OnRequest != nil {
				cl.OnRequest(r.Method, r.URL.String())
			}
			if n > 0 && cl.Log != nil {
				cl.Log.Info("retrying IdP request", "op", c.op, "url", r.URL.Redacted(), "attempt", n+1)
			}
		},
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if parent != nil && parent.Err() != nil {
				// Interrupted: the attempt that was sent is over; no other
				// is started (README: signals).
				return false, nil
			}
			retry, checkErr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
			if retry && time.Since(start) >= cl.RetryDeadline {
				return false, checkErr
			}
			return retry, checkErr
		},
		Backoff: func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
			wait := backoff(min, max, attempt, resp)
			if left := cl.RetryDeadline - time.Since(start); wait > left {
				wait = max0(left)
			}
			if parent == nil {
				return wait
			}
			// A critical request's own context ignores signals: wait here
			// instead, so that a signal ends the backoff at once and
			// PrepareRetry stops the next attempt.
			timer := time.NewTimer(wait)
			defer timer.Stop()
			select {
			case <-parent.Done():
			case <-timer.C:
			}
			return 0
		},
		PrepareRetry: func(*http.Request) error {
			if parent != nil && parent.Err() != nil {
				return parent.Err()
			}
			return nil
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if parent != nil {
		criticalInFlight.Add(1)
	}
	resp, err := rc.Do(req)
	if parent != nil {
		criticalInFlight.Add(-1)
	}
	if cl.Log != nil {
		// --log-level debug: each request, URL without query or userinfo.
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		cl.Log.Debug("IdP request", "op", c.op, "method", c.method, "url", redactURL(c.url), "status", status, "attempts", attempts, "duration", time.Since(start).Round(time.Millisecond).String())
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("idp: %s %s: %w", c.op, redactURL(c.url), ctx.Err())
		}
		if parent != nil && parent.Err() != nil && resp == nil {
			return 0, fmt.Errorf("idp: %s %s: not retried: %w", c.op, redactURL(c.url), parent.Err())
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is said once, below
		}
		if isTLSError(err) {
			return 0, fmt.Errorf("idp: %s %s: TLS: %w (set DCRCTL_CA_FILE to trust a private CA)", c.op, redactURL(c.url), err)
		}
		return 0, &UnreachableError{Op: c.op, URL: redactURL(c.url), Attempts: attempts, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return resp.StatusCode, &UnreachableError{Op: c.op, URL: redactURL(c.url), Attempts: attempts, Err: fmt.Errorf("reading response: %w", err)}
	}
	if len(body) > MaxBody {
		return resp.StatusCode, &BadResponseError{Op: c.op, URL: redactURL(c.url), Problem: fmt.Sprintf("response body larger than %d bytes", MaxBody)}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return resp.StatusCode, &UnreachableError{Op: c.op, URL: redactURL(c.url), Attempts: attempts, Err: cl.httpError(c, resp.StatusCode, body)}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, cl.httpError(c, resp.StatusCode, body)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, &BadResponseError{Op: c.op, URL: redactURL(c.url), Problem: "invalid JSON: " + err.Error()}
		}
	}
	return resp.StatusCode, nil
}

func (cl *Client) httpError(c call, status int, body []byte) *Error {
	e := &Error{Op: c.op, URL: redactURL(c.url), Status: status}
	var oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oauthErr) == nil {
		// Redact first, then cut: a cut through a secret would leave its
		// first part unrecognised.
		e.Code, e.Description = oauthErr.Error, secret.Truncate(cl.Redactor.Redact(oauthErr.Description), maxErrorBody)
	}
	e.Body = secret.Truncate(cl.Redactor.Redact(string(body)), maxErrorBody)
	if cl.Log != nil {
		cl.Log.Debug("IdP error body", "op", c.op, "status", status, "body", e.Body)
	}
	return e
}

// backoff is capped exponential backoff with full jitter, except that a
// Retry-After on 429/503 is honoured (RFC 9110 §10.2.3).
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if s := resp.Header.Get("Retry-After"); s != "" {
			if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
				return time.Duration(secs) * time.Second
			}
			if t, err := http.ParseTime(s); err == nil {
				return max0(time.Until(t))
			}
		}
	}
	ceiling := min << min0(attempt, 20)
	if ceiling > max || ceiling <= 0 {
		ceiling = max
	}
	return min/2 + rand.N(ceiling)
}

func min0(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

func bytesOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

func isTLSError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// redactURL drops any query and userinfo from a URL before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}
