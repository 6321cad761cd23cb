package streamcodec

import (
	"testing"
)

// The benchmarks run over every corpus activity per iteration and report
// points per second and the stored bytes per point.

func BenchmarkEncode(b *testing.B) {
	corpus := loadCorpus(b)
	var points, size int
	for _, c := range corpus {
		points += len(c.streams.Time)
	}
	b.ReportAllocs()
	for b.Loop() {
		size = 0
		for _, c := range corpus {
			blob, err := Encode(c.streams)
			if err != nil {
				b.Fatal(err)
			}
			size += len(blob)
		}
	}
	b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(size)/float64(points), "B/point")
}

func BenchmarkDecode(b *testing.B) {
	benchmarkDecode(b, nil)
}

// BenchmarkDecodeTypes decodes only what a chart of heart rate over
// distance needs.
func BenchmarkDecodeTypes(b *testing.B) {
	benchmarkDecode(b, []string{TypeDistance, TypeHeartRate})
}

func benchmarkDecode(b *testing.B, types []string) {
	corpus := loadCorpus(b)
	blobs := make([][]byte, len(corpus))
	var points int
	for i, c := range corpus {
		blob, err := Encode(c.streams)
		if err != nil {
			b.Fatal(err)
		}
		blobs[i] = blob
		points += len(c.streams.Time)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, blob := range blobs {
			var err error
			if types == nil {
				_, err = Decode(blob)
			} else {
				_, err = DecodeTypes(blob, types)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
}

func BenchmarkDownsample(b *testing.B) {
	s := ride(36000, 100) // ten hours at 1 Hz
	b.ReportAllocs()
	for b.Loop() {
		Downsample(s, 1000)
	}
	b.ReportMetric(float64(36000*b.N)/b.Elapsed().Seconds(), "points/s")
}
