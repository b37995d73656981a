package report_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/report"
)

// bowl returns an analytic surface on an n x n grid over [-1, 1]^2:
// loss = log(1 + x^2 + 2y^2) plus small ripples, acc = exp(-loss), with
// the points in holes set to NaN (indices into the row-major values).
func bowl(n int, holes ...int) *report.Surface {
	s := &report.Surface{X: linspace(-1, 1, n), Y: linspace(-1, 1, n), Values: map[string][]float64{}}
	loss := make([]float64, n*n)
	acc := make([]float64, n*n)
	for j, y := range s.Y {
		for i, x := range s.X {
			v := math.Log(1+x*x+2*y*y) + 0.03*math.Sin(9*x)*math.Cos(7*y)
			loss[j*n+i] = v
			acc[j*n+i] = math.Exp(-v)
		}
	}
	for _, k := range holes {
		loss[k] = math.NaN()
		acc[k] = math.NaN()
	}
	s.Values["loss"] = loss
	s.Values["acc"] = acc
	return s
}

// curve returns a 1-D loss and accuracy curve on n points, with the
// points in holes set to NaN.
func curve(n int, holes ...int) *report.Surface {
	s := &report.Surface{X: linspace(-1, 1, n), Values: map[string][]float64{}}
	loss := make([]float64, n)
	acc := make([]float64, n)
	for i, x := range s.X {
		loss[i] = 0.2 + 2*x*x + 0.05*math.Sin(12*x)
		acc[i] = 1 / (1 + loss[i])
	}
	for _, k := range holes {
		loss[k] = math.NaN()
		acc[k] = math.NaN()
	}
	s.Values["loss"] = loss
	s.Values["accuracy"] = acc
	return s
}

func linspace(lo, hi float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return v
}

// cells returns how many grid cells of s have four computed corners in
// channel "loss": the cells the 3-D view draws.
func cells(s *report.Surface) int {
	nx, v, n := len(s.X), s.Values["loss"], 0
	for j := 0; j+1 < len(s.Y); j++ {
		for i := 0; i+1 < nx; i++ {
			k := j*nx + i
			if !math.IsNaN(v[k]) && !math.IsNaN(v[k+1]) && !math.IsNaN(v[k+nx]) && !math.IsNaN(v[k+nx+1]) {
				n++
			}
		}
	}
	return n
}

// testPNG returns a small PNG: a gradient of hue c.
func testPNG(t testing.TB, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 160; x++ {
			f := float64(x+y) / 280
			img.Set(x, y, color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleReport returns a report of s with two pictures and a manifest
// shaped like sweep's.
func sampleReport(t testing.TB, title string, s *report.Surface) *report.Report {
	t.Helper()
	grid := map[string]any{}
	if s != nil {
		grid["x"] = map[string]any{"Min": -1, "Max": 1, "N": len(s.X)}
	}
	if s != nil && len(s.Y) > 0 {
		grid["y"] = map[string]any{"Min": -1, "Max": 1, "N": len(s.Y)}
	}
	return &report.Report{
		Title:   title,
		Surface: s,
		Images: []report.Image{
			{Name: "Contours", Caption: "loss contours, levels 0.1 apart", PNG: testPNG(t, color.RGBA{70, 130, 180, 255})},
			{Name: "Heat map", Caption: "loss, rows are y", PNG: testPNG(t, color.RGBA{200, 120, 40, 255})},
		},
		Manifest: map[string]any{
			"version":  1,
			"channels": []string{"loss", "acc"},
			"grid":     grid,
			"identity": map[string]any{
				"seed":          int64(42),
				"norm":          "filter",
				"ignore":        "biasbn",
				"dir_type":      "weights",
				"orthogonalize": false,
				"model_sha256":  strings.Repeat("0123456789abcdef", 4),
				"data_sha256":   strings.Repeat("fedcba9876543210", 4),
			},
			"info": map[string]any{"go": "go1.26.8", "onnxruntime": "1.24.1", "sessions": 2, "batch_size": 256},
		},
		Summary: []string{
			"Minimum loss 0.0012 at (x, y) = (0.02, -0.01)",
			"Loss at the centre 0.0049",
			"51 × 51 points in 1 min 12 s",
		},
	}
}

// dataBlock returns the JSON of the page's data block.
func dataBlock(t testing.TB, page string) []byte {
	t.Helper()
	const open = `<script type="application/json" id="lsweep-data">`
	_, rest, ok := strings.Cut(page, open)
	if !ok {
		t.Fatalf("the page has no %s", open)
	}
	js, _, ok := strings.Cut(rest, "</script>")
	if !ok {
		t.Fatal("the data block has no end")
	}
	return []byte(js)
}

// pageData is the data block's JSON, with null as nil.
type pageData struct {
	Title   string `json:"title"`
	Surface *struct {
		X, Y     []float64
		Channels []struct {
			Name   string     `json:"name"`
			Values []*float64 `json:"values"`
		} `json:"channels"`
	} `json:"surface"`
}

func decodeData(t testing.TB, page string) pageData {
	t.Helper()
	var d pageData
	if err := json.Unmarshal(dataBlock(t, page), &d); err != nil {
		t.Fatalf("the data block is no JSON: %v", err)
	}
	return d
}
