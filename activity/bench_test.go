package activity

import "testing"

// benchmarkParseAnalyze measures parse + clean + analyse end to end on a
// synthesized one-hour, 1 Hz activity and reports points per second.
func benchmarkParseAnalyze(b *testing.B, data []byte, name string) {
	const points = 3600
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	// The time-zone boundaries load once per process (about a second) on
	// the first lookup; that is start-up cost, not per-file cost.
	if _, err := zoneFinder(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rec, _, err := Parse(data, FileHint{Filename: name}, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if a := Analyze(rec, Athlete{}); a.DistanceM == 0 {
			b.Fatal("no distance")
		}
	}
	b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
}

func BenchmarkParseAnalyzeFIT(b *testing.B)  { benchmarkParseAnalyze(b, synthFIT(3600), "bench.fit") }
func BenchmarkParseAnalyzeGPX(b *testing.B)  { benchmarkParseAnalyze(b, synthGPX(3600), "bench.gpx") }
func BenchmarkParseAnalyzeTCX(b *testing.B)  { benchmarkParseAnalyze(b, synthTCX(3600), "bench.tcx") }
func BenchmarkParseAnalyzeJSON(b *testing.B) { benchmarkParseAnalyze(b, synthJSON(3600), "bench.json") }

// BenchmarkAnalyze measures the analysis alone on a parsed FIT hour.
func BenchmarkAnalyze(b *testing.B) {
	rec, _, err := Parse(synthFIT(3600), FileHint{}, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(rec, Athlete{})
	}
	b.ReportMetric(float64(3600*b.N)/b.Elapsed().Seconds(), "points/s")
}
