package activity

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sort"
	"time"

	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// fitEpoch is 1989-12-31T00:00:00Z, the origin of FIT date_time values.
const fitEpoch = 631065600

// semicircleDegrees converts FIT semicircles to degrees.
const semicircleDegrees = 180.0 / (1 << 31)

// fitSession is one FIT session message: the device's own summary of one
// sport of the file.
type fitSession struct {
	start, end  time.Time
	sport       string
	subSport    string
	summary     DeviceSummary
	poolLengthM float64
}

// fitCollector receives decoded messages one at a time (the decoder's
// broadcast-only listener mode keeps no message in memory) and keeps what
// the activity model needs.
type fitCollector struct {
	maxPoints   int
	maxSessions int
	tooMany     bool // a limit was hit: the abortingReader stops the decoder

	points      []Point
	sessions    []fitSession
	laps        []Lap
	timer       []TimerEvent
	lengthTimes []time.Time // start of each active pool length

	sport, subSport, sportName string // sport message, for files without sessions
	device                     string
	activityTime               time.Time
	localOffsetS               int
	hasLocalOffset             bool
	timeCreated                time.Time

	positionsAtNullIsland int
	recordsWithoutTime    int

	// Heart rate from hr messages (see onHR): samples in time order, and the
	// anchor that maps the messages' event timestamps to UTC.
	hrSamples         []hrSample
	hrAnchorSet       bool
	hrAnchorUnix      float64 // UTC seconds of the anchor
	hrAnchorEventTime float64 // event_timestamp at the anchor, s
}

// hrSample is one heart-rate reading from a FIT hr message.
type hrSample struct {
	unix float64 // UTC seconds
	bpm  float64
}

// abortingReader ends the input early once the collector hit a limit, since
// the decoder offers no way to stop it from a listener.
type abortingReader struct {
	r    io.Reader
	stop *bool
}

var errLimitHit = errors.New("limit reached")

func (a abortingReader) Read(p []byte) (int, error) {
	if *a.stop {
		return 0, errLimitHit
	}
	return a.r.Read(p)
}

func parseFIT(data []byte, lim Limits) (*Recording, []Warning, error) {
	if len(data) < 12 || (data[0] != 12 && data[0] != 14) || string(data[8:12]) != ".FIT" {
		if len(data) >= 12 && string(data[8:11]) == ".FI" {
			return nil, nil, newError(CodeUnsupportedFormat, "not a FIT file: signature is %q, not \".FIT\"", data[8:12])
		}
		return nil, nil, newError(CodeUnsupportedFormat, "not a FIT file: no \".FIT\" header signature (first byte %d)", firstByte(data))
	}
	var warnings []Warning
	headerSize := int(data[0])
	dataSize := int(binary.LittleEndian.Uint32(data[4:8]))
	if dataSize == 0 {
		return nil, nil, newError(CodeCorrupt, "FIT header declares no data (data_size 0): the writing app never finalised the file")
	}
	if len(data) == headerSize {
		return nil, nil, newError(CodeNoData, "FIT file has only its %d-byte header, no messages (header announces %d data bytes)", headerSize, dataSize)
	}
	warnings = append(warnings, checkFITCRC(data, headerSize, dataSize)...)

	newCollector := func() *fitCollector {
		c := &fitCollector{maxPoints: lim.MaxPoints, maxSessions: lim.MaxSessions}
		// Rough preallocation: a record is 20-40 bytes in real files.
		c.points = make([]Point, 0, min(len(data)/24+16, lim.MaxPoints))
		return c
	}
	c := newCollector()
	var decodeErr error
	if !fitFast(data, c) {
		c = newCollector()
		decodeErr = fitSlow(data, c)
	}
	if c.tooMany {
		return nil, warnings, newError(CodeTooLarge, "FIT file has more than %d points or %d sessions", lim.MaxPoints, lim.MaxSessions)
	}
	if decodeErr != nil {
		if len(c.points) == 0 && len(c.sessions) == 0 && len(c.laps) == 0 {
			return nil, warnings, wrapError(CodeCorrupt, decodeErr, "FIT file could not be decoded")
		}
		code := WarnDecodeError
		if errors.Is(decodeErr, io.EOF) || errors.Is(decodeErr, io.ErrUnexpectedEOF) {
			code = WarnTruncated
		}
		warnings = append(warnings, Warning{Code: code,
			Detail: "FIT decoding stopped early (" + decodeErr.Error() + "); kept the complete messages before it"})
	}
	if c.positionsAtNullIsland > 0 {
		warnings = append(warnings, Warning{Code: WarnInvalidPosition, Count: c.positionsAtNullIsland,
			Detail: "positions at exactly 0°N 0°E (no GPS fix) were dropped"})
	}
	if c.recordsWithoutTime > 0 {
		warnings = append(warnings, Warning{Code: WarnMissingTime, Count: c.recordsWithoutTime,
			Detail: "FIT records without a timestamp were dropped"})
	}
	return c.build(), warnings, nil
}

