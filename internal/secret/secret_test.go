package secret

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	r := &Redactor{}
	r.Add("tok-1234567890", "abc")
	in := `bearer tok-1234567890 failed; body {"registration_access_token": "zzz", "client_secret":"s3cr3t", "error":"invalid_token"} abc`
	out := r.Redact(in)
	for _, leak := range []string{"tok-1234567890", "zzz", "s3cr3t"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q left in %q", leak, out)
		}
	}
	if !strings.Contains(out, Fingerprint("tok-1234567890")) || !strings.Contains(out, "invalid_token") || !strings.HasSuffix(out, "abc") {
		t.Errorf("redaction lost context: %q", out)
	}
	if Fingerprint("a") == Fingerprint("b") || Fingerprint("") != "(none)" {
		t.Error("fingerprints")
	}
}
