package render

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/palette"
)

// ColorMap is a perceptually uniform colour map. It implements gonum's
// palette.ColorMap and palette.Palette, so it can be used wherever
// gonum/plot takes either.
//
// A ColorMap interpolates linearly, in sRGB, between ten anchor colours
// sampled at equal steps from the published map (van der Walt and Smith's
// viridis family for matplotlib, Nuñez et al.'s cividis). The error of the
// interpolation is a few units in 255, invisible in a picture.
type ColorMap struct {
	// Name is the map's name, such as "viridis".
	Name string

	// Reverse runs the map backwards: At(Min()) is the colour
	// that would otherwise be At(Max()).
	Reverse bool

	anchors  []color.NRGBA
	min, max float64
	alpha    float64
}

var (
	_ palette.ColorMap = (*ColorMap)(nil)
	_ palette.Palette  = (*ColorMap)(nil)
)

func newColorMap(name string, hex ...uint32) *ColorMap {
	m := &ColorMap{Name: name, max: 1, alpha: 1}
	for _, h := range hex {
		m.anchors = append(m.anchors, color.NRGBA{R: uint8(h >> 16), G: uint8(h >> 8), B: uint8(h), A: 255})
	}
	return m
}

// Viridis returns the viridis map, dark blue to yellow, on the range [0, 1].
// It is the package's default map.
func Viridis() *ColorMap {
	return newColorMap("viridis",
		0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e,
		0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c, 0xfde725)
}

// Magma returns the magma map, black to light yellow through purple, on the
// range [0, 1].
func Magma() *ColorMap {
	return newColorMap("magma",
		0x000004, 0x180f3e, 0x451077, 0x721f81, 0x9f2f7f,
		0xcd4071, 0xf1605d, 0xfd9567, 0xfec98d, 0xfcfdbf)
}

// Inferno returns the inferno map, black to light yellow through red, on
// the range [0, 1].
func Inferno() *ColorMap {
	return newColorMap("inferno",
		0x000004, 0x1b0c42, 0x4b0c6b, 0x781c6d, 0xa52c60,
		0xcf4446, 0xed6925, 0xfb9a06, 0xf7d03c, 0xfcffa4)
}

// Plasma returns the plasma map, blue to yellow through magenta, on the
// range [0, 1].
func Plasma() *ColorMap {
	return newColorMap("plasma",
		0x0d0887, 0x47039f, 0x7301a8, 0x9c179e, 0xbd3786,
		0xd8576b, 0xed7953, 0xfa9e3b, 0xfdc926, 0xf0f921)
}

// Cividis returns the cividis map, blue to yellow, designed to read the same
// to viewers with deficient colour vision, on the range [0, 1].
func Cividis() *ColorMap {
	return newColorMap("cividis",
		0x00204d, 0x00336f, 0x39486b, 0x575c6d, 0x707173,
		0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b, 0xffea46)
}

// ColorMapNames lists the names ColorMapNamed accepts.
var ColorMapNames = []string{"viridis", "magma", "inferno", "plasma", "cividis"}

// ColorMapNamed returns the map with the given name, one of ColorMapNames,
// ignoring case. A suffix "_r" returns the map reversed, as in matplotlib.
func ColorMapNamed(name string) (*ColorMap, error) {
	n := strings.ToLower(name)
	rev := strings.HasSuffix(n, "_r")
	n = strings.TrimSuffix(n, "_r")
	var m *ColorMap
	switch n {
	case "viridis":
		m = Viridis()
	case "magma":
		m = Magma()
	case "inferno":
		m = Inferno()
	case "plasma":
		m = Plasma()
	case "cividis":
		m = Cividis()
	default:
		return nil, fmt.Errorf("render: unknown colour map %q (want one of %s)", name, strings.Join(ColorMapNames, ", "))
	}
	m.Reverse = rev
	return m, nil
}