// fitSlow decodes data with the library's general decoder in streaming
// listener mode: every message, records included, goes through OnMesg.
func fitSlow(data []byte, c *fitCollector) error {
	dec := decoder.New(abortingReader{bytes.NewReader(data), &c.tooMany},
		decoder.WithMesgListener(c),
		decoder.WithBroadcastOnly(),
		// The library's own checksum wrongly rejects valid files with a
		// 12-byte header or a zero header CRC; checkFITCRC does it instead.
		decoder.WithIgnoreChecksum(),
		decoder.WithReadBufferSize(16<<10),
	)
	for dec.Next() {
		if _, err := dec.Decode(); err != nil {
			return err
		}
	}
	return nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// checkFITCRC verifies the file CRC (over header and data) of the first FIT
// sequence in data.
func checkFITCRC(data []byte, headerSize, dataSize int) []Warning {
	end := headerSize + dataSize
	if end+2 > len(data) || end < headerSize {
		return []Warning{{Code: WarnTruncated,
			Detail: "FIT header announces more data than the file holds; the file was cut short"}}
	}
	if fitCRC(data[:end]) != binary.LittleEndian.Uint16(data[end:end+2]) {
		return []Warning{{Code: WarnCRCMismatch, Detail: "FIT file CRC does not match its content; the data may be damaged"}}
	}
	return nil
}

func fitTime(v uint32) time.Time { return time.Unix(int64(v)+fitEpoch, 0).UTC() }

// OnMesg implements decoder.MesgListener.
func (c *fitCollector) OnMesg(m proto.Message) {
	switch m.Num {
	case mesgnum.Record:
		c.onRecord(&m)
	case mesgnum.Event:
		c.onEvent(&m)
	case mesgnum.Lap:
		c.onLap(&m)
	case mesgnum.Session:
		c.onSession(&m)
	case mesgnum.Hr:
		c.onHR(&m)
	case mesgnum.Length:
		if v, ok := fitUint(&m, fieldnum.LengthLengthType); ok && v == uint64(typedef.LengthTypeActive) {
			if t, ok := fitTimeField(&m, fieldnum.LengthStartTime); ok {
				c.lengthTimes = append(c.lengthTimes, t)
			}
		}
	case mesgnum.Activity:
		ts, ok1 := fitUint(&m, fieldnum.ActivityTimestamp)
		local, ok2 := fitUint(&m, fieldnum.ActivityLocalTimestamp)
		if ok1 && ok2 {
			c.activityTime = fitTime(uint32(ts))
			c.localOffsetS = roundOffset(int64(local) - int64(ts))
			c.hasLocalOffset = c.localOffsetS >= -14*3600 && c.localOffsetS <= 14*3600
		}
	case mesgnum.FileId:
		c.onFileID(&m)
	case mesgnum.Sport:
		if v, ok := fitUint(&m, fieldnum.SportSport); ok {
			c.sport = typedef.Sport(v).String()
		}
		if v, ok := fitUint(&m, fieldnum.SportSubSport); ok {
			c.subSport = typedef.SubSport(v).String()
		}
		if f := m.FieldByNum(fieldnum.SportName); f != nil && f.Value.Type() == proto.TypeString {
			c.sportName = f.Value.String()
		}
	}
}

// roundOffset rounds a UTC offset to the nearest quarter hour: devices write
// local_timestamp and timestamp a second or two apart.
func roundOffset(s int64) int {
	const q = 15 * 60
	if s >= 0 {
		return int((s + q/2) / q * q)
	}
	return -int((-s + q/2) / q * q)
}

func (c *fitCollector) onFileID(m *proto.Message) {
	man, ok := fitUint(m, fieldnum.FileIdManufacturer)
	if !ok {
		return
	}
	c.device = typedef.Manufacturer(man).String()
	if prod, ok := fitUint(m, fieldnum.FileIdProduct); ok {
		if typedef.Manufacturer(man) == typedef.ManufacturerGarmin {
			c.device += " " + typedef.GarminProduct(prod).String()
		}
	}
	if f := m.FieldByNum(fieldnum.FileIdProductName); f != nil && f.Value.Type() == proto.TypeString && f.Value.String() != "" {
		c.device += " " + f.Value.String()
	}
	if t, ok := fitTimeField(m, fieldnum.FileIdTimeCreated); ok {
		c.timeCreated = t
	}
}

// fitRecordValues are the fields of one record message that Stride reads,
// as decoded by either FIT path; addRecord turns them into a Point.
type fitRecordValues struct {
	time                uint32
	haveTime            bool
	lat, lon            int32
	haveLat, haveLon    bool
	alt, enhAlt         float64
	speed, enhSpeed     float64
	cadence, fraction   float64
	hr, distance, power float64
	temperature         float64
}

func newFITRecordValues() fitRecordValues {
	return fitRecordValues{alt: Missing, enhAlt: Missing, speed: Missing, enhSpeed: Missing,
		cadence: Missing, fraction: Missing, hr: Missing, distance: Missing, power: Missing, temperature: Missing}
}

func (c *fitCollector) onRecord(m *proto.Message) {
	if len(c.points) >= c.maxPoints {
		c.tooMany = true
		return
	}
	r := newFITRecordValues()
	// One pass over the fields with a switch: records are the hot loop.
	for i := range m.Fields {
		f := &m.Fields[i]
		switch f.Num {
		case fieldnum.RecordTimestamp:
			if f.Value.Type() == proto.TypeUint32 && f.Value.Valid(f.BaseType) {
				r.time, r.haveTime = f.Value.Uint32(), true
			}
		case fieldnum.RecordPositionLat:
			if f.Value.Type() == proto.TypeInt32 && f.Value.Valid(f.BaseType) {
				r.lat, r.haveLat = f.Value.Int32(), true
			}
		case fieldnum.RecordPositionLong:
			if f.Value.Type() == proto.TypeInt32 && f.Value.Valid(f.BaseType) {
				r.lon, r.haveLon = f.Value.Int32(), true
			}
		case fieldnum.RecordAltitude:
			r.alt = fitScaled(f)
		case fieldnum.RecordEnhancedAltitude:
			r.enhAlt = fitScaled(f)
		case fieldnum.RecordHeartRate:
			r.hr = fitScaled(f)
		case fieldnum.RecordCadence:
			r.cadence = fitScaled(f)
		case fieldnum.RecordFractionalCadence:
			r.fraction = fitScaled(f)
		case fieldnum.RecordDistance:
			r.distance = fitScaled(f)
		case fieldnum.RecordSpeed:
			r.speed = fitScaled(f)
		case fieldnum.RecordEnhancedSpeed:
			r.enhSpeed = fitScaled(f)
		case fieldnum.RecordPower:
			r.power = fitScaled(f)
		case fieldnum.RecordTemperature:
			r.temperature = fitScaled(f)
		}
	}
	c.addRecord(&r)
}

// addRecord appends the point of one record message.
func (c *fitCollector) addRecord(r *fitRecordValues) {
	if !r.haveTime {
		c.recordsWithoutTime++
		return
	}
	// The plain altitude and speed fields come first: the general decoder
	// expands them into enhanced_altitude and enhanced_speed (overwriting a
	// recorded enhanced value) through a float conversion that truncates
	// (8.033 m/s becomes 8.032), while the plain field holds the exact value.
	// The enhanced fields alone are used when the plain ones are absent or
	// invalid (values beyond their 16-bit range).
	p := Point{Time: fitTime(r.time), Lat: Missing, Lon: Missing, Altitude: firstPresent(r.alt, r.enhAlt),
		HeartRate: r.hr, Cadence: Missing, Power: r.power, Speed: firstPresent(r.speed, r.enhSpeed),
		Distance: r.distance, Temperature: r.temperature}
	if r.haveLat && r.haveLon {
		if r.lat == 0 && r.lon == 0 {
			c.positionsAtNullIsland++
		} else {
			p.Lat, p.Lon = float64(r.lat)*semicircleDegrees, float64(r.lon)*semicircleDegrees
		}
	}
	if Has(r.cadence) {
		p.Cadence = r.cadence
		if Has(r.fraction) {
			p.Cadence += r.fraction
		}
	}
	c.points = append(c.points, p)
}

func firstPresent(a, b float64) float64 {
	if Has(a) {
		return a
	}
	return b
}

func (c *fitCollector) onEvent(m *proto.Message) {
	ev, ok := fitUint(m, fieldnum.EventEvent)
	if !ok || typedef.Event(ev) != typedef.EventTimer {
		return
	}
	t, ok := fitTimeField(m, fieldnum.EventTimestamp)
	if !ok {
		return
	}
	typ, ok := fitUint(m, fieldnum.EventEventType)
	if !ok {
		return
	}
	switch typedef.EventType(typ) {
	case typedef.EventTypeStart:
		c.timer = append(c.timer, TimerEvent{Time: t, Start: true})
	case typedef.EventTypeStop, typedef.EventTypeStopDisable:
		c.timer = append(c.timer, TimerEvent{Time: t, Start: false})
	case typedef.EventTypeStopAll, typedef.EventTypeStopDisableAll:
		c.timer = append(c.timer, TimerEvent{Time: t, Start: false, All: true})
	}
}

// onHR reads an hr message. Garmin watches swimming with a chest strap
// (HRM-Swim, HRM-Tri) do not put heart rate in records: the strap stores it
// while under water and sends it at the end, and the watch writes it as hr
// messages: filtered_bpm values with event_timestamp times, in seconds of a
// device clock. The first hr message with a timestamp anchors that clock to
// UTC (its timestamp plus fractional_timestamp is its first event
// timestamp), as the FIT SDK's HR-to-record plugin does.
func (c *fitCollector) onHR(m *proto.Message) {
	bpmField := m.FieldByNum(fieldnum.HrFilteredBpm)
	evField := m.FieldByNum(fieldnum.HrEventTimestamp)
	if bpmField == nil || evField == nil || bpmField.Value.Type() != proto.TypeSliceUint8 || evField.Value.Type() != proto.TypeSliceUint32 {
		return
	}
	bpm, ev := bpmField.Value.SliceUint8(), evField.Value.SliceUint32()
	if len(ev) == 0 {
		return
	}
	if t, ok := fitUint(m, fieldnum.HrTimestamp); ok && !c.hrAnchorSet {
		c.hrAnchorSet = true
		c.hrAnchorUnix = float64(t) + fitEpoch
		if frac := fitFloat(m, fieldnum.HrFractionalTimestamp); Has(frac) {
			c.hrAnchorUnix += frac
		}
		c.hrAnchorEventTime = float64(ev[0]) / 1024
	}
	if !c.hrAnchorSet {
		return
	}
	for i := range min(len(bpm), len(ev)) {
		if bpm[i] == 0 || bpm[i] == 0xFF {
			continue
		}
		if len(c.hrSamples) >= c.maxPoints {
			c.tooMany = true
			return
		}
		t := c.hrAnchorUnix + float64(ev[i])/1024 - c.hrAnchorEventTime
		c.hrSamples = append(c.hrSamples, hrSample{unix: t, bpm: float64(bpm[i])})
	}
}

// mergeHRSamples gives the records without heart rate the hr messages'
// readings: the mean of the samples since the previous record (each record
// stands for the interval before it), or the latest sample of the last
// hrSampleHoldS seconds when none falls in that interval.
func mergeHRSamples(points []Point, samples []hrSample) {
	const hrSampleHoldS = 5.0
	if len(samples) == 0 {
		return
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].unix < samples[j].unix })
	k := 0
	prev := math.Inf(-1)
	for i := range points {
		t := float64(points[i].Time.Unix())
		if Has(points[i].HeartRate) || t <= prev {
			prev = max(prev, t)
			continue
		}
		for k < len(samples) && samples[k].unix <= prev {
			k++
		}
		sum, n := 0.0, 0
		j := k
		for ; j < len(samples) && samples[j].unix <= t; j++ {
			sum += samples[j].bpm
			n++
		}
		switch {
		case n > 0:
			points[i].HeartRate = sum / float64(n)
		case k > 0 && t-samples[k-1].unix <= hrSampleHoldS:
			points[i].HeartRate = samples[k-1].bpm
		}
		prev = t
	}
}

