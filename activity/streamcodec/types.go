package streamcodec

import (
	"fmt"

	"github.com/stridehq/stride/activity"
)

// Stream type names, as Strava's streams API names them, so that clients
// written against it find the same keys.
const (
	TypeTime      = "time"
	TypeLatLng    = "latlng"
	TypeDistance  = "distance"
	TypeAltitude  = "altitude"
	TypeVelocity  = "velocity_smooth"
	TypeHeartRate = "heartrate"
	TypeCadence   = "cadence"
	TypeWatts     = "watts"
)

// Types lists every stream type Select accepts.
func Types() []string {
	return []string{TypeTime, TypeLatLng, TypeDistance, TypeAltitude, TypeVelocity, TypeHeartRate, TypeCadence, TypeWatts}
}

// Select returns the streams with only the requested types kept (others
// nil), for serving what a client asked for. The result shares its columns
// with s: it is a view, not a copy. An unknown type is an error, so that a
// typo in a request is reported instead of silently returning nothing; a
// known type the activity lacks is simply nil.
func Select(s *activity.Streams, types []string) (*activity.Streams, error) {
	out := &activity.Streams{}
	if s == nil {
		return out, nil
	}
	for _, t := range types {
		switch t {
		case TypeTime:
			out.Time = s.Time
		case TypeLatLng:
			out.LatLng = s.LatLng
		case TypeDistance:
			out.Distance = s.Distance
		case TypeAltitude:
			out.Altitude = s.Altitude
		case TypeVelocity:
			out.Velocity = s.Velocity
		case TypeHeartRate:
			out.HeartRate = s.HeartRate
		case TypeCadence:
			out.Cadence = s.Cadence
		case TypeWatts:
			out.Watts = s.Watts
		default:
			return nil, fmt.Errorf("streamcodec: select: unknown stream type %q", t)
		}
	}
	return out, nil
}

// typeIDs maps stream types to column ids.
func typeIDs(types []string) (map[byte]bool, error) {
	ids := make(map[byte]bool, len(types))
	for _, t := range types {
		switch t {
		case TypeLatLng:
			ids[colLatLng] = true
			continue
		}
		found := false
		for _, c := range scalars {
			if c.name == t {
				ids[c.id] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown stream type %q", t)
		}
	}
	return ids, nil
}
