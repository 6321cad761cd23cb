package activity

import "strings"

// Sport is a Stride sport key, one of the Name values in Sports.
type Sport string

// Sports Stride knows. The indoor and virtual variants are sports of their
// own (as on Strava) so that leaderboards and records never mix a treadmill
// 5 km with a road one.
const (
	SportRunning           Sport = "running"
	SportTrailRunning      Sport = "trail_running"
	SportTreadmillRunning  Sport = "treadmill_running"
	SportVirtualRunning    Sport = "virtual_running"
	SportWalking           Sport = "walking"
	SportHiking            Sport = "hiking"
	SportCycling           Sport = "cycling"
	SportMountainBiking    Sport = "mountain_biking"
	SportGravelCycling     Sport = "gravel_cycling"
	SportEBiking           Sport = "e_biking"
	SportIndoorCycling     Sport = "indoor_cycling"
	SportVirtualCycling    Sport = "virtual_cycling"
	SportPoolSwimming      Sport = "pool_swimming"
	SportOpenWaterSwimming Sport = "open_water_swimming"
	SportSwimming          Sport = "swimming" // swimming where the file does not say pool or open water
	SportRowing            Sport = "rowing"
	SportIndoorRowing      Sport = "indoor_rowing"
	SportKayaking          Sport = "kayaking"
	SportStandUpPaddling   Sport = "stand_up_paddling"
	SportCrossCountrySki   Sport = "cross_country_skiing"
	SportAlpineSkiing      Sport = "alpine_skiing"
	SportSnowboarding      Sport = "snowboarding"
	SportInlineSkating     Sport = "inline_skating"
	SportElliptical        Sport = "elliptical"
	SportStairClimbing     Sport = "stair_climbing"
	SportStrengthTraining  Sport = "strength_training"
	SportYoga              Sport = "yoga"
	SportHIIT              Sport = "hiit"
	SportTransition        Sport = "transition"
	SportMultisport        Sport = "multisport"
	SportOther             Sport = "other"
)

// Family groups sports that share units and rules (cadence unit, best
// efforts, GPS spike threshold).
type Family string

// Sport families.
const (
	FamilyFoot   Family = "foot"   // cadence in steps/min, running best efforts
	FamilyCycle  Family = "cycle"  // cadence in rpm, power best efforts
	FamilySwim   Family = "swim"   // strokes/min
	FamilyWater  Family = "water"  // paddling, rowing
	FamilySnow   Family = "snow"   //
	FamilyOther  Family = "other"  //
	FamilyRouted Family = "routed" // transition, multisport: containers
)

// SportInfo describes a sport: the published list the API documents.
type SportInfo struct {
	Name    Sport  `json:"name"`
	Family  Family `json:"family"`
	Indoor  bool   `json:"indoor"`
	Virtual bool   `json:"virtual"`
	// MET is the metabolic equivalent used for calories when neither the
	// device nor heart rate gives them (Ainsworth et al., 2011 Compendium).
	MET float64 `json:"met"`
	// MaxSpeedMps is the fastest plausible speed; faster GPS jumps are spikes.
	MaxSpeedMps float64 `json:"max_speed_mps"`
}

// Sports is the published list of sports, in a stable order.
var Sports = []SportInfo{
	{SportRunning, FamilyFoot, false, false, 9.8, 12.5},
	{SportTrailRunning, FamilyFoot, false, false, 9.0, 12.5},
	{SportTreadmillRunning, FamilyFoot, true, false, 9.0, 12.5},
	{SportVirtualRunning, FamilyFoot, true, true, 9.0, 12.5},
	{SportWalking, FamilyFoot, false, false, 3.5, 12.5},
	{SportHiking, FamilyFoot, false, false, 6.0, 12.5},
	{SportCycling, FamilyCycle, false, false, 8.0, 35},
	{SportMountainBiking, FamilyCycle, false, false, 8.5, 35},
	{SportGravelCycling, FamilyCycle, false, false, 8.0, 35},
	{SportEBiking, FamilyCycle, false, false, 5.0, 35},
	{SportIndoorCycling, FamilyCycle, true, false, 7.0, 35},
	{SportVirtualCycling, FamilyCycle, true, true, 7.0, 35},
	{SportPoolSwimming, FamilySwim, true, false, 7.0, 4},
	{SportOpenWaterSwimming, FamilySwim, false, false, 7.0, 4},
	{SportSwimming, FamilySwim, false, false, 7.0, 4},
	{SportRowing, FamilyWater, false, false, 7.0, 10},
	{SportIndoorRowing, FamilyWater, true, false, 7.0, 10},
	{SportKayaking, FamilyWater, false, false, 5.0, 10},
	{SportStandUpPaddling, FamilyWater, false, false, 6.0, 10},
	{SportCrossCountrySki, FamilySnow, false, false, 9.0, 25},
	{SportAlpineSkiing, FamilySnow, false, false, 5.3, 45},
	{SportSnowboarding, FamilySnow, false, false, 5.3, 45},
	{SportInlineSkating, FamilyOther, false, false, 7.5, 20},
	{SportElliptical, FamilyOther, true, false, 5.0, 12.5},
	{SportStairClimbing, FamilyOther, true, false, 9.0, 12.5},
	{SportStrengthTraining, FamilyOther, true, false, 5.0, 12.5},
	{SportYoga, FamilyOther, true, false, 2.5, 12.5},
	{SportHIIT, FamilyOther, true, false, 8.0, 12.5},
	{SportTransition, FamilyRouted, false, false, 4.0, 35},
	{SportMultisport, FamilyRouted, false, false, 8.0, 35},
	// Other has a generous speed limit: a file of unknown sport may be a drive.
	{SportOther, FamilyOther, false, false, 6.0, 70},
}