func (c *fitCollector) onLap(m *proto.Message) {
	start, ok := fitTimeField(m, fieldnum.LapStartTime)
	if !ok {
		return
	}
	l := newLap(start)
	l.ElapsedS = fitFloat(m, fieldnum.LapTotalElapsedTime)
	l.TimerS = fitFloat(m, fieldnum.LapTotalTimerTime)
	l.DistanceM = fitFloat(m, fieldnum.LapTotalDistance)
	l.Calories = fitFloat(m, fieldnum.LapTotalCalories)
	l.AvgHR = fitFloat(m, fieldnum.LapAvgHeartRate)
	l.MaxHR = fitFloat(m, fieldnum.LapMaxHeartRate)
	l.AvgSpeed = firstPresent(fitFloat(m, fieldnum.LapEnhancedAvgSpeed), fitFloat(m, fieldnum.LapAvgSpeed))
	l.MaxSpeed = firstPresent(fitFloat(m, fieldnum.LapEnhancedMaxSpeed), fitFloat(m, fieldnum.LapMaxSpeed))
	l.AvgPower = fitFloat(m, fieldnum.LapAvgPower)
	l.MaxPower = fitFloat(m, fieldnum.LapMaxPower)
	l.AvgCadence = fitFloat(m, fieldnum.LapAvgCadence)
	l.AscentM = fitFloat(m, fieldnum.LapTotalAscent)
	l.DescentM = fitFloat(m, fieldnum.LapTotalDescent)
	if v, ok := fitUint(m, fieldnum.LapLapTrigger); ok {
		l.Trigger = typedef.LapTrigger(v).String()
	}
	c.laps = append(c.laps, l)
}

