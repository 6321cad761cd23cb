package activity

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dumpRecording prints a recording with its children; fmt prints NaN
// (Missing) as NaN, so equal recordings print equal, unlike reflect.DeepEqual.
func dumpRecording(r *Recording) string {
	var b strings.Builder
	children := r.Children
	c := *r
	c.Children = nil
	fmt.Fprintf(&b, "%+v\n", c)
	for _, ch := range children {
		b.WriteString(dumpRecording(ch))
	}
	return b.String()
}

// TestFITFastMatchesSlow decodes every FIT file of the corpus (good and
// bad) and synthesized ones with both paths: where the fast path applies,
// it must give exactly the recording of the library's general decoder.
func TestFITFastMatchesSlow(t *testing.T) {
	root := corpusDir(t)
	files, _ := filepath.Glob(filepath.Join(root, "fit", "*.fit"))
	bad, _ := filepath.Glob(filepath.Join(root, "bad", "*.fit"))
	inputs := map[string][]byte{"synth-3600": synthFIT(3600), "synth-1": synthFIT(1)}
	for _, f := range append(files, bad...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = data
	}
	fast := 0
	for name, data := range inputs {
		if len(data) < 14 || string(data[8:12]) != ".FIT" {
			continue
		}
		fc := &fitCollector{maxPoints: 1 << 20, maxSessions: 64}
		if !fitFast(data, fc) {
			continue
		}
		fast++
		sc := &fitCollector{maxPoints: 1 << 20, maxSessions: 64}
		if err := fitSlow(data, sc); err != nil {
			t.Errorf("%s: the fast path accepted a file the general decoder fails on: %v", name, err)
			continue
		}
		if fc.recordsWithoutTime != sc.recordsWithoutTime || fc.positionsAtNullIsland != sc.positionsAtNullIsland {
			t.Errorf("%s: counters differ", name)
		}
		if got, want := dumpRecording(fc.build()), dumpRecording(sc.build()); got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			from := max(i-300, 0)
			t.Errorf("%s: fast path differs from the general decoder at byte %d\nfast: …%.400s\nslow: …%.400s", name, i, got[from:], want[from:])
		}
	}
	if fast < len(files)*3/4 {
		t.Errorf("fast path applied to only %d of %d inputs", fast, len(inputs))
	}
	t.Logf("fast path applied to %d of %d inputs", fast, len(inputs))
}

// TestFITFastFallsBack checks inputs the fast path must hand over.
func TestFITFastFallsBack(t *testing.T) {
	good := synthFIT(10)
	for name, data := range map[string][]byte{
		"truncated":      good[:len(good)/2],
		"trailing bytes": append(append([]byte{}, good...), 1, 2, 3),
	} {
		if fitFast(data, &fitCollector{maxPoints: 1 << 20, maxSessions: 64}) {
			t.Errorf("%s: fast path accepted it", name)
		}
	}
	if !fitFast(good, &fitCollector{maxPoints: 1 << 20, maxSessions: 64}) {
		t.Error("fast path refused a well-formed file")
	}
}
