package activity

import (
	"sync"
	"time"
	// The IANA database embedded in the binary, so that zone names resolve
	// on hosts without /usr/share/zoneinfo (scratch containers): offsets are
	// then the same everywhere.
	_ "time/tzdata"

	"github.com/ringsaturn/tzf"
)

// Time zones. Issue 4: every activity keeps its local start time and time
// zone, from the file's local timestamp or its start position.
//
//   - FIT files give the UTC offset (activity.local_timestamp − timestamp),
//     never the zone's name.
//   - GPX, TCX and the JSON upload give neither; their times are UTC.
//
// The zone is therefore looked up from the start position in the time-zone
// boundaries of github.com/ringsaturn/tzf (pure Go, OpenStreetMap-derived
// boundaries embedded in the binary, ~13 MB; no I/O). Without a position
// (treadmill, indoor ride, pool swim) it is the athlete's profile zone
// (Athlete.TimeZone) when given. The offset is the file's when it has one,
// else the zone's at the start time.

// TimeZone sources reported in Analysis.TimeZoneSource.
const (
	TimeZoneFromPosition = "position" // looked up from the start position
	TimeZoneFromAthlete  = "athlete"  // the athlete's profile zone (no position in the file)
)

// zoneFinder loads the boundary data once, on first use: it takes about a
// second and 30 MB, which programs that never analyse a GPS file (or tests)
// should not pay at start-up.
var zoneFinder = sync.OnceValues(func() (tzf.F, error) { return tzf.NewDefaultFinder() })

// PrepareTimeZones loads the zone boundaries now rather than on the first
// GPS file analysed, so a worker can pay the second it takes at start-up
// instead of on an athlete's upload.
func PrepareTimeZones() error {
	_, err := zoneFinder()
	return err
}

// lookupZone is zoneAt; the fuzz tests replace it (see warmUp).
var lookupZone = zoneAt

// zoneAt returns the IANA zone at a position, "" when unknown.
func zoneAt(lat, lon float64) string {
	f, err := zoneFinder()
	if err != nil {
		return ""
	}
	return f.GetTimezoneName(lon, lat)
}

// locations caches loaded zones: time.LoadLocation parses the zone file on
// every call.
var locations sync.Map // name → *time.Location

func loadZone(name string) *time.Location {
	if name == "" {
		return nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil
	}
	locations.Store(name, l)
	return l
}

// localTime is the time-zone part of an analysis.
type localTime struct {
	zone, source string
	offsetS      int
	hasOffset    bool
}

// resolveLocalTime picks the zone and UTC offset of an activity starting at
// start: the offset from the file when it has one; the zone from the start
// position, else from the athlete's profile. A profile zone whose offset at
// the start contradicts the file's offset is not used: the athlete was
// elsewhere.
func resolveLocalTime(rec *Recording, start time.Time, startLatLng []float64, athleteZone string) localTime {
	var lt localTime
	if rec.HasLocalOffset {
		lt.offsetS, lt.hasOffset = rec.LocalOffsetS, true
	}
	if len(startLatLng) == 2 {
		if z := lookupZone(startLatLng[0], startLatLng[1]); loadZone(z) != nil {
			lt.zone, lt.source = z, TimeZoneFromPosition
		}
	}
	if lt.zone == "" {
		if loc := loadZone(athleteZone); loc != nil {
			_, off := start.In(loc).Zone()
			if !lt.hasOffset || off == lt.offsetS {
				lt.zone, lt.source = athleteZone, TimeZoneFromAthlete
			}
		}
	}
	if !lt.hasOffset && lt.zone != "" {
		_, lt.offsetS = start.In(loadZone(lt.zone)).Zone()
		lt.hasOffset = true
	}
	return lt
}