// Stops returns the map's anchor colours at equal steps from 0 to 1,
// honouring Reverse: interpolating linearly between them gives Color, so
// that another renderer (the report page's script) draws the same colours.
func (m *ColorMap) Stops() []color.NRGBA {
	out := make([]color.NRGBA, len(m.anchors))
	for i := range out {
		out[i] = m.Color(float64(i) / float64(len(out)-1))
	}
	return out
}

// Color returns the colour at the fraction t of the way along the map,
// honouring Reverse and Alpha. t is clamped to [0, 1]; NaN gives the
// colour at 0.
func (m *ColorMap) Color(t float64) color.NRGBA {
	if !(t > 0) { // also NaN
		t = 0
	}
	if t > 1 {
		t = 1
	}
	if m.Reverse {
		t = 1 - t
	}
	n := len(m.anchors) - 1
	f := t * float64(n)
	i := int(f)
	if i >= n {
		i = n - 1
	}
	f -= float64(i)
	a, b := m.anchors[i], m.anchors[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + f*(float64(q)-float64(p)))) }
	return color.NRGBA{
		R: mix(a.R, b.R),
		G: mix(a.G, b.G),
		B: mix(a.B, b.B),
		A: uint8(math.Round(255 * m.Alpha())),
	}
}

// At returns the colour of value v on the range [Min(), Max()]. It returns
// palette.ErrNaN for NaN and palette.ErrUnderflow or palette.ErrOverflow
// for values outside the range, as gonum's maps do.
func (m *ColorMap) At(v float64) (color.Color, error) {
	switch {
	case math.IsNaN(v):
		return nil, palette.ErrNaN
	case v < m.min:
		return nil, palette.ErrUnderflow
	case v > m.max:
		return nil, palette.ErrOverflow
	}
	if m.max == m.min {
		return m.Color(0.5), nil
	}
	return m.Color((v - m.min) / (m.max - m.min)), nil
}

// Min returns the value mapped to the map's first colour; it is 0 unless set.
func (m *ColorMap) Min() float64 { return m.min }

// Max returns the value mapped to the map's last colour; it is 1 unless set.
func (m *ColorMap) Max() float64 { return m.max }

// SetMin sets the value mapped to the map's first colour.
func (m *ColorMap) SetMin(v float64) { m.min = v }

// SetMax sets the value mapped to the map's last colour.
func (m *ColorMap) SetMax(v float64) { m.max = v }

// Alpha returns the opacity of the map's colours; it is 1 unless set.
func (m *ColorMap) Alpha() float64 { return m.alpha }

// SetAlpha sets the opacity of the map's colours. It panics if a is
// outside [0, 1].
func (m *ColorMap) SetAlpha(a float64) {
	if !(a >= 0 && a <= 1) {
		panic(fmt.Sprintf("render: alpha %v outside [0, 1]", a))
	}
	m.alpha = a
}

// Palette returns n colours at equal steps along the map, first to last.
func (m *ColorMap) Palette(n int) palette.Palette {
	cs := make(colors, max(n, 0))
	for i := range cs {
		t := 0.5
		if n > 1 {
			t = float64(i) / float64(n-1)
		}
		cs[i] = m.Color(t)
	}
	return cs
}

// Colors returns 256 colours at equal steps along the map, so that a
// ColorMap is also a palette.Palette, for gonum's plotter.HeatMap and
// plotter.Contour.
func (m *ColorMap) Colors() []color.Color { return m.Palette(256).Colors() }

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// fraction returns the colour at the fraction t along any palette.ColorMap,
// whatever its Min and Max; t is clamped to [0, 1].
func fraction(cm palette.ColorMap, t float64) color.Color {
	if m, ok := cm.(*ColorMap); ok {
		return m.Color(t)
	}
	if !(t > 0) {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	lo, hi := cm.Min(), cm.Max()
	v := lo + t*(hi-lo)
	v = math.Max(lo, math.Min(hi, v))
	c, err := cm.At(v)
	if err != nil || c == nil {
		return color.Gray{Y: 128}
	}
	return c
}
