package streamcodec

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/stridehq/stride/activity"
)

var nan = math.NaN()

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		s    *activity.Streams
	}{
		{"empty", &activity.Streams{}},
		{"empty but present columns", &activity.Streams{Time: []float64{}, LatLng: [][2]float64{}, Watts: []float64{}}},
		{"single point", &activity.Streams{
			Time: []float64{0}, LatLng: [][2]float64{{47.3769, 8.5417}}, Altitude: []float64{408.2},
			HeartRate: []float64{61}, Cadence: []float64{0}, Watts: []float64{0}, Velocity: []float64{0}, Distance: []float64{0},
		}},
		{"single missing point", &activity.Streams{Time: []float64{0}, HeartRate: []float64{nan}, LatLng: [][2]float64{{nan, nan}}}},
		{"all missing", &activity.Streams{Time: []float64{0, 1, 2}, HeartRate: []float64{nan, nan, nan}}},
		{"gaps at both ends", &activity.Streams{Time: []float64{0, 1, 2, 3, 4}, Watts: []float64{nan, 200, nan, 210, nan}}},
		{"half a position missing", &activity.Streams{Time: []float64{0, 1}, LatLng: [][2]float64{{nan, 8.5}, {47.1, nan}}}},
		{"negative and extreme coordinates", &activity.Streams{
			Time:   []float64{0, 1, 2, 3},
			LatLng: [][2]float64{{-90, -180}, {90, 180}, {-33.8688, 151.2093}, {0, -0.0000001}},
		}},
		{"huge jumps", &activity.Streams{
			Time:     []float64{-1e9, 1e9, 0.001, 4e12},
			Altitude: []float64{-400, 8848.86, -1e10, 1e10},
			Distance: []float64{0, 9e13, 0, 9e13},
		}},
		{"time only, no other column", &activity.Streams{Time: []float64{0, 1, 2, 3.5}}},
		{"no time column", &activity.Streams{HeartRate: []float64{120, 121}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, tt.name, tt.s, got)
		})
	}
}

