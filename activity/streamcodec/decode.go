package streamcodec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/klauspost/compress/zstd"

	"github.com/stridehq/stride/activity"
)

// Decode reads a blob written by Encode. It is safe on any input: it never
// panics, checks every length against the bytes that remain before using
// it, decompresses at most the size the point count allows, and allocates
// at most the columns of MaxPoints points. Errors caused by the blob wrap
// ErrCorrupt.
func Decode(b []byte) (*activity.Streams, error) {
	s, err := decode(b, nil)
	if err != nil {
		return nil, fmt.Errorf("streamcodec: decode: %w", err)
	}
	return s, nil
}

// DecodeTypes is Decode keeping only the given stream types (see Select),
// without decompressing the other columns: the cheap way to serve a
// request for a few types.
func DecodeTypes(b []byte, types []string) (*activity.Streams, error) {
	ids, err := typeIDs(types)
	if err != nil {
		return nil, fmt.Errorf("streamcodec: decode: %w", err)
	}
	s, err := decode(b, ids)
	if err != nil {
		return nil, fmt.Errorf("streamcodec: decode: %w", err)
	}
	return s, nil
}

// decode decodes the columns whose id is in want, or all when want is nil.
func decode(b []byte, want map[byte]bool) (*activity.Streams, error) {
	n, r, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	s := &activity.Streams{}
	var last byte
	for r.len() > 0 {
		id := r.b[r.pos]
		r.pos++
		if id <= last {
			return nil, corrupt("column id %d after %d: ids must increase", id, last)
		}
		last = id
		size, err := r.uvarint("column length")
		if err != nil {
			return nil, err
		}
		if size > uint64(r.len()) {
			return nil, corrupt("column %d declares %d bytes, %d remain", id, size, r.len())
		}
		frame := r.b[r.pos : r.pos+int(size)]
		r.pos += int(size)
		if want != nil && !want[id] {
			continue
		}
		if err := decodeColumn(s, id, frame, n); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func decodeHeader(b []byte) (int, reader, error) {
	if len(b) < len(magic)+1 || !bytes.Equal(b[:len(magic)], magic[:]) {
		return 0, reader{}, corrupt("not a stream blob (bad magic)")
	}
	if v := b[len(magic)]; v != Version {
		return 0, reader{}, corrupt("format version %d, this decoder reads %d", v, Version)
	}
	r := reader{b: b, pos: len(magic) + 1}
	n, err := r.uvarint("point count")
	if err != nil {
		return 0, reader{}, err
	}
	if n > MaxPoints {
		return 0, reader{}, corrupt("%d points, more than the %d allowed", n, MaxPoints)
	}
	return int(n), r, nil
}

// decompress inflates a column's payload, refusing before any allocation a
// frame whose declared size exceeds what n points can take, and stopping
// at the declared size (the decoder is built with a cap limit) if the
// frame lies.
func decompress(frame []byte, n int) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return nil, corrupt("zstd frame header: %v", err)
	}
	if !h.HasFCS {
		return nil, corrupt("zstd frame without content size")
	}
	if limit := uint64(maxPayloadSize(n)); h.FrameContentSize > limit {
		return nil, corrupt("column of %d bytes, more than %d points can take (%d)", h.FrameContentSize, n, limit)
	}
	_, dec := codecs()
	payload, err := dec.DecodeAll(frame, make([]byte, 0, h.FrameContentSize))
	if err != nil {
		return nil, corrupt("zstd: %v", err)
	}
	if uint64(len(payload)) != h.FrameContentSize {
		return nil, corrupt("column of %d bytes, frame declares %d", len(payload), h.FrameContentSize)
	}
	return payload, nil
}

// decodeColumn decodes a column's frame into s; unknown ids are ignored.
func decodeColumn(s *activity.Streams, id byte, frame []byte, n int) error {
	if id != colLatLng && scalarByID(id) == nil {
		// A column added by a later minor revision: its length let us
		// skip it, and older readers are not expected to serve it.
		return nil
	}
	payload, err := decompress(frame, n)
	if err != nil {
		return fmt.Errorf("column %d: %w", id, err)
	}
	r := &reader{b: payload}
	if err := decodeColumnPayload(s, id, r, n); err != nil {
		return err
	}
	if r.len() != 0 {
		return corrupt("column %d has %d bytes after its values", id, r.len())
	}
	return nil
}