func (c *fitCollector) onSession(m *proto.Message) {
	if len(c.sessions) >= c.maxSessions {
		c.tooMany = true
		return
	}
	s := fitSession{summary: emptySummary(), poolLengthM: Missing}
	s.start, _ = fitTimeField(m, fieldnum.SessionStartTime)
	s.end, _ = fitTimeField(m, fieldnum.SessionTimestamp)
	if v, ok := fitUint(m, fieldnum.SessionSport); ok {
		s.sport = typedef.Sport(v).String()
	}
	if v, ok := fitUint(m, fieldnum.SessionSubSport); ok {
		s.subSport = typedef.SubSport(v).String()
	}
	sum := &s.summary
	sum.ElapsedS = fitFloat(m, fieldnum.SessionTotalElapsedTime)
	sum.TimerS = fitFloat(m, fieldnum.SessionTotalTimerTime)
	sum.DistanceM = fitFloat(m, fieldnum.SessionTotalDistance)
	sum.Calories = fitFloat(m, fieldnum.SessionTotalCalories)
	sum.AvgHR = fitFloat(m, fieldnum.SessionAvgHeartRate)
	sum.MaxHR = fitFloat(m, fieldnum.SessionMaxHeartRate)
	sum.AvgSpeed = firstPresent(fitFloat(m, fieldnum.SessionEnhancedAvgSpeed), fitFloat(m, fieldnum.SessionAvgSpeed))
	sum.MaxSpeed = firstPresent(fitFloat(m, fieldnum.SessionEnhancedMaxSpeed), fitFloat(m, fieldnum.SessionMaxSpeed))
	sum.AvgPower = fitFloat(m, fieldnum.SessionAvgPower)
	sum.MaxPower = fitFloat(m, fieldnum.SessionMaxPower)
	sum.AvgCadence = fitFloat(m, fieldnum.SessionAvgCadence)
	sum.AscentM = fitFloat(m, fieldnum.SessionTotalAscent)
	sum.DescentM = fitFloat(m, fieldnum.SessionTotalDescent)
	s.poolLengthM = fitFloat(m, fieldnum.SessionPoolLength)
	c.sessions = append(c.sessions, s)
}

