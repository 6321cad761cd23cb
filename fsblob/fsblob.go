// Package fsblob keeps blobs as files in a directory (the embedded default,
// in the data dir). A blob is written to a temporary file, fsynced, renamed
// into place and its directory fsynced, so it is whole and durable before
// Put returns, and a reader never sees half of it.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/stridehq/stride/blob"
)

// Store is a directory of blobs.
type Store struct{ dir string }

var _ blob.Store = (*Store)(nil)

// Open uses dir, creating it if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("blob key %q: use 1-128 letters, digits, - or _", key)
	}
	return filepath.Join(s.dir, key), nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".tmp-"+key+"-*")
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, werr)
	}
	return syncDir(s.dir)
}

// syncDir makes a rename durable: the new name lives in the directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync blob dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync blob dir: %w", err)
	}
	return nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	path, err := s.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get blob %s: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	return data, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// List implements blob.Store. Temporary files that a crashed Put left
// behind, older than cutoff, are removed on the way: no key refers to them.
func (s *Store) List(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if len(out) >= limit {
			break
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(cutoff) {
			continue
		}
		if blob.ValidKey(e.Name()) {
			out = append(out, e.Name())
		} else if len(e.Name()) > 5 && e.Name()[:5] == ".tmp-" {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
	return out, nil
}
