package render

import (
	"math"
	"sort"

	"gonum.org/v1/plot/vg"
)

// levelLines are the contour lines of one level with the label text to put
// on them.
type levelLines struct {
	text  string
	lines []polyline
	w, h  float64 // label size in points
}

// label is a placed contour label: a rectangle centred on a straight stretch
// of line, along it.
type label struct {
	level, line int
	cx, cy      float64 // centre
	angle       float64 // in (-pi/2, pi/2]
	hw, hh      float64 // half width and height, padding included
	s0, s1      float64 // the stretch of the line (arc length) it covers
}

func (l *label) corners() [4][2]float64 {
	c, s := math.Cos(l.angle), math.Sin(l.angle)
	var out [4][2]float64
	for i, d := range [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
		u, v := d[0]*l.hw, d[1]*l.hh
		out[i] = [2]float64{l.cx + u*c - v*s, l.cy + u*s + v*c}
	}
	return out
}

func (l *label) contains(x, y float64) bool {
	c, s := math.Cos(l.angle), math.Sin(l.angle)
	dx, dy := x-l.cx, y-l.cy
	u := dx*c + dy*s
	v := -dx*s + dy*c
	return math.Abs(u) <= l.hw && math.Abs(v) <= l.hh
}

// overlaps reports whether two labels' rectangles, grown by margin, meet
// (separating axis test).
func overlaps(a, b *label, margin float64) bool {
	ga, gb := *a, *b
	ga.hw += margin
	ga.hh += margin
	ca, cb := ga.corners(), gb.corners()
	for _, ang := range []float64{a.angle, a.angle + math.Pi/2, b.angle, b.angle + math.Pi/2} {
		ax, ay := math.Cos(ang), math.Sin(ang)
		amin, amax := math.Inf(1), math.Inf(-1)
		bmin, bmax := math.Inf(1), math.Inf(-1)
		for i := range 4 {
			pa := ca[i][0]*ax + ca[i][1]*ay
			pb := cb[i][0]*ax + cb[i][1]*ay
			amin, amax = math.Min(amin, pa), math.Max(amax, pa)
			bmin, bmax = math.Min(bmin, pb), math.Max(bmax, pb)
		}
		if amax < bmin || bmax < amin {
			return false
		}
	}
	return true
}

// arc returns the cumulative arc lengths of a polyline's points.
func arc(pts []vg.Point) []float64 {
	s := make([]float64, len(pts))
	for i := 1; i < len(pts); i++ {
		s[i] = s[i-1] + math.Hypot(float64(pts[i].X-pts[i-1].X), float64(pts[i].Y-pts[i-1].Y))
	}
	return s
}

// pointAt returns the point at arc length t along pts.
func pointAt(pts []vg.Point, s []float64, t float64) (float64, float64) {
	i := 1
	for i < len(s)-1 && s[i] < t {
		i++
	}
	seg := s[i] - s[i-1]
	f := 0.0
	if seg > 0 {
		f = (t - s[i-1]) / seg
	}
	f = math.Max(0, math.Min(1, f))
	return float64(pts[i-1].X) + f*float64(pts[i].X-pts[i-1].X), float64(pts[i-1].Y) + f*float64(pts[i].Y-pts[i-1].Y)
}

