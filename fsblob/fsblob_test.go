package fsblob_test

import (
	"testing"

	"github.com/stridehq/stride/blob"
	"github.com/stridehq/stride/blob/blobtest"
	"github.com/stridehq/stride/fsblob"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := fsblob.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
