package activity

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDebugDump(t *testing.T) {
	f := os.Getenv("DUMP")
	if f == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(filepath.Join(corpusDir(t), f))
	rec, w, err := Parse(data, FileHint{Filename: f}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warnings %+v", w)
	recs := []*Recording{rec}
	if len(rec.Children) > 0 {
		recs = rec.Children
	}
	for _, r := range recs {
		n := len(r.Points)
		t.Logf("sport %s start %v points %d summary %+v", r.Sport, r.StartTime, n, r.Summary)
		if n > 0 {
			t.Logf("first %v last %v firstdist %v lastdist %v", r.Points[0].Time, r.Points[n-1].Time, r.Points[0].Distance, r.Points[n-1].Distance)
		}
		for _, e := range r.Timer {
			t.Logf("event %v start=%v", e.Time, e.Start)
		}
	}
}