func scalarByID(id byte) *scalar {
	for i := range scalars {
		if scalars[i].id == id {
			return &scalars[i]
		}
	}
	return nil
}

func decodeColumnPayload(s *activity.Streams, id byte, r *reader, n int) error {
	if id == colLatLng {
		lat, err := decodeSeries(r, n, scaleDegree)
		if err != nil {
			return fmt.Errorf("%s latitude: %w", TypeLatLng, err)
		}
		lon, err := decodeSeries(r, n, scaleDegree)
		if err != nil {
			return fmt.Errorf("%s longitude: %w", TypeLatLng, err)
		}
		s.LatLng = make([][2]float64, n)
		for i := range s.LatLng {
			s.LatLng[i] = [2]float64{lat[i], lon[i]}
		}
		return nil
	}
	c := scalarByID(id)
	col, err := decodeSeries(r, n, c.scale)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	*c.col(s) = col
	return nil
}

// decodeSeries reads one series of n samples (see the package doc).
func decodeSeries(r *reader, n int, scale float64) ([]float64, error) {
	if r.len() < 2 {
		return nil, corrupt("series truncated")
	}
	order := r.b[r.pos]
	r.pos++
	if order != 1 && order != 2 {
		return nil, corrupt("delta order %d", order)
	}
	nruns, err := r.uvarint("run count")
	if err != nil {
		return nil, err
	}
	// Each run but the first covers at least one sample and takes at
	// least one byte, so both bounds hold before reading any run.
	if nruns > uint64(n)+1 || nruns > uint64(r.len())+1 {
		return nil, corrupt("%d presence runs for %d points in %d bytes", nruns, n, r.len())
	}
	// Runs are read twice: once here to validate them and count the
	// present samples, then while filling the column.
	runStart := r.pos
	present := n
	if nruns > 0 {
		present = 0
		total := 0
		for k := range int(nruns) {
			l, err := r.uvarint("run length")
			if err != nil {
				return nil, err
			}
			if l == 0 && k > 0 {
				return nil, corrupt("empty presence run %d", k)
			}
			if l > uint64(n-total) {
				return nil, corrupt("presence runs cover more than %d points", n)
			}
			total += int(l)
			if k%2 == 0 {
				present += int(l)
			}
		}
		if total != n {
			return nil, corrupt("presence runs cover %d of %d points", total, n)
		}
	}
	if present > r.len() {
		return nil, corrupt("%d values in %d bytes", present, r.len())
	}
	out := make([]float64, n)
	runs := reader{b: r.b[runStart:r.pos]}
	var prev, prevDelta int64
	i := 0
	for k := 0; i < n; k++ {
		l := n // one run of all samples when nruns is 0
		if nruns > 0 {
			v, _ := runs.uvarint("") // validated above
			l = int(v)
		}
		if k%2 == 1 {
			for j := i; j < i+l; j++ {
				out[j] = math.NaN()
			}
			i += l
			continue
		}
		for end := i + l; i < end; i++ {
			d, err := r.varint()
			if err != nil {
				return nil, err
			}
			if order == 2 {
				// |d| ≤ 2^55 and |prevDelta| ≤ 2^54 cannot overflow.
				if d < -(4*maxQuant) || d > 4*maxQuant {
					return nil, corrupt("second difference %d out of range", d)
				}
				d += prevDelta
				prevDelta = d
			}
			if d < -(2*maxQuant) || d > 2*maxQuant {
				return nil, corrupt("difference %d out of range", d)
			}
			prev += d
			if prev < -maxQuant || prev > maxQuant {
				return nil, corrupt("value %d out of range", prev)
			}
			out[i] = float64(prev) / scale
		}
	}
	return out, nil
}

// reader reads varints from a byte slice, with errors that say what was
// being read.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) len() int { return len(r.b) - r.pos }

func (r *reader) uvarint(what string) (uint64, error) {
	v, k := binary.Uvarint(r.b[r.pos:])
	if k <= 0 {
		return 0, corrupt("bad or truncated varint (%s) at byte %d", what, r.pos)
	}
	r.pos += k
	return v, nil
}

func (r *reader) varint() (int64, error) {
	v, k := binary.Varint(r.b[r.pos:])
	if k <= 0 {
		return 0, corrupt("bad or truncated value varint at byte %d", r.pos)
	}
	r.pos += k
	return v, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