// placeLabels chooses up to perLevel labels for each level: on stretches of
// line straight enough to write along, inside the rectangle [x0, x1] x
// [y0, y1], crossing no other line, overlapping no other label, and spread
// out: each new label goes as far as possible from those already placed.
func placeLabels(levels []levelLines, x0, y0, x1, y1 float64, perLevel int) []label {
	if perLevel <= 0 {
		return nil
	}
	diag := math.Hypot(x1-x0, y1-y0)
	type cand struct {
		label
		central float64 // 1 at the middle of its line, 0 at the ends
	}
	cands := make([][]cand, len(levels))
	for li, lv := range levels {
		pad := lv.h * 0.35
		length := lv.w + 2*pad
		for pi, pl := range lv.lines {
			s := arc(pl.pts)
			total := s[len(s)-1]
			if total < 1.5*length {
				continue
			}
			for t := length / 2; t+length/2 <= total; t += length / 3 {
				ax, ay := pointAt(pl.pts, s, t-length/2)
				bx, by := pointAt(pl.pts, s, t+length/2)
				chord := math.Hypot(bx-ax, by-ay)
				if chord < 0.96*length {
					continue
				}
				// The line must stay close to the chord under the label.
				straight := true
				ux, uy := (bx-ax)/chord, (by-ay)/chord
				for i, p := range pl.pts {
					if s[i] <= t-length/2 || s[i] >= t+length/2 {
						continue
					}
					if d := math.Abs((float64(p.X)-ax)*uy - (float64(p.Y)-ay)*ux); d > 0.3*lv.h {
						straight = false
						break
					}
				}
				if !straight {
					continue
				}
				ang := math.Atan2(by-ay, bx-ax)
				if ang > math.Pi/2 {
					ang -= math.Pi
				} else if ang <= -math.Pi/2 {
					ang += math.Pi
				}
				l := label{
					level: li, line: pi,
					cx: (ax + bx) / 2, cy: (ay + by) / 2, angle: ang,
					hw: length / 2, hh: lv.h/2 + pad*0.5,
					s0: t - length/2, s1: t + length/2,
				}
				inside := true
				for _, c := range l.corners() {
					if c[0] < x0+2 || c[0] > x1-2 || c[1] < y0+2 || c[1] > y1-2 {
						inside = false
					}
				}
				if !inside || crossesOther(&l, levels, s) {
					continue
				}
				cands[li] = append(cands[li], cand{label: l, central: 1 - math.Abs(t/total-0.5)*2})
			}
		}
	}

	var placed []label
	maxDist := diag / 2
	for range perLevel {
		for li := range levels {
			best, bestScore := -1, math.Inf(-1)
			for ci := range cands[li] {
				c := &cands[li][ci]
				ok := true
				near := maxDist
				for pj := range placed {
					p := &placed[pj]
					d := math.Hypot(c.cx-p.cx, c.cy-p.cy)
					if overlaps(&c.label, p, 2) || (p.level == li && d < diag/4) {
						ok = false
						break
					}
					near = math.Min(near, d)
				}
				if !ok {
					continue
				}
				score := near + 0.1*diag*c.central
				if score > bestScore {
					best, bestScore = ci, score
				}
			}
			if best >= 0 {
				placed = append(placed, cands[li][best].label)
			}
		}
	}
	return placed
}

// crossesOther reports whether a point of any contour line other than the
// stretch under l lies inside l's rectangle. s is the arc length of l's own
// line.
func crossesOther(l *label, levels []levelLines, s []float64) bool {
	for li, lv := range levels {
		for pi, pl := range lv.lines {
			own := li == l.level && pi == l.line
			for i, p := range pl.pts {
				if own && s[i] > l.s0-1 && s[i] < l.s1+1 {
					continue
				}
				if l.contains(float64(p.X), float64(p.Y)) {
					return true
				}
			}
		}
	}
	return false
}

// cut returns the pieces of pl outside the arc-length intervals [s0, s1]
// of labels.
func cut(pl polyline, gaps [][2]float64) [][]vg.Point {
	if len(gaps) == 0 {
		return [][]vg.Point{pl.pts}
	}
	s := arc(pl.pts)
	inGap := func(t float64) bool {
		for _, g := range gaps {
			if t > g[0] && t < g[1] {
				return true
			}
		}
		return false
	}
	// Break points: the vertices plus the gap ends.
	var out [][]vg.Point
	var cur []vg.Point
	emit := func() {
		if len(cur) >= 2 {
			out = append(out, cur)
		}
		cur = nil
	}
	for i := range pl.pts {
		if i > 0 {
			// Gap ends strictly inside this segment, in order.
			var ts []float64
			for _, g := range gaps {
				for _, e := range g {
					if e > s[i-1] && e < s[i] {
						ts = append(ts, e)
					}
				}
			}
			sort.Float64s(ts)
			for _, t := range ts {
				x, y := pointAt(pl.pts, s, t)
				if inGap(t - 1e-9) {
					// Leaving a gap: start a new piece.
					emit()
					cur = append(cur, vg.Point{X: vg.Length(x), Y: vg.Length(y)})
				} else {
					cur = append(cur, vg.Point{X: vg.Length(x), Y: vg.Length(y)})
					emit()
				}
			}
		}
		if !inGap(s[i]) {
			cur = append(cur, pl.pts[i])
		}
	}
	emit()
	return out
}
