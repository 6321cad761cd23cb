package activity

import (
	"math"
	"time"
)

// buildStreams lays the cleaned points out as columns. Columns with no
// value at all are left nil so that a store does not persist empty streams.
func buildStreams(pts []Point, s *series, cad *CadenceMetrics) *Streams {
	n := len(pts)
	if n == 0 {
		return &Streams{}
	}
	st := &Streams{Time: make([]float64, n)}
	copy(st.Time, s.t)
	col := func(get func(*Point) float64) []float64 {
		var out []float64
		for i := range pts {
			if v := get(&pts[i]); Has(v) {
				if out == nil {
					out = make([]float64, n)
					for j := 0; j < i; j++ {
						out[j] = math.NaN()
					}
				}
				out[i] = v
			} else if out != nil {
				out[i] = math.NaN()
			}
		}
		return out
	}
	for i := range pts {
		if pts[i].HasPosition() {
			st.LatLng = make([][2]float64, n)
			for j := range pts {
				if pts[j].HasPosition() {
					st.LatLng[j] = [2]float64{pts[j].Lat, pts[j].Lon}
				} else {
					st.LatLng[j] = [2]float64{math.NaN(), math.NaN()}
				}
			}
			break
		}
	}
	st.Altitude = col(func(p *Point) float64 { return p.Altitude })
	st.HeartRate = col(func(p *Point) float64 { return p.HeartRate })
	factor := 1.0
	if cad != nil {
		factor = cad.factor
	}
	st.Cadence = col(func(p *Point) float64 { return p.Cadence * factor })
	st.Watts = col(func(p *Point) float64 { return p.Power })
	if s.hasSpeed {
		st.Velocity = make([]float64, n)
		copy(st.Velocity, s.speed)
	}
	if s.hasDist {
		st.Distance = make([]float64, n)
		copy(st.Distance, s.dist)
	}
	return st
}

// concatStreams joins the streams of a multisport's sessions, shifting each
// session's time to the parent's start. Columns absent from one session are
// filled with NaN there.
func concatStreams(start time.Time, children []*Analysis) *Streams {
	total := 0
	for _, c := range children {
		if c.Streams != nil {
			total += len(c.Streams.Time)
		}
	}
	out := &Streams{Time: make([]float64, 0, total)}
	var distOffset float64
	type column struct {
		dst *[]float64
		src func(*Streams) []float64
	}
	cols := []column{
		{&out.Altitude, func(s *Streams) []float64 { return s.Altitude }},
		{&out.HeartRate, func(s *Streams) []float64 { return s.HeartRate }},
		{&out.Cadence, func(s *Streams) []float64 { return s.Cadence }},
		{&out.Watts, func(s *Streams) []float64 { return s.Watts }},
		{&out.Velocity, func(s *Streams) []float64 { return s.Velocity }},
	}
	anyCol := func(get func(*Streams) []float64) bool {
		for _, c := range children {
			if c.Streams != nil && get(c.Streams) != nil {
				return true
			}
		}
		return false
	}
	for _, col := range cols {
		if anyCol(col.src) {
			*col.dst = make([]float64, 0, total)
		}
	}
	hasLatLng := anyCol(func(s *Streams) []float64 {
		if s.LatLng != nil {
			return []float64{}
		}
		return nil
	})
	hasDist := anyCol(func(s *Streams) []float64 { return s.Distance })
	if hasLatLng {
		out.LatLng = make([][2]float64, 0, total)
	}
	if hasDist {
		out.Distance = make([]float64, 0, total)
	}
	for _, c := range children {
		st := c.Streams
		if st == nil || len(st.Time) == 0 {
			continue
		}
		shift := c.StartTime.Sub(start).Seconds()
		for _, t := range st.Time {
			out.Time = append(out.Time, t+shift)
		}
		for _, col := range cols {
			if *col.dst != nil {
				*col.dst = appendOrNaN(*col.dst, col.src(st), len(st.Time))
			}
		}
		if hasLatLng {
			for i := range st.Time {
				if st.LatLng != nil {
					out.LatLng = append(out.LatLng, st.LatLng[i])
				} else {
					out.LatLng = append(out.LatLng, [2]float64{math.NaN(), math.NaN()})
				}
			}
		}
		if hasDist {
			last := distOffset
			for i := range st.Time {
				if st.Distance != nil {
					last = distOffset + st.Distance[i]
				}
				out.Distance = append(out.Distance, last)
			}
			distOffset = last
		}
	}
	return out
}

func appendOrNaN(dst, src []float64, n int) []float64 {
	if src != nil {
		return append(dst, src...)
	}
	for i := 0; i < n; i++ {
		dst = append(dst, math.NaN())
	}
	return dst
}
