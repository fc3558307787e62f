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

func TestMaskURL(t *testing.T) {
	cases := map[string]string{
		"http://user:pa55word@pg.test:9091":                        "http://user:xxxxx@pg.test:9091",
		"https://idp.test/a/{client_id}/rat?api_key=k3y-value&x=1": "https://idp.test/a/%7Bclient_id%7D/rat?api_key=REDACTED&x=1",
		"https://idp.test/a/{client_id}/rat":                       "https://idp.test/a/{client_id}/rat",
		"https://user@idp.test/":                                   "https://user@idp.test/",
	}
	for in, want := range cases {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := URLSecrets("https://u:pw-secret@h/?token=t0ken&x=1"); len(got) != 2 {
		t.Errorf("URLSecrets: %v", got)
	}
}
