package render_test

import (
	"image/color"
	"math"
	"testing"

	"gonum.org/v1/plot/palette"

	"github.com/lsweep/lsweep/render"
)

// lightness returns CIELAB L* of c.
func lightness(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(u uint8) float64 {
		v := float64(u) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	y := 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
	if y > 216.0/24389 {
		return 116*math.Cbrt(y) - 16
	}
	return 24389.0 / 27 * y
}

func closeColor(a, b color.Color, tol int) bool {
	x := color.NRGBAModel.Convert(a).(color.NRGBA)
	y := color.NRGBAModel.Convert(b).(color.NRGBA)
	d := func(p, q uint8) int {
		if p > q {
			return int(p - q)
		}
		return int(q - p)
	}
	return d(x.R, y.R) <= tol && d(x.G, y.G) <= tol && d(x.B, y.B) <= tol && d(x.A, y.A) <= tol
}

func TestViridisEndpoints(t *testing.T) {
	v := render.Viridis()
	for _, tc := range []struct {
		t    float64
		want color.NRGBA
	}{
		{0, color.NRGBA{0x44, 0x01, 0x54, 255}},
		{1, color.NRGBA{0xfd, 0xe7, 0x25, 255}},
		{0.5, color.NRGBA{0x21, 0x91, 0x8c, 255}}, // matplotlib's viridis(0.5)
		{-3, color.NRGBA{0x44, 0x01, 0x54, 255}},  // clamped
		{7, color.NRGBA{0xfd, 0xe7, 0x25, 255}},
	} {
		if got := v.Color(tc.t); !closeColor(got, tc.want, 3) {
			t.Errorf("Viridis().Color(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	v.Reverse = true
	if got := v.Color(0); !closeColor(got, color.NRGBA{0xfd, 0xe7, 0x25, 255}, 0) {
		t.Errorf("reversed Color(0) = %v, want viridis yellow", got)
	}
}

func TestMonotonicLightness(t *testing.T) {
	for _, name := range render.ColorMapNames {
		m, err := render.ColorMapNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		prev := -1.0
		for i := 0; i <= 512; i++ {
			l := lightness(m.Color(float64(i) / 512))
			if l < prev-0.2 {
				t.Fatalf("%s: lightness falls from %.2f to %.2f at %v", name, prev, l, float64(i)/512)
			}
			prev = math.Max(prev, l)
		}
		if d := lightness(m.Color(1)) - lightness(m.Color(0)); d < 50 {
			t.Errorf("%s: lightness rises only %.1f", name, d)
		}
		m.Reverse = true
		if lightness(m.Color(0)) < lightness(m.Color(1)) {
			t.Errorf("%s reversed: does not run light to dark", name)
		}
	}
}

func TestColorMapInterface(t *testing.T) {
	var cm palette.ColorMap = render.Magma()
	cm.SetMin(10)
	cm.SetMax(20)
	if _, err := cm.At(9); err != palette.ErrUnderflow {
		t.Errorf("At below Min: %v", err)
	}
	if _, err := cm.At(21); err != palette.ErrOverflow {
		t.Errorf("At above Max: %v", err)
	}
	if _, err := cm.At(math.NaN()); err != palette.ErrNaN {
		t.Errorf("At NaN: %v", err)
	}
	c, err := cm.At(20)
	if err != nil || !closeColor(c, color.NRGBA{0xfc, 0xfd, 0xbf, 255}, 2) {
		t.Errorf("At(Max) = %v, %v; want magma's light end", c, err)
	}
	cm.SetAlpha(0.5)
	if c, _ := cm.At(15); color.NRGBAModel.Convert(c).(color.NRGBA).A != 128 {
		t.Errorf("alpha 0.5 gives %v", c)
	}
	p := cm.Palette(7).Colors()
	if len(p) != 7 || lightness(p[0]) > lightness(p[6]) {
		t.Errorf("Palette(7) = %v", p)
	}
	if m, err := render.ColorMapNamed("Plasma_r"); err != nil || !m.Reverse || m.Name != "plasma" {
		t.Errorf("ColorMapNamed(Plasma_r) = %+v, %v", m, err)
	}
	if _, err := render.ColorMapNamed("jet"); err == nil {
		t.Error("jet is not a perceptual map")
	}
}