// build turns the collected messages into a Recording: one per session, and a
// multisport parent when there are several.
func (c *fitCollector) build() *Recording {
	mergeHRSamples(c.points, c.hrSamples)
	sessions := c.sessions
	if len(sessions) == 0 {
		// No session message (truncated file, some apps): one session over all records.
		s := fitSession{sport: c.sport, subSport: c.subSport, summary: emptySummary(), poolLengthM: Missing}
		if len(c.points) > 0 {
			s.start = c.points[0].Time
		} else {
			s.start = c.timeCreated
		}
		sessions = []fitSession{s}
	}
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].start.Before(sessions[j].start) })
	children := make([]*Recording, len(sessions))
	for i := range sessions {
		s := &sessions[i]
		r := newRecording(FormatFIT)
		r.Sport = SportFromFIT(s.sport, s.subSport)
		if s.subSport != "generic" {
			r.SubSport = s.subSport
		}
		r.Name = c.sportName
		r.Device = c.device
		r.StartTime = s.start
		r.Summary = s.summary
		r.PoolLengthM = s.poolLengthM
		r.LocalOffsetS, r.HasLocalOffset = c.localOffsetS, c.hasLocalOffset
		children[i] = r
	}
	// Points, laps, timer events and lengths go to the session whose start
	// is the latest at or before their time. Sessions may be written before
	// or after their records (fr255 writes summaries first), so assignment is
	// by time, not by position in the file.
	owner := func(t time.Time) int {
		i := sort.Search(len(sessions), func(i int) bool { return sessions[i].start.After(t) })
		return max(i-1, 0)
	}
	if len(children) == 1 {
		children[0].Points = c.points
		children[0].Laps = c.laps
		children[0].Timer = c.timer
		children[0].Lengths = len(c.lengthTimes)
	} else {
		for i := range c.points {
			r := children[owner(c.points[i].Time)]
			r.Points = append(r.Points, c.points[i])
		}
		for _, l := range c.laps {
			r := children[owner(l.StartTime)]
			r.Laps = append(r.Laps, l)
		}
		for _, e := range c.timer {
			r := children[owner(e.Time)]
			r.Timer = append(r.Timer, e)
		}
		for _, t := range c.lengthTimes {
			children[owner(t)].Lengths++
		}
	}
	rebaseSessionDistances(children)
	for _, r := range children {
		if r.StartTime.IsZero() && len(r.Points) > 0 {
			r.StartTime = r.Points[0].Time
		}
	}
	if len(children) == 1 {
		return children[0]
	}
	parent := newRecording(FormatFIT)
	parent.Sport = SportMultisport
	parent.Device = c.device
	parent.Name = c.sportName
	parent.StartTime = children[0].StartTime
	parent.LocalOffsetS, parent.HasLocalOffset = c.localOffsetS, c.hasLocalOffset
	parent.Children = children
	return parent
}

