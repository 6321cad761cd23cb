package activity

import "math"

// earthRadiusM is the mean Earth radius (IUGG R1). The haversine distance on
// this sphere differs from the WGS84 geodesic by under 0.3 % anywhere and by
// under 0.1 % for the mostly east-west and north-south legs of a track, well
// inside the 0.5 % this package aims for; devices use the same approximation.
const earthRadiusM = 6371008.8

const degToRad = math.Pi / 180

// haversine returns the great-circle distance in metres between two points
// given in degrees.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	φ1, φ2 := lat1*degToRad, lat2*degToRad
	dφ := φ2 - φ1
	dλ := (lon2 - lon1) * degToRad
	s1, s2 := math.Sin(dφ/2), math.Sin(dλ/2)
	a := s1*s1 + math.Cos(φ1)*math.Cos(φ2)*s2*s2
	return 2 * earthRadiusM * math.Asin(math.Sqrt(min(1, a)))
}
