// Package stride holds the domain types and error codes shared by every layer
// of Stride: the HTTP API, the application services and the storage adapters.
// It has no dependencies on any of them, so each adapter can be read on its own.
package stride

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

// idEncoding is base32 in Crockford's alphabet: no I, L, O or U, so ids survive
// being read aloud, and its letters are in ASCII order, so ids sort like their
// bytes.
var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewID returns a new opaque identifier: 26 characters, a millisecond
// timestamp followed by 80 random bits. Ids sort by creation time, which lets
// lists paginate on the id alone and keeps B-tree inserts at the right edge.
func NewID(now time.Time) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(raw[6:]) // documented never to fail since Go 1.24
	return idEncoding.EncodeToString(raw[:])
}
