package keyseal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrFileMode is returned by LoadFile for a key file that its group or
// others may read or write.
var ErrFileMode = errors.New("keyseal: key file open to group or others (want mode 0600)")

// LoadFile reads a key-encryption key from path: a regular file of exactly
// KeySize bytes that neither group nor others may read or write. A symbolic
// link is followed, and the file it leads to is checked.
func LoadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyseal: key file: %w", err)
	}
	defer f.Close()
	// Check the file opened, not the path: it cannot be swapped between
	// the check and the read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyseal: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyseal: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o", ErrFileMode, path, perm)
	}
	kek := make([]byte, KeySize+1)
	n, err := io.ReadFull(f, kek)
	switch {
	case err == nil: // KeySize+1 bytes: too long
		return nil, fmt.Errorf("keyseal: key file %s is longer than %d bytes", path, KeySize)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		if n != KeySize {
			return nil, fmt.Errorf("keyseal: key file %s holds %d bytes, want %d", path, n, KeySize)
		}
	default:
		return nil, fmt.Errorf("keyseal: key file: %w", err)
	}
	return kek[:KeySize], nil
}

// LoadOrCreateFile returns the key-encryption key in path, first creating
// the file with KeySize random bytes and mode 0600 when there is none.
// created reports whether this call made it.
//
// The file appears complete or not at all: the key is written and synced
// to a temporary file (created exclusively, mode 0600) in the same
// directory, which is then hard-linked to path. Linking fails when path
// exists, so two processes starting at once agree on one key: the loser
// reads the winner's file.
func LoadOrCreateFile(path string) (kek []byte, created bool, err error) {
	kek, err = LoadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return kek, false, err
	}
	kek = make([]byte, KeySize)
	if _, err := rand.Read(kek); err != nil {
		return nil, false, fmt.Errorf("keyseal: key file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // O_EXCL, mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("keyseal: create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(kek)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("keyseal: write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			kek, err := LoadFile(path)
			return kek, false, err
		}
		return nil, false, fmt.Errorf("keyseal: create key file: %w", err)
	}
	// Make the new name durable before anything is sealed under the key.
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return nil, false, fmt.Errorf("keyseal: sync %s: %w", dir, err)
		}
	}
	return kek, true, nil
}
