// Package termsafe keeps text that came from an IdP or a file from steering
// the terminal it is shown on: a client_name, an error_description or a kid
// holding ESC/CSI sequences (or any other control character) would
// otherwise move the cursor, rewrite lines or retitle the window of the
// operator reading it. Such characters are shown escaped (\x1b), so that
// they are visible and nothing is hidden. JSON output needs none of this:
// encoding/json escapes control characters itself.
package termsafe

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// unsafe reports whether r may control a terminal: C0 controls, DEL and the
// C1 range (U+0080–U+009F, where 8-bit CSI lives).
func unsafe(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }

// escape writes s with every unsafe rune (and every byte that is not UTF-8)
// escaped, keeping the runes keep allows.
func escape(b *strings.Builder, s string, keep func(rune) bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case unsafe(r) && !keep(r):
			if r < 0x100 {
				fmt.Fprintf(b, `\x%02x`, r)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

func clean(s string, keep func(rune) bool) string {
	for _, r := range s {
		if unsafe(r) || r == utf8.RuneError {
			var b strings.Builder
			escape(&b, s, keep)
			return b.String()
		}
	}
	return s
}

func none(rune) bool { return false }

func layout(r rune) bool { return r == '\n' || r == '\t' }

// Line is s with every control character escaped, newlines too: one value
// on one line.
func Line(s string) string { return clean(s, none) }

// Text is s with every control character escaped except newlines and tabs.
func Text(s string) string { return clean(s, layout) }

// Writer escapes control characters other than newlines and tabs in what
// is written through it. For text output only; each Write is taken whole.
type Writer struct{ W io.Writer }

func (w Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.W, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Sanitize escapes, in place, every string reachable from ptr (struct
// fields, slices, maps, pointers): for a value that came from an IdP on its
// way to a screen. Unexported fields are left alone.
func Sanitize(ptr any) { sanitize(reflect.ValueOf(ptr)) }

func sanitize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			if v.Kind() == reflect.Interface {
				// An interface's value cannot be set in place: rebuild it.
				inner := reflect.New(v.Elem().Type()).Elem()
				inner.Set(v.Elem())
				sanitize(inner)
				if v.CanSet() {
					v.Set(inner)
				}
				return
			}
			sanitize(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				sanitize(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanitize(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(v.MapIndex(k))
			sanitize(val)
			v.SetMapIndex(k, val)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(Line(v.String()))
		}
	}
}
