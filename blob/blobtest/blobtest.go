// Package blobtest is the conformance suite of the blob port.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/blob"
)

// Run checks an adapter; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()
	t.Run("PutGetDelete", func(t *testing.T) {
		s := newStore(t)
		data := bytes.Repeat([]byte("fit!"), 100_000)
		if err := s.Put(ctx, "upload-1", data); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "upload-1")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %d bytes, %v", len(got), err)
		}
		if err := s.Put(ctx, "upload-1", []byte("replaced")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "upload-1"); string(got) != "replaced" {
			t.Fatalf("after replace: %q", got)
		}
		for range 2 {
			if err := s.Delete(ctx, "upload-1"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, "upload-1"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
	})
	t.Run("RefusesUnsafeKeys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"", "../etc/passwd", "a/b", ".", "x y", string(make([]byte, 200))} {
			if err := s.Put(ctx, key, []byte("x")); err == nil {
				t.Errorf("Put accepted key %q", key)
			}
			if _, err := s.Get(ctx, key); err == nil {
				t.Errorf("Get accepted key %q", key)
			}
		}
	})
	t.Run("ListOlderThan", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			if err := s.Put(ctx, fmt.Sprintf("k%d", i), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		future := time.Now().Add(time.Hour)
		keys, err := s.List(ctx, future, 3)
		if err != nil || len(keys) != 3 {
			t.Fatalf("List(limit 3) = %v, %v", keys, err)
		}
		all, _ := s.List(ctx, future, 100)
		if len(all) != 5 {
			t.Fatalf("List = %v", all)
		}
		if none, _ := s.List(ctx, time.Now().Add(-time.Hour), 100); len(none) != 0 {
			t.Fatalf("blobs listed as older than an hour ago: %v", none)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				key := fmt.Sprintf("c%d", i%4)
				_ = s.Put(ctx, key, bytes.Repeat([]byte{byte(i)}, 1000))
				if got, err := s.Get(ctx, key); err == nil && len(got) != 1000 {
					t.Errorf("torn read of %s: %d bytes", key, len(got))
				}
			})
		}
		wg.Wait()
	})
}
