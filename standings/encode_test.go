package standings

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestAppendStandingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []Standing{
		{Rank: 1, UserID: "01J0ABCDEF", Name: "Ana", Value: 42195},
		{Rank: 0, UserID: "", Name: "", Value: 0},
		{Rank: -3, UserID: "x", Name: `quote " back \ slash`, Value: -0.5},
		{Rank: 7, UserID: "<script>&amp;", Name: "tab\tnew\nline\rret\bbs\fff\x00\x1f\x7f", Value: 1e-7},
		{Rank: 8, UserID: "bad \xff utf8 \xe2\x82", Name: "sep \u2028 \u2029 é 日本 🏃", Value: 1e21},
		{Rank: 9, Name: "big", Value: 123456789012345680000},
		{Rank: 10, Name: "tiny", Value: 5e-324},
		{Rank: 11, Name: "neg exp", Value: -1.5e-9},
		{Rank: 12, Name: "max", Value: math.MaxFloat64},
	} {
		checkStanding(t, s)
	}
}

func TestAppendPageMatchesEncodingJSON(t *testing.T) {
	cursor := "b2Zmc2V0OjEwMA<>"
	me := Standing{Rank: 3, UserID: "u3", Name: "Me & you", Value: 12.25}
	for _, p := range []*BoardPage{
		nil,
		{Board: BoardInfo{Type: "distance", Sport: "all", Period: "week", PeriodKey: "2026-W47", From: "2026-11-16", To: "2026-11-23",
			Scope: "global", Indoor: "include", Unit: "m", Athletes: 1000000},
			Entries: []Standing{{Rank: 1, UserID: "u1", Name: "A", Value: 3}, me}, Me: &me, NextCursor: &cursor},
		{Board: BoardInfo{Type: "activities", Period: "all"}, Entries: []Standing{}},
		{Board: BoardInfo{Type: "activities", Period: "all"}}, // nil entries
	} {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.AppendJSON(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendJSON:\n got %s, %v\nwant %s", got, err, want)
		}
	}
}

func TestAppendStandingRefusesNaN(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := appendStanding(nil, &Standing{Value: v}); err == nil {
			t.Errorf("value %v encoded without error", v)
		}
	}
}

func FuzzAppendStanding(f *testing.F) {
	f.Add(1, "01J0ABCDEF", "Ana <&>", 42195.5)
	f.Add(-1, "\xff\u2028", "\x00\"\\", 1e-7)
	f.Fuzz(func(t *testing.T, rank int, userID, name string, value float64) {
		if math.IsNaN(value) || math.IsInf(value, 0) {
			return
		}
		checkStanding(t, Standing{Rank: rank, UserID: userID, Name: name, Value: value})
	})
}

func checkStanding(t *testing.T, s Standing) {
	t.Helper()
	want, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendStanding([]byte("prefix"), &s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Errorf("appendStanding(%#v)\n got %s\nwant %s", s, got[len("prefix"):], want)
	}
	list := []Standing{s, s}
	wantList, _ := json.Marshal(list)
	gotList, err := appendStandings(nil, list)
	if err != nil || !bytes.Equal(gotList, wantList) {
		t.Errorf("appendStandings: got %s, %v; want %s", gotList, err, wantList)
	}
}
