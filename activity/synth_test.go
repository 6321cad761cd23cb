package activity

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/muktihari/fit/kit/hash/crc16"
)

// synthStart is the start of synthesized activities.
var synthStart = time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)

// synthPoint returns a plausible ride sample for second i: a loop around a
// park with rolling altitude, heart rate, cadence and power.
func synthPoint(i int) (lat, lon, alt, hr, cad, power, speed, dist float64) {
	speed = 8 + 2*math.Sin(float64(i)/60)
	dist = 8 * float64(i)
	// A 5 km circle: radius 5000/2π m, in degrees at latitude 46°.
	const radiusM = 5000 / (2 * math.Pi)
	angle := dist / 5000 * 2 * math.Pi
	lat = 46.05 + radiusM/111195*math.Sin(angle)
	lon = 14.50 + radiusM/(111195*math.Cos(46.05*degToRad))*math.Cos(angle)
	alt = 300 + 40*math.Sin(float64(i)/300)
	hr = 140 + 15*math.Sin(float64(i)/200)
	cad = 85 + 5*math.Sin(float64(i)/30)
	power = 220 + 60*math.Sin(float64(i)/45)
	return
}

// synthFIT writes a FIT activity of n one-second records (file_id, timer
// start/stop events, records with position, altitude, heart rate, cadence,
// distance, speed and power), with valid header and file CRCs.
func synthFIT(n int) []byte {
	var data []byte
	le := binary.LittleEndian
	// file_id definition (local 0) and message: type=activity, manufacturer=development.
	data = append(data, 0x40, 0, 0, 0, 0, 3, 0, 1, 0x00, 1, 2, 0x84, 4, 4, 0x86)
	data = append(data, 0x00, 4)
	data = le.AppendUint16(data, 255)
	data = le.AppendUint32(data, uint32(synthStart.Unix()-fitEpoch))
	// event definition (local 1): timestamp, event, event_type.
	data = append(data, 0x41, 0, 0, 21, 0, 3, 253, 4, 0x86, 0, 1, 0x00, 1, 1, 0x00)
	event := func(t uint32, typ byte) {
		data = append(data, 0x01)
		data = le.AppendUint32(data, t)
		data = append(data, 0, typ)
	}
	event(uint32(synthStart.Unix()-fitEpoch), 0)
	// record definition (local 2).
	data = append(data, 0x42, 0, 0, 20, 0, 9,
		253, 4, 0x86, 0, 4, 0x85, 1, 4, 0x85, 2, 2, 0x84, 3, 1, 0x02, 4, 1, 0x02, 5, 4, 0x86, 6, 2, 0x84, 7, 2, 0x84)
	for i := 0; i < n; i++ {
		lat, lon, alt, hr, cad, power, speed, dist := synthPoint(i)
		data = append(data, 0x02)
		data = le.AppendUint32(data, uint32(synthStart.Unix()-fitEpoch)+uint32(i))
		data = le.AppendUint32(data, uint32(int32(lat/semicircleDegrees)))
		data = le.AppendUint32(data, uint32(int32(lon/semicircleDegrees)))
		data = le.AppendUint16(data, uint16((alt+500)*5))
		data = append(data, byte(hr), byte(cad))
		data = le.AppendUint32(data, uint32(dist*100))
		data = le.AppendUint16(data, uint16(speed*1000))
		data = le.AppendUint16(data, uint16(power))
	}
	event(uint32(synthStart.Unix()-fitEpoch)+uint32(n-1), 4)
	header := []byte{14, 0x20, 0x08, 0x08, 0, 0, 0, 0, '.', 'F', 'I', 'T', 0, 0}
	le.PutUint32(header[4:8], uint32(len(data)))
	h := crc16.New()
	_, _ = h.Write(header[:12])
	le.PutUint16(header[12:14], h.Sum16())
	file := append(header, data...)
	h.Reset()
	_, _ = h.Write(file)
	return le.AppendUint16(file, h.Sum16())
}

func synthGPX(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="stride-bench" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<trk><name>bench</name><type>cycling</type><trkseg>
`)
	for i := 0; i < n; i++ {
		lat, lon, alt, hr, cad, power, _, _ := synthPoint(i)
		fmt.Fprintf(&b, `<trkpt lat="%.7f" lon="%.7f"><ele>%.1f</ele><time>%s</time><extensions><power>%.0f</power><gpxtpx:TrackPointExtension><gpxtpx:hr>%.0f</gpxtpx:hr><gpxtpx:cad>%.0f</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>
`, lat, lon, alt, synthStart.Add(time.Duration(i)*time.Second).Format(time.RFC3339), power, hr, cad)
	}
	b.WriteString("</trkseg></trk></gpx>\n")
	return []byte(b.String())
}

func synthTCX(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
<Activities><Activity Sport="Biking"><Id>%s</Id><Lap StartTime="%s"><TotalTimeSeconds>%d</TotalTimeSeconds><DistanceMeters>%.1f</DistanceMeters><Calories>900</Calories><Track>
`, synthStart.Format(time.RFC3339), synthStart.Format(time.RFC3339), n, 8*float64(n-1))
	for i := 0; i < n; i++ {
		lat, lon, alt, hr, cad, power, speed, dist := synthPoint(i)
		fmt.Fprintf(&b, `<Trackpoint><Time>%s</Time><Position><LatitudeDegrees>%.7f</LatitudeDegrees><LongitudeDegrees>%.7f</LongitudeDegrees></Position><AltitudeMeters>%.1f</AltitudeMeters><DistanceMeters>%.1f</DistanceMeters><HeartRateBpm><Value>%.0f</Value></HeartRateBpm><Cadence>%.0f</Cadence><Extensions><ns3:TPX><ns3:Speed>%.3f</ns3:Speed><ns3:Watts>%.0f</ns3:Watts></ns3:TPX></Extensions></Trackpoint>
`, synthStart.Add(time.Duration(i)*time.Second).Format(time.RFC3339), lat, lon, alt, dist, hr, cad, speed, power)
	}
	b.WriteString("</Track></Lap></Activity></Activities></TrainingCenterDatabase>\n")
	return []byte(b.String())
}

func synthJSON(n int) []byte {
	a := JSONActivity{Sport: "cycling", StartTime: synthStart, Name: "bench"}
	for i := 0; i < n; i++ {
		lat, lon, alt, hr, cad, power, speed, _ := synthPoint(i)
		a.Points = append(a.Points, JSONPoint{T: synthStart.Add(time.Duration(i) * time.Second),
			Lat: &lat, Lon: &lon, Ele: &alt, HR: &hr, Cad: &cad, Power: &power, Speed: &speed})
	}
	b, err := json.Marshal(a)
	if err != nil {
		panic(err)
	}
	return b
}
