package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/viper"
)

// The NAME_FILE convention (Docker and Kubernetes secrets): every secret
// setting may instead name a file holding it, so that the secret never sits
// in the environment, a process listing or shell history. DCR_IAT_FILE,
// BOOTSTRAP_ADMIN_TOKEN_FILE, DCRCTL_IAT_CLIENT_SECRET_FILE and the
// DCRCTL_ aliases' _FILE forms; in a config file, the key with "_file".

// maxSecretFile bounds how much of a secret file is read.
const maxSecretFile = 64 << 10

// fileKey is the viper key of a secret setting's file form.
func fileKey(key string) string { return key + "_file" }

// fileEnv are the env names of a secret setting's file form.
func fileEnv(s Setting) []string {
	out := make([]string, len(s.Env))
	for i, e := range s.Env {
		out[i] = e + "_FILE"
	}
	return out
}

// bindSecretFiles binds the file forms of the secret settings.
func bindSecretFiles(v *viper.Viper) {
	for _, s := range Settings {
		if s.Secret {
			v.BindEnv(append([]string{fileKey(s.Key)}, fileEnv(s)...)...)
		}
	}
}

// isSecretFileKey reports whether a config file key is a secret's file form.
func isSecretFileKey(k string) bool {
	for _, s := range Settings {
		if s.Secret && fileKey(s.Key) == k {
			return true
		}
	}
	return false
}

// fileName is the variable (or config key) that set key's file form.
func fileName(key string) string {
	for _, s := range Settings {
		if s.Key != key {
			continue
		}
		for _, e := range fileEnv(s) {
			if _, set := os.LookupEnv(e); set {
				return e
			}
		}
		return fileKey(key) + " (config file)"
	}
	return fileKey(key)
}

// secret reads a secret setting: the value itself, or the content of the
// file its _FILE form names (one trailing newline or space trimmed, as
// `echo token > file` leaves one). Both at once is an error.
func (r *reader) secret(key string) string {
	value, path := r.str(key), r.str(fileKey(key))
	switch {
	case path == "":
		return value
	case value != "":
		r.fail(key, fmt.Sprintf("is set and so is %s: set one of them", fileName(key)))
		return ""
	}
	name := fileName(key)
	f, err := os.Open(path)
	if err != nil {
		r.failNamed(name, fmt.Sprintf("cannot read the secret file: %v", err))
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		r.failNamed(name, fmt.Sprintf("cannot read the secret file %s: %v", path, err))
		return ""
	case len(data) > maxSecretFile:
		r.failNamed(name, fmt.Sprintf("%s is larger than %d bytes: not a token", path, maxSecretFile))
		return ""
	}
	token := string(bytes.TrimSpace(data))
	if token == "" || strings.ContainsAny(token, "\r\n") {
		r.failNamed(name, fmt.Sprintf("%s must hold the secret alone, on one line", path))
		return ""
	}
	return token
}
