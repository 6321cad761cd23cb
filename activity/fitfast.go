package activity

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"sync"

	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/factory"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// The fast FIT path. Records are nearly all of a FIT file (3,600 of ~3,650
// messages in an hour at 1 Hz), and the library's general decoder builds a
// proto.Field for every field of every record (profile lookup, component
// expansion), which was half the parse time. The fast path uses the
// library's raw framing decoder (decoder.RawDecoder: it splits the stream
// into headers, definitions and data messages, no allocation) and reads the
// dozen record fields Stride uses straight from the bytes, with the types,
// scales and offsets of the library's profile. Every other message (laps,
// sessions, events, lengths, hr, file_id...) is a few dozen per file: they
// are copied into a record-free FIT stream that the general decoder reads
// with the same listener as the slow path, so their handling is shared.
//
// Whatever the fast path does not reproduce exactly makes it give up, and
// the file is decoded by the general decoder alone (parseFITSlow), as
// before: any decoding error (truncated or damaged files keep their exact
// warnings), compressed-timestamp headers (whose timestamps depend on the
// messages a filtered stream would drop), record fields whose components
// expand into fields Stride reads (compressed_speed_distance), and record
// definitions with invalid base types. TestFITFastMatchesSlow checks that
// both paths give the same recording on every corpus file.

// fitRecordField is how one record field Stride reads is stored, from the
// library's profile.
type fitRecordField struct {
	baseType      basetype.BaseType
	scale, offset float64
}

// fitRecordProfile holds the profile of the record fields read by the fast
// path, indexed by field number; fitRecordSlowField marks record fields
// whose component expansion produces a field Stride reads (other than the
// altitude → enhanced_altitude and speed → enhanced_speed copies, which the
// fast path reproduces), so a definition with one goes the slow way.
var (
	fitRecordProfile   [256]*fitRecordField
	fitRecordSlowField [256]bool
)

// fitRecordFieldsRead are the record fields onRecord uses.
var fitRecordFieldsRead = []byte{
	fieldnum.RecordTimestamp, fieldnum.RecordPositionLat, fieldnum.RecordPositionLong,
	fieldnum.RecordAltitude, fieldnum.RecordEnhancedAltitude, fieldnum.RecordHeartRate,
	fieldnum.RecordCadence, fieldnum.RecordFractionalCadence, fieldnum.RecordDistance,
	fieldnum.RecordSpeed, fieldnum.RecordEnhancedSpeed, fieldnum.RecordPower, fieldnum.RecordTemperature,
}

func init() {
	read := [256]bool{}
	for _, num := range fitRecordFieldsRead {
		read[num] = true
		f := factory.CreateField(mesgnum.Record, num)
		scale := f.Scale
		if scale == 0 {
			scale = 1
		}
		fitRecordProfile[num] = &fitRecordField{baseType: f.BaseType, scale: scale, offset: f.Offset}
	}
	for num := range 256 {
		f := factory.CreateField(mesgnum.Record, byte(num))
		if num == fieldnum.RecordAltitude || num == fieldnum.RecordSpeed {
			continue
		}
		for _, c := range f.Components {
			if read[c.FieldNum] {
				fitRecordSlowField[num] = true
			}
		}
	}
}

// fitFastField is one field of a record definition that the fast path reads.
type fitFastField struct {
	num       byte
	off, size int // within the data message, after its header byte
	prof      *fitRecordField
}

// fitLocalDef is the current definition of one local message number.
type fitLocalDef struct {
	defined   bool
	record    bool
	bigEndian bool
	fields    []fitFastField
}

// errFITSlow makes the raw decoder stop when the fast path gives up.
var errFITSlow = errors.New("fast FIT path not applicable")

var rawDecoderPool = sync.Pool{New: func() any { return decoder.NewRaw() }}

// fitFast decodes data with the fast path into c. It returns false, leaving
// c to be discarded, when the file needs the general decoder.
func fitFast(data []byte, c *fitCollector) (ok bool) {
	var (
		locals   [proto.LocalMesgNumMask + 1]fitLocalDef
		rest     = make([]byte, 0, 4096) // the FIT stream without records
		seqStart = -1
	)
	raw := rawDecoderPool.Get().(*decoder.RawDecoder)
	defer rawDecoderPool.Put(raw)
	_, err := raw.Decode(bytes.NewReader(data), func(flag decoder.RawFlag, b []byte) error {
		switch flag {
		case decoder.RawFlagFileHeader:
			// Each chained FIT sequence gets a 12-byte header; its data
			// size is set when its CRC comes. The decoder runs with the
			// checksum check off, so the CRC bytes are placeholders.
			seqStart = len(rest)
			rest = append(rest, 12)
			rest = append(rest, b[1:12]...)
			locals = [proto.LocalMesgNumMask + 1]fitLocalDef{}
		case decoder.RawFlagMesgDef:
			if !fitFastDefine(&locals[b[0]&proto.LocalMesgNumMask], b) {
				return errFITSlow
			}
			if !locals[b[0]&proto.LocalMesgNumMask].record {
				rest = append(rest, b...)
			}
		case decoder.RawFlagMesgData:
			if b[0]&proto.MesgCompressedHeaderMask != 0 {
				return errFITSlow
			}
			def := &locals[b[0]&proto.LocalMesgNumMask]
			if !def.defined {
				return errFITSlow
			}
			if !def.record {
				rest = append(rest, b...)
				return nil
			}
			if len(c.points) >= c.maxPoints {
				c.tooMany = true
				return errLimitHit
			}
			c.fastRecord(def, b[1:])
		case decoder.RawFlagCRC:
			size := len(rest) - seqStart - 12
			if size == 0 {
				rest = rest[:seqStart] // a sequence of records only
				break
			}
			binary.LittleEndian.PutUint32(rest[seqStart+4:], uint32(size))
			rest = append(rest, 0, 0)
		}
		return nil
	})
	if c.tooMany {
		return true
	}
	if err != nil {
		return false
	}
	if len(rest) == 0 {
		return true
	}
	dec := decoder.New(abortingReader{bytes.NewReader(rest), &c.tooMany},
		decoder.WithMesgListener(c),
		decoder.WithBroadcastOnly(),
		decoder.WithIgnoreChecksum(),
	)
	for dec.Next() {
		if _, err := dec.Decode(); err != nil {
			return c.tooMany
		}
	}
	return true
}