// TestQuantization pins the documented unit of each column.
func TestQuantization(t *testing.T) {
	in := &activity.Streams{
		Time:      []float64{1.23456},
		LatLng:    [][2]float64{{47.123456789, -8.987654321}},
		Altitude:  []float64{408.234},
		HeartRate: []float64{150.6},
		Cadence:   []float64{85.26},
		Watts:     []float64{249.4},
		Velocity:  []float64{4.12345},
		Distance:  []float64{1234.5678},
	}
	want := &activity.Streams{
		Time:      []float64{1.235},
		LatLng:    [][2]float64{{47.1234568, -8.9876543}},
		Altitude:  []float64{408.23},
		HeartRate: []float64{151},
		Cadence:   []float64{85.3},
		Watts:     []float64{249},
		Velocity:  []float64{4.123},
		Distance:  []float64{1234.57},
	}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, g, w float64) {
		if math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: got %v, want %v", name, g, w)
		}
	}
	for _, c := range scalars {
		near(c.name, (*c.col(got))[0], (*c.col(want))[0])
	}
	near("latitude", got.LatLng[0][0], want.LatLng[0][0])
	near("longitude", got.LatLng[0][1], want.LatLng[0][1])
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		s    *activity.Streams
		want string
	}{
		{"nil", nil, "nil streams"},
		{"lengths differ", &activity.Streams{Time: []float64{0, 1}, HeartRate: []float64{100}}, "column heartrate has 1 points, other columns 2"},
		{"latlng length differs", &activity.Streams{Time: []float64{0, 1}, LatLng: [][2]float64{{1, 2}}}, "column latlng has 1 points"},
		{"infinity", &activity.Streams{Time: []float64{0, 1}, Watts: []float64{100, math.Inf(1)}}, "encode watts: sample 1: +Inf is out of range"},
		{"too large for the unit", &activity.Streams{Time: []float64{0}, LatLng: [][2]float64{{1e10, 0}}}, "encode latlng latitude: sample 0"},
		{"too many points", &activity.Streams{Time: make([]float64, MaxPoints+1)}, "1000001 points, more than the 1000000 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRoundTripProperty round-trips random streams: columns present or
// nil, NaN in runs or scattered or everywhere, random walks with huge
// jumps up to the edge of each column's range.
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 1000 {
		s := randomStreams(rng)
		b, err := Encode(s)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		checkEqual(t, "random", s, got)
	}
}

func randomStreams(rng *rand.Rand) *activity.Streams {
	var n int
	switch rng.IntN(6) {
	case 0:
		n = 0
	case 1:
		n = 1
	case 2:
		n = 2 + rng.IntN(5)
	default:
		n = rng.IntN(3000)
	}
	s := &activity.Streams{}
	for _, c := range scalars {
		if rng.IntN(4) > 0 {
			*c.col(s) = randomColumn(rng, n, c.scale)
		}
	}
	if rng.IntN(4) > 0 {
		lat, lon := randomColumn(rng, n, scaleDegree), randomColumn(rng, n, scaleDegree)
		s.LatLng = make([][2]float64, n)
		for i := range s.LatLng {
			s.LatLng[i] = [2]float64{lat[i], lon[i]}
		}
	}
	return s
}

// randomColumn is a random walk in the column's unit with occasional huge
// jumps, and missing samples in one of several patterns.
func randomColumn(rng *rand.Rand, n int, scale float64) []float64 {
	limit := 0.99 * maxQuant / scale
	col := make([]float64, n)
	v := rng.NormFloat64() * 1000
	for i := range col {
		switch rng.IntN(100) {
		case 0:
			v = (rng.Float64()*2 - 1) * limit // anywhere in range
		case 1:
			v = -v
		default:
			v += rng.NormFloat64() * 10
		}
		v = math.Max(-limit, math.Min(limit, v))
		col[i] = v
	}
	switch rng.IntN(5) {
	case 0: // scattered
		for i := range col {
			if rng.IntN(10) == 0 {
				col[i] = nan
			}
		}
	case 1: // runs
		for i := 0; i < n; i += 1 + rng.IntN(50) {
			for j := i; j < min(n, i+rng.IntN(20)); j++ {
				col[j] = nan
			}
		}
	case 2: // everything missing
		for i := range col {
			col[i] = nan
		}
	}
	return col
}

// TestDecodeCorrupt checks that every kind of damage gives an error
// wrapping ErrCorrupt (and, by running at all, no panic).
func TestDecodeCorrupt(t *testing.T) {
	good, err := Encode(&activity.Streams{Time: []float64{0, 1, 2}, HeartRate: []float64{100, nan, 102}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"nil", nil, "bad magic"},
		{"magic only", []byte("STR"), "bad magic"},
		{"wrong magic", append([]byte("XTR"), good[3:]...), "bad magic"},
		{"future version", append([]byte("STR\x02"), good[4:]...), "format version 2"},
		{"no point count", []byte("STR\x01"), "point count"},
		{"too many points", binary.AppendUvarint([]byte("STR\x01"), MaxPoints+1), "more than the 1000000 allowed"},
		{"truncated", good[:len(good)-3], "remain"},
		{"column without length", []byte("STR\x01\x03\x01"), "column length"},
		{"ids not increasing", blob(3, column(colHeartRate, series(1, nil, 1, 2, 3)), column(colTime, series(1, nil, 1, 2, 3))), "ids must increase"},
		{"repeated id", blob(3, column(colTime, series(1, nil, 1, 2, 3)), column(colTime, series(1, nil, 1, 2, 3))), "ids must increase"},
		{"not zstd", append(binary.AppendUvarint([]byte("STR\x01\x03\x01"), 3), 1, 2, 3), "zstd frame header"},
		{"frame without content size", blob(3, rawColumn(colTime, frameWithoutSize(series(1, nil, 1, 2, 3)))), "without content size"},
		{"frame larger than the points allow", blob(1, column(colTime, make([]byte, 200))), "more than 1 points can take"},
		{"bad order", blob(3, column(colTime, series(3, nil, 1, 2, 3))), "delta order 3"},
		{"too few values", blob(3, column(colTime, series(1, nil, 1, 2))), "3 values in 2 bytes"},
		{"extra bytes", blob(3, column(colTime, append(series(1, nil, 1, 2, 3), 0))), "bytes after its values"},
		{"runs short of n", blob(3, column(colTime, series(1, []uint64{1, 1}, 1))), "cover 2 of 3 points"},
		{"runs beyond n", blob(3, column(colTime, series(1, []uint64{2, 5}, 1, 2))), "cover more than 3 points"},
		{"empty run after the first", blob(3, column(colTime, series(1, []uint64{1, 0, 2}, 1, 2, 3))), "empty presence run"},
		{"too many runs", blob(1, column(colTime, series(1, []uint64{0, 1, 0}))), "presence runs for 1 points"},
		{"value out of range", blob(1, column(colTime, series(1, nil, maxQuant+1))), "out of range"},
		{"sum out of range", blob(2, column(colTime, series(1, nil, maxQuant, 1))), "value 9007199254740993 out of range"},
		{"second difference out of range", blob(1, column(colTime, series(2, nil, 4*maxQuant+1))), "second difference"},
		{"latlng without longitudes", blob(1, column(colLatLng, series(1, nil, 1))), "longitude: corrupt stream blob: series truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode(tt.b)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", s)
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want ErrCorrupt containing %q", err, tt.want)
			}
		})
	}
}

