package streamcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/stridehq/stride/activity"
)

// Version is the format version Encode writes and Decode reads.
const Version = 1

// MaxPoints caps the points of a blob, as activity.DefaultLimits caps the
// points of an upload, so that a hostile blob cannot make Decode allocate
// more than a few dozen megabytes.
const MaxPoints = 1_000_000

var magic = [3]byte{'S', 'T', 'R'}

// ErrCorrupt is wrapped by every Decode error caused by the blob itself
// (as opposed to a failure of the decompressor's setup).
var ErrCorrupt = errors.New("corrupt stream blob")

// Column ids, in the order they are written.
const (
	colTime byte = iota + 1
	colLatLng
	colAltitude
	colHeartRate
	colCadence
	colWatts
	colVelocity
	colDistance
)

// Units per SI unit of each column (see the package doc for why).
const (
	scaleTime      = 1e3 // ms
	scaleDegree    = 1e7 // 1e-7 degree
	scaleAltitude  = 1e2 // cm
	scaleHeartRate = 1   // bpm
	scaleCadence   = 1e1 // 0.1 rpm or spm
	scaleWatts     = 1   // W
	scaleVelocity  = 1e3 // mm/s
	scaleDistance  = 1e2 // cm
)

// maxQuant bounds quantized values so that their differences and
// differences of differences never overflow an int64, and so that they
// convert back to float64 exactly.
const maxQuant = 1 << 53

// slop is how far beyond ±maxQuant a value may round and be clamped back:
// at 2^53 the float product v*scale is only exact to a few units.
const slop = 16

// scalar is one float64 column of Streams with its id and unit.
type scalar struct {
	id    byte
	name  string
	scale float64
	col   func(*activity.Streams) *[]float64
}

// scalars are the float64 columns; LatLng is handled on its own.
var scalars = [...]scalar{
	{colTime, TypeTime, scaleTime, func(s *activity.Streams) *[]float64 { return &s.Time }},
	{colAltitude, TypeAltitude, scaleAltitude, func(s *activity.Streams) *[]float64 { return &s.Altitude }},
	{colHeartRate, TypeHeartRate, scaleHeartRate, func(s *activity.Streams) *[]float64 { return &s.HeartRate }},
	{colCadence, TypeCadence, scaleCadence, func(s *activity.Streams) *[]float64 { return &s.Cadence }},
	{colWatts, TypeWatts, scaleWatts, func(s *activity.Streams) *[]float64 { return &s.Watts }},
	{colVelocity, TypeVelocity, scaleVelocity, func(s *activity.Streams) *[]float64 { return &s.Velocity }},
	{colDistance, TypeDistance, scaleDistance, func(s *activity.Streams) *[]float64 { return &s.Distance }},
}

// codecs holds the zstd encoder and decoder. Both are safe for concurrent
// EncodeAll/DecodeAll and never change once built; building them lazily
// keeps their buffers out of programs that import but never use the codec.
var codecs = sync.OnceValues(func() (*zstd.Encoder, *zstd.Decoder) {
	// The options are constants, so an error is a programming error.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		// A checksum is useless here: the store has its own integrity,
		// and Decode validates every field anyway.
		zstd.WithEncoderCRC(false),
		// Always write the content size (zstd omits it for small frames
		// otherwise): Decode needs it to size and bound its buffer.
		zstd.WithSingleSegment(true),
	)
	if err != nil {
		panic(fmt.Sprintf("streamcodec: zstd encoder: %v", err))
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderMaxMemory(uint64(maxPayloadSize(MaxPoints))),
		// DecodeAll then never writes past the capacity Decode gives it,
		// which Decode derives from the point count.
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		panic(fmt.Sprintf("streamcodec: zstd decoder: %v", err))
	}
	return enc, dec
})

// maxSeriesSize bounds the encoded size of one series of n samples: the
// order byte, the run count, runs costing at most one byte per sample they
// cover (plus a leading empty run), and at most 9 bytes per value (a
// zigzag varint of a second difference within ±2^55).
func maxSeriesSize(n int) int { return 1 + binary.MaxVarintLen64 + 1 + n + 9*n }

// maxPayloadSize bounds the payload of a column of n points: two series
// (latlng).
func maxPayloadSize(n int) int { return 2 * maxSeriesSize(n) }

// Encode writes the streams in the format described in the package doc.
// All non-nil columns must have the same length, at most MaxPoints; NaN
// marks a missing sample. It fails on ±Inf and on values too large for
// their unit.
func Encode(s *activity.Streams) ([]byte, error) {
	if s == nil {
		return nil, errors.New("streamcodec: encode: nil streams")
	}
	n, err := pointCount(s)
	if err != nil {
		return nil, fmt.Errorf("streamcodec: encode: %w", err)
	}
	e := encoder{out: make([]byte, 0, 64+n*5)}
	e.out = append(e.out, magic[:]...)
	e.out = append(e.out, Version)
	e.out = binary.AppendUvarint(e.out, uint64(n))
	// Columns go in id order: time, latlng, then the other scalars.
	if err := e.scalar(scalars[0], s.Time); err != nil {
		return nil, err
	}
	if err := e.latLng(s.LatLng); err != nil {
		return nil, err
	}
	for _, c := range scalars[1:] {
		if err := e.scalar(c, *c.col(s)); err != nil {
			return nil, err
		}
	}
	return e.out, nil
}

