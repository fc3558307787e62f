package termsafe

import (
	"bytes"
	"testing"
)

func TestLineAndText(t *testing.T) {
	for _, tc := range []struct{ in, line, text string }{
		{"bff orders", "bff orders", "bff orders"},
		{"evil\x1b[2J\x1b]0;owned\x07", `evil\x1b[2J\x1b]0;owned\x07`, `evil\x1b[2J\x1b]0;owned\x07`},
		{"two\nlines\tand\rcr", `two\x0alines\x09and\x0dcr`, "two\nlines\tand\\x0dcr"},
		{"c1 \u009b31m csi", `c1 \x9b31m csi`, `c1 \x9b31m csi`},
		{"bad \xff byte, ünïcode kept", `bad \xff byte, ünïcode kept`, `bad \xff byte, ünïcode kept`},
		{"del\x7f", `del\x7f`, `del\x7f`},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	in := []byte("name:\t\x1b[31mred\n")
	n, err := Writer{W: &buf}.Write(in)
	if err != nil || n != len(in) || buf.String() != "name:\t\\x1b[31mred\n" {
		t.Fatalf("wrote %d %v %q", n, err, buf.String())
	}
}

func TestSanitizeReachesEveryString(t *testing.T) {
	type inner struct{ Note string }
	type outer struct {
		Name     string
		List     []string
		Ptr      *inner
		Metadata map[string]any
		private  string
	}
	v := &outer{Name: "a\x1bb", List: []string{"\x1b[2J"}, Ptr: &inner{Note: "\x07"},
		Metadata: map[string]any{"client_name": "x\x1by", "uris": []any{"\x1b"}, "n": 3}, private: "\x1b"}
	Sanitize(v)
	if v.Name != `a\x1bb` || v.List[0] != `\x1b[2J` || v.Ptr.Note != `\x07` {
		t.Errorf("fields: %+v %+v", v, v.Ptr)
	}
	if v.Metadata["client_name"] != `x\x1by` || v.Metadata["uris"].([]any)[0] != `\x1b` || v.Metadata["n"] != 3 {
		t.Errorf("metadata: %#v", v.Metadata)
	}
	if v.private != "\x1b" {
		t.Error("an unexported field was touched")
	}
}