// rebaseSessionDistances makes each session's distance stream start from
// zero. Devices differ: the fenix 2 restarts the record distance for each
// session, the Forerunner 920XT and 935 keep counting across the whole
// multisport activity. A session whose first distance continues from the
// previous session's last one is shifted back by it.
func rebaseSessionDistances(children []*Recording) {
	prevLast := Missing
	for _, r := range children {
		first, last := Missing, Missing
		for i := range r.Points {
			if d := r.Points[i].Distance; Has(d) {
				if !Has(first) {
					first = d
				}
				last = d
			}
		}
		if Has(prevLast) && Has(first) && first >= prevLast-1 {
			for i := range r.Points {
				if Has(r.Points[i].Distance) {
					r.Points[i].Distance = max(r.Points[i].Distance-prevLast, 0)
				}
			}
		}
		if Has(last) {
			prevLast = last
		}
	}
}

// fitScaled returns the physical value of a numeric field (raw / scale -
// offset), or Missing when the field holds the FIT "invalid" value.
func fitScaled(f *proto.Field) float64 {
	if !f.Value.Valid(f.BaseType) {
		return Missing
	}
	raw, ok := valueFloat(f.Value)
	if !ok {
		return Missing
	}
	scale := f.Scale
	if scale == 0 {
		scale = 1
	}
	return raw/scale - f.Offset
}

