// Package streamcodec stores an activity's point streams (activity.Streams)
// as one compact blob: columns quantized to fixed point, delta coded as
// zigzag varints, then compressed with zstd. It is pure (no I/O): the store
// adapters keep the blob per activity and the API decodes it to serve the
// requested stream types (Select), optionally downsampled (Downsample).
//
// On the corpus this costs about 4.8 bytes per point (see "Stream storage"
// in docs/benchmarks.md), against about 108 bytes per point for one
// PostgreSQL row per point.
//
// # Quantization
//
// Every value is rounded to an integer multiple of a fixed unit, chosen
// finer than any device measures so that storing loses nothing a chart or
// a metric could show:
//
//	column     unit          max error    why this unit
//	time       1 ms          0.5 ms       devices record 1 s (FIT) or 1 ms (GPX/TCX)
//	latlng     1e-7 degree   ≈ 0.6 cm     FIT semicircles are ≈ 0.84 cm; GPS is metres
//	altitude   1 cm          0.5 cm       FIT is 20 cm, barometers ≈ 10 cm
//	heartrate  1 bpm         0.5 bpm      every format records whole bpm
//	cadence    0.1 rpm/spm   0.05         FIT fractional cadence and doubled
//	                                      running cadence give halves
//	watts      1 W           0.5 W        every format records whole watts
//	velocity   1 mm/s        0.5 mm/s     FIT is 1 mm/s
//	distance   1 cm          0.5 cm       FIT is 1 cm
//
// A quantized value must lie within ±2^53 units (far beyond any real
// value: 2^53 ms is 285,000 years); Encode rejects larger values and ±Inf
// (but clamps the few units of float rounding at the bound itself).
//
// # Byte layout (format version 1)
//
//	offset  size     content
//	0       3        magic "STR" (0x53 0x54 0x52)
//	3       1        format version, 1
//	4       uvarint  n, the number of points (at most MaxPoints)
//	…                the columns, in increasing id order
//
// and each column is
//
//	1 byte   column id: 1 time, 2 latlng, 3 altitude, 4 heartrate,
//	         5 cadence, 6 watts, 7 velocity, 8 distance
//	uvarint  length in bytes of the frame that follows
//	frame    one zstd frame, with its content size, of the column's
//	         payload: one series (two for latlng: latitudes, then
//	         longitudes)
//
// Each column is its own zstd frame rather than all sharing one because
// zstd's entropy tables then fit each column (4.76 against 4.97 B/point on
// the corpus), and because DecodeTypes can then decompress only the
// requested columns. n sits in the header so that Decode can bound every
// frame's size from it before decompressing anything.
//
// An absent (nil) column is not written at all. Decode skips ids it does
// not know, so a later revision may add columns that older readers ignore;
// changing how an existing column is coded needs a new format version.
//
// A series of n samples is
//
//	1 byte   order: 1 = each value is stored as the difference from the
//	         previous present value; 2 = as the difference of successive
//	         differences (better for steady series such as time and
//	         distance). Encode picks whichever is shorter.
//	uvarint  r, the number of presence runs; 0 means all n samples present
//	r ×      uvarint run lengths, alternately present and missing, starting
//	         with present (only that first run may be 0 long); they sum to n
//	p ×      zigzag varint, one per present sample (p = sum of the present
//	         runs), the first relative to 0
//
// Missing samples (NaN) thus cost only the runs: a fully present column
// pays one byte, a sensor that drops out pays a few bytes per gap, and
// missing samples do not break the delta chain (a value is coded relative
// to the previous present one). Latitude and longitude have separate
// presence, so the NaN positions of each are kept exactly.
package streamcodec
