package streamcodec

import (
	"testing"
)

// FuzzDecode holds Decode to its promise on any input: no panic, and a
// successful decode yields consistent streams that re-encode to a blob
// decoding to the same values. Seeds are real corpus streams, downsampled
// so that the fuzzer mutates small inputs fast, plus a full-size one.
func FuzzDecode(f *testing.F) {
	for i, c := range loadCorpus(f) {
		b, err := Encode(Downsample(c.streams, 64))
		if err != nil {
			f.Fatalf("%s: %v", c.name, err)
		}
		f.Add(b)
		if i == 0 {
			b, err := Encode(c.streams)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		n := shortest(s)
		if n != longest(s) {
			t.Fatalf("decoded columns of different lengths")
		}
		again, err := Encode(s)
		if err != nil {
			t.Fatalf("decoded streams do not encode: %v", err)
		}
		s2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded streams do not decode: %v", err)
		}
		// Decoded values are already quantized, so the second round trip
		// must give them back within float rounding, NaN where NaN.
		checkEqual(t, "re-encoded", s, s2)
	})
}