func fitFloat(m *proto.Message, num byte) float64 {
	f := m.FieldByNum(num)
	if f == nil {
		return Missing
	}
	return fitScaled(f)
}

func fitUint(m *proto.Message, num byte) (uint64, bool) {
	f := m.FieldByNum(num)
	if f == nil || !f.Value.Valid(f.BaseType) {
		return 0, false
	}
	v, ok := valueFloat(f.Value)
	if !ok || v < 0 {
		return 0, false
	}
	return uint64(v), true
}

func fitTimeField(m *proto.Message, num byte) (time.Time, bool) {
	f := m.FieldByNum(num)
	if f == nil || f.Value.Type() != proto.TypeUint32 || !f.Value.Valid(f.BaseType) {
		return time.Time{}, false
	}
	return fitTime(f.Value.Uint32()), true
}

// valueFloat converts a scalar proto.Value to float64; arrays and strings are
// not numbers.
func valueFloat(v proto.Value) (float64, bool) {
	switch v.Type() {
	case proto.TypeInt8:
		return float64(v.Int8()), true
	case proto.TypeUint8:
		return float64(v.Uint8()), true
	case proto.TypeInt16:
		return float64(v.Int16()), true
	case proto.TypeUint16:
		return float64(v.Uint16()), true
	case proto.TypeInt32:
		return float64(v.Int32()), true
	case proto.TypeUint32:
		return float64(v.Uint32()), true
	case proto.TypeInt64:
		return float64(v.Int64()), true
	case proto.TypeUint64:
		return float64(v.Uint64()), true
	case proto.TypeFloat32:
		f := float64(v.Float32())
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	case proto.TypeFloat64:
		f := v.Float64()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
