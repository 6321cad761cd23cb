package activity

import (
	"math"

	"github.com/twpayne/go-polyline"
)

// Route simplification: Douglas-Peucker in a local equirectangular
// projection (metres) with routeToleranceM, doubled until at most
// maxRoutePoints remain, so that a map preview stays small for any length.
const (
	routeToleranceM = 5.0
	maxRoutePoints  = 1000
)

type route struct {
	polyline   string
	bbox       []float64
	start, end []float64
}

func buildRoute(pts []Point) route {
	var r route
	idx := make([]int, 0, len(pts))
	minLat, minLon := math.Inf(1), math.Inf(1)
	maxLat, maxLon := math.Inf(-1), math.Inf(-1)
	for i := range pts {
		if !pts[i].HasPosition() {
			continue
		}
		idx = append(idx, i)
		minLat, maxLat = math.Min(minLat, pts[i].Lat), math.Max(maxLat, pts[i].Lat)
		minLon, maxLon = math.Min(minLon, pts[i].Lon), math.Max(maxLon, pts[i].Lon)
	}
	if len(idx) == 0 {
		return r
	}
	first, last := pts[idx[0]], pts[idx[len(idx)-1]]
	r.start = []float64{round6(first.Lat), round6(first.Lon)}
	r.end = []float64{round6(last.Lat), round6(last.Lon)}
	r.bbox = []float64{round6(minLon), round6(minLat), round6(maxLon), round6(maxLat)}

	// Project to metres around the track's mean latitude.
	cosLat := math.Cos((minLat + maxLat) / 2 * degToRad)
	xs := make([]float64, len(idx))
	ys := make([]float64, len(idx))
	for k, i := range idx {
		xs[k] = pts[i].Lon * degToRad * earthRadiusM * cosLat
		ys[k] = pts[i].Lat * degToRad * earthRadiusM
	}
	// Each coarser pass runs on the survivors of the previous one: the
	// result is the same shape, and long tracks do not pay n log n again.
	for tol := routeToleranceM; ; tol *= 2 {
		keep := douglasPeucker(xs, ys, tol)
		kept := 0
		for k := range keep {
			if keep[k] {
				xs[kept], ys[kept], idx[kept] = xs[k], ys[k], idx[k]
				kept++
			}
		}
		xs, ys, idx = xs[:kept], ys[:kept], idx[:kept]
		if kept <= maxRoutePoints {
			break
		}
	}
	coords := make([][]float64, 0, len(idx))
	for _, i := range idx {
		coords = append(coords, []float64{pts[i].Lat, pts[i].Lon})
	}
	r.polyline = string(polyline.EncodeCoords(coords))
	return r
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// douglasPeucker marks the points to keep so that no dropped point is
// farther than tol from the simplified line. It uses an explicit stack, so a
// track of any length cannot overflow the goroutine stack.
func douglasPeucker(xs, ys []float64, tol float64) []bool {
	n := len(xs)
	keep := make([]bool, n)
	if n == 0 {
		return keep
	}
	keep[0], keep[n-1] = true, true
	type span struct{ a, b int }
	stack := []span{{0, n - 1}}
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if sp.b-sp.a < 2 {
			continue
		}
		farthest, dmax := -1, tol
		for i := sp.a + 1; i < sp.b; i++ {
			if d := segmentDistance(xs[i], ys[i], xs[sp.a], ys[sp.a], xs[sp.b], ys[sp.b]); d > dmax {
				farthest, dmax = i, d
			}
		}
		if farthest >= 0 {
			keep[farthest] = true
			stack = append(stack, span{sp.a, farthest}, span{farthest, sp.b})
		}
	}
	return keep
}

// segmentDistance is the distance from (px,py) to the segment (ax,ay)-(bx,by).
func segmentDistance(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return math.Hypot(px-ax, py-ay)
	}
	t := math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}
