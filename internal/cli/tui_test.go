package cli

import (
	"bytes"
	"testing"

	"os"

	"github.com/charmbracelet/colorprofile"
)

func TestNoColorForcesPlainProfile(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	if got := colorProfile(os.Getenv, os.Stdout); got != colorprofile.Ascii {
		t.Errorf("NO_COLOR set: profile %v, want Ascii", got)
	}
	os.Unsetenv("NO_COLOR")
	if got := colorProfile(func(k string) string { return map[string]string{"TERM": "dumb"}[k] }, os.Stdout); got != colorprofile.Ascii {
		t.Errorf("TERM=dumb: profile %v, want Ascii", got)
	}
}

func TestUTF8Locale(t *testing.T) {
	for env, want := range map[[3]string]bool{
		{"C", "", "en_US.UTF-8"}: false, // LC_ALL wins
		{"", "", "en_US.UTF-8"}:  true,
		{"", "C.utf8", ""}:       true,
		{"", "", ""}:             false, // POSIX locale
	} {
		get := func(k string) string {
			return map[string]string{"LC_ALL": env[0], "LC_CTYPE": env[1], "LANG": env[2]}[k]
		}
		if got := utf8Locale(get); got != want {
			t.Errorf("%v: utf8Locale %v, want %v", env, got, want)
		}
	}
}

func TestTUIWithoutTerminalPrintsHelpAndExits64(t *testing.T) {
	var stdout, stderr bytes.Buffer
	app := NewApp(&bytes.Buffer{}, &stdout, &stderr)
	if code := app.Run(t.Context(), nil); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("Available Commands")) || !bytes.Contains(stderr.Bytes(), []byte("needs a terminal")) {
		t.Errorf("help and reason expected on stderr:\n%s", stderr.String())
	}
}

// Output that is not a terminal gets no colours, whatever TERM says (the
// detection runs on the file given, not on stdout).
func TestPipeGetsNoColours(t *testing.T) {
	os.Unsetenv("NO_COLOR")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if got := colorProfile(func(string) string { return "xterm-256color" }, w); got != colorprofile.NoTTY {
		t.Errorf("a pipe: profile %v, want NoTTY", got)
	}
}
