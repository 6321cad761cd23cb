package activity

import (
	"math"
	"time"
)

// Format is the file format a Recording was read from.
type Format string

// Formats Parse understands.
const (
	FormatFIT  Format = "fit"
	FormatGPX  Format = "gpx"
	FormatTCX  Format = "tcx"
	FormatJSON Format = "json"
)

// Missing marks an absent numeric value in Point, Lap and DeviceSummary.
// NaN is used rather than pointers or zero so that a real zero (0 W while
// coasting, 0 m altitude at sea level) stays distinguishable from "not
// recorded", and so that points stay flat, pointer-free structs.
var Missing = math.NaN()

// Has reports whether v holds a value (is not Missing).
func Has(v float64) bool { return !math.IsNaN(v) }

// Point is one sample of a recording. Every numeric field is Missing when
// the device did not record it. Units are SI except cadence.
type Point struct {
	Time        time.Time
	Lat, Lon    float64 // degrees, WGS84
	Altitude    float64 // m
	HeartRate   float64 // bpm
	Cadence     float64 // as recorded: rpm, or strides/min (one foot) for foot sports on most devices
	Power       float64 // W
	Speed       float64 // m/s, device's own speed sensor or GPS speed
	Distance    float64 // m, device's cumulative distance stream
	Temperature float64 // °C
}

// HasPosition reports whether p carries a usable position.
func (p *Point) HasPosition() bool { return Has(p.Lat) && Has(p.Lon) }

func newPoint(t time.Time) Point {
	return Point{
		Time: t, Lat: Missing, Lon: Missing, Altitude: Missing, HeartRate: Missing,
		Cadence: Missing, Power: Missing, Speed: Missing, Distance: Missing, Temperature: Missing,
	}
}

// Lap is a lap as the file declares it (FIT lap message, TCX Lap element).
// Numeric fields are Missing when the file does not give them.
type Lap struct {
	StartTime  time.Time
	ElapsedS   float64
	TimerS     float64
	DistanceM  float64
	Calories   float64
	AvgHR      float64
	MaxHR      float64
	AvgSpeed   float64
	MaxSpeed   float64
	AvgPower   float64
	MaxPower   float64
	AvgCadence float64
	AscentM    float64
	DescentM   float64
	Trigger    string // manual, distance, time, position, session_end...
}

func newLap(start time.Time) Lap {
	return Lap{
		StartTime: start, ElapsedS: Missing, TimerS: Missing, DistanceM: Missing, Calories: Missing,
		AvgHR: Missing, MaxHR: Missing, AvgSpeed: Missing, MaxSpeed: Missing, AvgPower: Missing,
		MaxPower: Missing, AvgCadence: Missing, AscentM: Missing, DescentM: Missing,
	}
}

// TimerEvent is a start or stop of the device's timer (FIT event messages).
// A stop followed by a start is a pause, whether manual or auto-pause.
type TimerEvent struct {
	Time  time.Time
	Start bool // true: timer (re)started; false: timer stopped
	// All marks a stop that ends every timer (FIT stop_all,
	// stop_disable_all) rather than pausing the timer (stop): devices that
	// write both (Wahoo) pause with stop and end the activity with stop_all.
	All bool
}

// DeviceSummary holds the totals the device computed itself (FIT session
// message, sum of TCX laps, JSON upload fields). Every field is Missing when
// the file does not give it. Stride reports these figures in preference to
// its own when present, because the device saw data the file does not keep
// (1 s speed-sensor pulses, barometer at full rate, its own calorie model).
type DeviceSummary struct {
	ElapsedS   float64
	TimerS     float64
	DistanceM  float64
	AscentM    float64
	DescentM   float64
	Calories   float64
	AvgHR      float64
	MaxHR      float64
	AvgSpeed   float64
	MaxSpeed   float64
	AvgPower   float64
	MaxPower   float64
	AvgCadence float64
}

func emptySummary() DeviceSummary {
	return DeviceSummary{
		ElapsedS: Missing, TimerS: Missing, DistanceM: Missing, AscentM: Missing, DescentM: Missing,
		Calories: Missing, AvgHR: Missing, MaxHR: Missing, AvgSpeed: Missing, MaxSpeed: Missing,
		AvgPower: Missing, MaxPower: Missing, AvgCadence: Missing,
	}
}

// Recording is one activity as read from a file, before analysis: the points
// in file order, laps, timer events and the device's own summary. A multisport
// file becomes a Recording of sport SportMultisport whose Children are the
// sessions (transitions included), in time order; the parent then has no
// points of its own.
type Recording struct {
	Format     Format
	Sport      Sport  // Stride sport (see Sports)
	SubSport   string // device's finer sub-sport (FIT sub_sport name), "" when none
	Name       string
	ExternalID string // device or app identifier of the activity, when the file gives one
	Device     string // manufacturer and product as the file names them
	StartTime  time.Time

	// LocalOffsetS is the athlete's UTC offset at the start, in seconds, when
	// the file tells it (FIT activity.local_timestamp); HasLocalOffset says if
	// it is known.
	LocalOffsetS   int
	HasLocalOffset bool

	// BarometricAltitude is true when the altitude stream comes from a
	// barometer rather than GPS; the elevation smoothing threshold depends on it.
	BarometricAltitude bool

	Points      []Point
	Laps        []Lap
	Timer       []TimerEvent
	Summary     DeviceSummary
	PoolLengthM float64 // pool swims: pool length; Missing otherwise
	Lengths     int     // pool swims: number of active lengths in the file

	Children []*Recording
}

func newRecording(f Format) *Recording {
	return &Recording{Format: f, Sport: SportOther, Summary: emptySummary(), PoolLengthM: Missing}
}