// pointCount returns the common length of the non-nil columns.
func pointCount(s *activity.Streams) (int, error) {
	n := -1
	check := func(name string, l int, isNil bool) error {
		if isNil {
			return nil
		}
		if n < 0 {
			n = l
		} else if l != n {
			return fmt.Errorf("column %s has %d points, other columns %d", name, l, n)
		}
		return nil
	}
	for _, c := range scalars {
		col := *c.col(s)
		if err := check(c.name, len(col), col == nil); err != nil {
			return 0, err
		}
	}
	if err := check(TypeLatLng, len(s.LatLng), s.LatLng == nil); err != nil {
		return 0, err
	}
	if n > MaxPoints {
		return 0, fmt.Errorf("%d points, more than the %d allowed", n, MaxPoints)
	}
	return max(n, 0), nil
}

// encoder holds the blob being written and scratch buffers reused across
// columns.
type encoder struct {
	out     []byte
	payload []byte    // the current column's payload, before compression
	frame   []byte    // the current column's compressed payload
	q       []int64   // quantized present values of the current series
	runs    []int     // presence runs of the current series
	vals    []float64 // latitudes, then longitudes
}

func (e *encoder) scalar(c scalar, col []float64) error {
	if col == nil {
		return nil
	}
	e.payload = e.payload[:0]
	if err := e.series(col, c.scale); err != nil {
		return fmt.Errorf("streamcodec: encode %s: %w", c.name, err)
	}
	e.endColumn(c.id)
	return nil
}

func (e *encoder) latLng(ll [][2]float64) error {
	if ll == nil {
		return nil
	}
	e.payload = e.payload[:0]
	// Latitude and longitude are two series, not interleaved, so that each
	// delta stream is smooth and zstd sees similar bytes together.
	e.vals = append(e.vals[:0], make([]float64, len(ll))...)
	for k, what := range [2]string{"latitude", "longitude"} {
		for i := range ll {
			e.vals[i] = ll[i][k]
		}
		if err := e.series(e.vals, scaleDegree); err != nil {
			return fmt.Errorf("streamcodec: encode %s %s: %w", TypeLatLng, what, err)
		}
	}
	e.endColumn(colLatLng)
	return nil
}

// endColumn compresses the payload and appends it with its id and length.
func (e *encoder) endColumn(id byte) {
	zenc, _ := codecs()
	e.frame = zenc.EncodeAll(e.payload, e.frame[:0])
	e.out = append(e.out, id)
	e.out = binary.AppendUvarint(e.out, uint64(len(e.frame)))
	e.out = append(e.out, e.frame...)
}

// series appends one series to the payload (see the package doc).
func (e *encoder) series(vals []float64, scale float64) error {
	q, runs := e.q[:0], e.runs[:0]
	present, run := true, 0
	for i, v := range vals {
		if math.IsNaN(v) {
			if present {
				runs = append(runs, run)
				present, run = false, 0
			}
		} else {
			if !present {
				runs = append(runs, run)
				present, run = true, 0
			}
			x := math.Round(v * scale)
			if !(x >= -maxQuant-slop && x <= maxQuant+slop) { // also catches ±Inf
				return fmt.Errorf("sample %d: %v is out of range", i, v)
			}
			// A value decoded from the bound can come back a unit or two
			// beyond it through float rounding; it must still encode.
			x = math.Max(-maxQuant, math.Min(maxQuant, x))
			q = append(q, int64(x))
		}
		run++
	}
	e.q, e.runs = q, runs
	order := byte(1)
	if deltaCost(q, 2) < deltaCost(q, 1) {
		order = 2
	}
	b := append(e.payload, order)
	if len(runs) == 0 {
		b = append(b, 0) // all present
	} else {
		b = binary.AppendUvarint(b, uint64(len(runs)+1))
		for _, r := range runs {
			b = binary.AppendUvarint(b, uint64(r))
		}
		b = binary.AppendUvarint(b, uint64(run))
	}
	var prev, prevDelta int64
	for _, x := range q {
		d := x - prev
		prev = x
		if order == 2 {
			d, prevDelta = d-prevDelta, d
		}
		b = binary.AppendVarint(b, d)
	}
	e.payload = b
	return nil
}

// deltaCost is the varint size of the series coded at an order, a good
// enough proxy for its size after zstd to choose the order.
func deltaCost(q []int64, order int) int {
	var prev, prevDelta int64
	cost := 0
	for _, x := range q {
		d := x - prev
		prev = x
		if order == 2 {
			d, prevDelta = d-prevDelta, d
		}
		cost += varintLen(d)
	}
	return cost
}

func varintLen(d int64) int {
	u := uint64(d<<1) ^ uint64(d>>63) // zigzag, as binary.AppendVarint
	l := 1
	for u >= 0x80 {
		u >>= 7
		l++
	}
	return l
}