// fitFastDefine records a message definition (raw bytes: header, reserved,
// architecture, global number, field count, 3 bytes per field, then the
// developer fields, which the fast path skips over). It returns false when
// a record definition needs the general decoder.
func fitFastDefine(def *fitLocalDef, b []byte) bool {
	big := b[2] == proto.BigEndian
	var num uint16
	if big {
		num = binary.BigEndian.Uint16(b[3:5])
	} else {
		num = binary.LittleEndian.Uint16(b[3:5])
	}
	*def = fitLocalDef{defined: true, record: typedef.MesgNum(num) == mesgnum.Record,
		bigEndian: big, fields: def.fields[:0]}
	if !def.record {
		return true
	}
	n := int(b[5])
	off := 0
	for i := range n {
		fd := b[6+3*i : 9+3*i]
		num, size, bt := fd[0], int(fd[1]), basetype.BaseType(fd[2])
		if !bt.Valid() || fitRecordSlowField[num] {
			return false
		}
		if p := fitRecordProfile[num]; p != nil && size > 0 {
			def.fields = append(def.fields, fitFastField{num: num, off: off, size: size, prof: p})
		}
		off += size
	}
	return true
}

// fastRecord reads one record message's fields (b without its header byte)
// the way the general decoder does: as the profile's base type, the first
// value of a longer field, a shorter one zero-padded.
func (c *fitCollector) fastRecord(def *fitLocalDef, b []byte) {
	r := newFITRecordValues()
	for i := range def.fields {
		f := &def.fields[i]
		v, ok := fitRawValue(b[f.off:f.off+f.size], f.prof.baseType, def.bigEndian)
		if !ok {
			continue
		}
		switch f.num {
		case fieldnum.RecordTimestamp:
			r.time, r.haveTime = uint32(v), true
		case fieldnum.RecordPositionLat:
			r.lat, r.haveLat = int32(v), true
		case fieldnum.RecordPositionLong:
			r.lon, r.haveLon = int32(v), true
		default:
			x := v/f.prof.scale - f.prof.offset
			switch f.num {
			case fieldnum.RecordAltitude:
				r.alt = x
			case fieldnum.RecordEnhancedAltitude:
				r.enhAlt = x
			case fieldnum.RecordHeartRate:
				r.hr = x
			case fieldnum.RecordCadence:
				r.cadence = x
			case fieldnum.RecordFractionalCadence:
				r.fraction = x
			case fieldnum.RecordDistance:
				r.distance = x
			case fieldnum.RecordSpeed:
				r.speed = x
			case fieldnum.RecordEnhancedSpeed:
				r.enhSpeed = x
			case fieldnum.RecordPower:
				r.power = x
			case fieldnum.RecordTemperature:
				r.temperature = x
			}
		}
	}
	c.addRecord(&r)
}

// fitRawValue reads a FIT scalar of base type bt from b and reports whether
// it is valid (not the type's "invalid" value).
func fitRawValue(b []byte, bt basetype.BaseType, big bool) (float64, bool) {
	n := int(bt.Size())
	var buf [8]byte
	if len(b) < n {
		if big {
			copy(buf[n-len(b):n], b)
		} else {
			copy(buf[:n], b)
		}
		b = buf[:n]
	}
	var u uint64
	switch n {
	case 1:
		u = uint64(b[0])
	case 2:
		if big {
			u = uint64(binary.BigEndian.Uint16(b))
		} else {
			u = uint64(binary.LittleEndian.Uint16(b))
		}
	case 4:
		if big {
			u = uint64(binary.BigEndian.Uint32(b))
		} else {
			u = uint64(binary.LittleEndian.Uint32(b))
		}
	default:
		return 0, false
	}
	switch bt {
	case basetype.Uint8, basetype.Enum, basetype.Byte:
		return float64(u), u != 0xFF
	case basetype.Uint8z, basetype.Uint16z, basetype.Uint32z:
		return float64(u), u != 0
	case basetype.Sint8:
		return float64(int8(u)), u != 0x7F
	case basetype.Uint16:
		return float64(u), u != 0xFFFF
	case basetype.Sint16:
		return float64(int16(u)), u != 0x7FFF
	case basetype.Uint32:
		return float64(u), u != 0xFFFFFFFF
	case basetype.Sint32:
		return float64(int32(u)), u != 0x7FFFFFFF
	case basetype.Float32:
		f := float64(math.Float32frombits(uint32(u)))
		return f, u != 0xFFFFFFFF && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
