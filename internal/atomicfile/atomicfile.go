// Package atomicfile writes files so that a crash or power loss leaves either
// the old content or the new, never a torn mix: temp file in the same folder,
// fsync, rename, fsync the folder. A path that is a symbolic link is written
// through to its target (Kubernetes mounts Secrets and ConfigMaps as links):
// the link stays a link and the file it names gets the new content.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// maxLinks bounds how many links Resolve follows (Linux's own limit is 40).
const maxLinks = 40

// Resolve follows path's symbolic links to the file they name, which need not
// exist yet (a dangling link names where the file will be created). A path
// that is not a link is returned as it is.
func Resolve(path string) (string, error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", fmt.Errorf("%s: more than %d symbolic links", path, maxLinks)
}

// Write replaces path (or the file its links name) with data, created with
// mode perm (0600 for secrets).
func Write(path string, data []byte, perm os.FileMode) error {
	target, err := Resolve(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmpName, target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	committed = true
	return SyncDir(dir)
}

// Rename moves from over to (over the file to's links name, when it is a
// link) and makes the rename durable.
func Rename(from, to string) error {
	target, err := Resolve(to)
	if err != nil {
		return err
	}
	if err := os.Rename(from, target); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(target))
}

// SyncDir fsyncs a folder so that a rename in it survives power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// CheckWritable proves that path (or the file its links name) can be
// replaced by Write: a temp file is created in its folder and removed. The
// rename needs the folder, not the old file, so the folder is what is
// checked (a read-only mount, a folder owned by another user). It changes
// nothing.
func CheckWritable(path string) error {
	target, err := Resolve(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".probe-*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// Exposed says why the file at path, which holds a secret, is not private
// to its owner ("" when it is, or when it cannot be read).
func Exposed(path string) string {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("mode %04o: readable by others; fix with chmod 600", fi.Mode().Perm())
	}
	return ""
}
