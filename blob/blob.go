// Package blob defines the port for large raw uploads kept outside the
// database: written and made durable before the transaction that refers to
// them, read by the worker, removed with their upload. Adapters: fsblob
// (files in the data dir). The suite in blobtest checks any adapter.
package blob

import (
	"context"
	"fmt"
	"time"
)

// Store keeps immutable blobs by key.
type Store interface {
	// Put stores data under key; when it returns nil the blob survives a
	// crash. Putting an existing key replaces it.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns a blob, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes a blob; deleting a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// List returns up to limit keys of blobs written before cutoff, for the
	// sweeper that removes blobs no upload refers to.
	List(ctx context.Context, cutoff time.Time, limit int) ([]string, error)
}

// ErrNotFound is wrapped by Get for a missing key.
var ErrNotFound = fmt.Errorf("blob not found")

// ValidKey reports whether key is safe as a name in any backend: 1 to 128
// letters, digits, '-' or '_' — so no key can climb out of a directory.
func ValidKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
