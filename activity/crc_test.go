package activity

import (
	"math/rand/v2"
	"testing"

	"github.com/muktihari/fit/kit/hash/crc16"
)

// TestFITCRCMatchesSDK checks the table CRC against the FIT SDK's reference
// algorithm (as implemented by muktihari/fit) on random inputs.
func TestFITCRCMatchesSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		h := crc16.New()
		_, _ = h.Write(b)
		if got, want := fitCRC(b), h.Sum16(); got != want {
			t.Fatalf("len %d: crc %#04x, SDK %#04x", n, got, want)
		}
	}
	// The example from the FIT SDK header documentation.
	if got := fitCRC([]byte{14, 32, 84, 8, 214, 204, 9, 0, 46, 70, 73, 84}); got != 12856 {
		t.Fatalf("header CRC %d, want 12856", got)
	}
}