var sportIndex = func() map[Sport]int {
	m := make(map[Sport]int, len(Sports))
	for i, s := range Sports {
		m[s.Name] = i
	}
	return m
}()

// LookupSport returns the description of s; ok is false for an unknown key.
func LookupSport(s Sport) (info SportInfo, ok bool) {
	i, ok := sportIndex[s]
	if !ok {
		return Sports[sportIndex[SportOther]], false
	}
	return Sports[i], true
}

// Info returns the description of s, that of SportOther if s is unknown.
func (s Sport) Info() SportInfo {
	info, _ := LookupSport(s)
	return info
}

// SportFromFIT maps a FIT sport and sub_sport (profile names, snake_case) to a
// Stride sport. The sub-sport decides indoor and virtual variants.
func SportFromFIT(sport, subSport string) Sport {
	switch sport {
	case "running":
		switch subSport {
		case "treadmill", "indoor_running":
			return SportTreadmillRunning
		case "trail":
			return SportTrailRunning
		case "virtual_activity":
			return SportVirtualRunning
		}
		return SportRunning
	case "cycling":
		switch subSport {
		case "indoor_cycling", "spin", "hand_cycling_indoor":
			return SportIndoorCycling
		case "virtual_activity":
			return SportVirtualCycling
		case "mountain", "downhill", "cyclocross":
			return SportMountainBiking
		case "gravel_cycling":
			return SportGravelCycling
		case "e_bike_fitness", "e_bike_mountain":
			return SportEBiking
		}
		return SportCycling
	case "e_biking":
		return SportEBiking
	case "walking":
		if subSport == "treadmill" || subSport == "indoor_walking" {
			return SportTreadmillRunning
		}
		return SportWalking
	case "hiking", "mountaineering":
		return SportHiking
	case "swimming":
		switch subSport {
		case "lap_swimming":
			return SportPoolSwimming
		case "open_water":
			return SportOpenWaterSwimming
		}
		return SportSwimming
	case "rowing":
		if subSport == "indoor_rowing" {
			return SportIndoorRowing
		}
		return SportRowing
	case "paddling", "kayaking", "rafting", "canoeing":
		return SportKayaking
	case "stand_up_paddleboarding":
		return SportStandUpPaddling
	case "cross_country_skiing":
		return SportCrossCountrySki
	case "alpine_skiing":
		return SportAlpineSkiing
	case "snowboarding":
		return SportSnowboarding
	case "inline_skating":
		return SportInlineSkating
	case "fitness_equipment":
		switch subSport {
		case "treadmill", "indoor_running":
			return SportTreadmillRunning
		case "indoor_cycling", "spin":
			return SportIndoorCycling
		case "indoor_rowing":
			return SportIndoorRowing
		case "elliptical":
			return SportElliptical
		case "stair_climbing":
			return SportStairClimbing
		case "yoga", "pilates":
			return SportYoga
		case "strength_training":
			return SportStrengthTraining
		}
		return SportOther
	case "training":
		switch subSport {
		case "strength_training":
			return SportStrengthTraining
		case "yoga", "pilates":
			return SportYoga
		}
		return SportHIIT
	case "hiit":
		return SportHIIT
	case "transition":
		return SportTransition
	case "multisport":
		return SportMultisport
	}
	return SportOther
}

// SportFromName maps a free-form sport name (TCX Sport attribute, GPX
// <type>, the API's JSON "sport", Strava activity type codes) to a Stride
// sport. Unknown names give SportOther.
func SportFromName(name string) Sport {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.NewReplacer(" ", "_", "-", "_").Replace(n)
	if _, ok := sportIndex[Sport(n)]; ok {
		return Sport(n)
	}
	switch n {
	case "run", "running", "9", "street_running", "track_running":
		return SportRunning
	case "trail_run", "trailrun":
		return SportTrailRunning
	case "treadmill", "treadmill_run":
		return SportTreadmillRunning
	case "virtualrun", "virtual_run":
		return SportVirtualRunning
	case "walk", "10":
		return SportWalking
	case "hike", "4":
		return SportHiking
	case "biking", "bike", "ride", "road_biking", "road_cycling", "1":
		return SportCycling
	case "mountain_biking", "mountainbikeride", "mtb":
		return SportMountainBiking
	case "virtualride", "virtual_ride":
		return SportVirtualCycling
	case "indoor_ride", "spinning", "indoor_biking":
		return SportIndoorCycling
	case "ebikeride", "e_bike", "ebike":
		return SportEBiking
	case "swim", "swimming", "2":
		return SportSwimming
	case "pool_swim", "lap_swimming":
		return SportPoolSwimming
	case "open_water", "open_water_swim":
		return SportOpenWaterSwimming
	case "row":
		return SportRowing
	case "kayak", "canoeing":
		return SportKayaking
	case "sup", "standuppaddling":
		return SportStandUpPaddling
	case "nordic_ski", "nordicski", "cross_country_ski", "xc_ski":
		return SportCrossCountrySki
	case "alpine_ski", "alpineski":
		return SportAlpineSkiing
	case "weight_training", "weighttraining", "strength":
		return SportStrengthTraining
	}
	return SportOther
}