// TestDecodeSkipsUnknownColumns checks the forward compatibility the
// format promises: a column id this version does not know is ignored.
func TestDecodeSkipsUnknownColumns(t *testing.T) {
	b := blob(2, column(colTime, series(1, nil, 0, 1000)), rawColumn(200, []byte("whatever a later revision stores")))
	s, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "unknown column", &activity.Streams{Time: []float64{0, 1}}, s)
}

// blob, column, rawColumn and series build blobs by hand, for damage that
// Encode would never produce.
func blob(n uint64, columns ...[]byte) []byte {
	b := binary.AppendUvarint([]byte("STR\x01"), n)
	for _, c := range columns {
		b = append(b, c...)
	}
	return b
}

func column(id byte, payload []byte) []byte {
	enc, _ := codecs()
	return rawColumn(id, enc.EncodeAll(payload, nil))
}

func rawColumn(id byte, frame []byte) []byte {
	return append(binary.AppendUvarint([]byte{id}, uint64(len(frame))), frame...)
}

// series codes values (already differences at the given order) after
// the presence runs (nil: all present).
func series(order byte, runs []uint64, values ...int64) []byte {
	b := []byte{order}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	for _, r := range runs {
		b = binary.AppendUvarint(b, r)
	}
	for _, v := range values {
		b = binary.AppendVarint(b, v)
	}
	return b
}

// frameWithoutSize compresses with an encoder that, for small inputs,
// leaves the content size out of the frame header.
func frameWithoutSize(payload []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithSingleSegment(false))
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	return enc.EncodeAll(payload, nil)
}

func TestDecodeTypes(t *testing.T) {
	s := &activity.Streams{
		Time: []float64{0, 1}, LatLng: [][2]float64{{1, 2}, {1.5, 2.5}},
		HeartRate: []float64{100, 101}, Watts: []float64{200, nan},
	}
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		types []string
		want  *activity.Streams
	}{
		{[]string{TypeTime}, &activity.Streams{Time: s.Time}},
		{[]string{TypeLatLng, TypeWatts}, &activity.Streams{LatLng: s.LatLng, Watts: s.Watts}},
		{[]string{TypeCadence}, &activity.Streams{}}, // known but absent
		{nil, &activity.Streams{}},
		{Types(), s},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.types, ","), func(t *testing.T) {
			got, err := DecodeTypes(b, tt.types)
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "decode", tt.want, got)
			sel, err := Select(s, tt.types)
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "select", tt.want, sel)
		})
	}
	if _, err := DecodeTypes(b, []string{"heart_rate"}); err == nil || !strings.Contains(err.Error(), `unknown stream type "heart_rate"`) {
		t.Fatalf("DecodeTypes with an unknown type: got error %v", err)
	}
	if _, err := Select(s, []string{"velocity"}); err == nil || !strings.Contains(err.Error(), `unknown stream type "velocity"`) {
		t.Fatalf("Select with an unknown type: got error %v", err)
	}
}

// TestConcurrent runs encoders and decoders at once: the shared zstd
// encoder and decoder must be safe for it (run with -race).
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 50 {
				s := randomStreams(rng)
				b, err := Encode(s)
				if err != nil {
					errs <- err
					return
				}
				got, err := Decode(b)
				if err != nil {
					errs <- err
					return
				}
				if len(got.Time) != len(s.Time) {
					errs <- errors.New("time length differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRangeBound checks both sides of the ±2^53-unit bound: values at the
// bound survive a round trip (and re-encode after decoding, despite float
// rounding), values clearly beyond are rejected.
func TestRangeBound(t *testing.T) {
	for _, c := range scalars {
		edge := maxQuant / c.scale
		s := &activity.Streams{}
		*c.col(s) = []float64{edge, -edge, edge}
		b, err := Encode(s)
		if err != nil {
			t.Fatalf("%s at the bound: %v", c.name, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s at the bound: %v", c.name, err)
		}
		checkEqual(t, c.name, s, got)
		if _, err := Encode(got); err != nil {
			t.Fatalf("%s: decoded bound does not re-encode: %v", c.name, err)
		}
		*c.col(s) = []float64{2 * edge}
		if _, err := Encode(s); err == nil {
			t.Fatalf("%s: twice the bound encoded", c.name)
		}
	}
}
