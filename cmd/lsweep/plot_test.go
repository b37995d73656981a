package main_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// TestRunDrawsPictures: a 2-D run draws every picture, the ParaView file
// and the report by default, each a file of its kind.
func TestRunDrawsPictures(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, "run", digitsModel, digitsData, "--x", "-1:1:9", "--y", "-1:1:7", "--samples", "100", "--out", out, "--quiet", "--format", "png,svg,pdf")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, name := range []string{"contour", "filled_contour", "heatmap", "accuracy", "surface3d"} {
		data, err := os.ReadFile(filepath.Join(out, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() < 500 {
			t.Errorf("%s.png: %v, %v", name, err, img.Bounds())
		}
		svg, err := os.ReadFile(filepath.Join(out, name+".svg"))
		if err != nil || xml.Unmarshal(svg, new(struct{})) != nil {
			t.Errorf("%s.svg is not XML: %v", name, err)
		}
		pdf, err := os.ReadFile(filepath.Join(out, name+".pdf"))
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("%s.pdf is not a PDF: %v", name, err)
		}
	}
	var vtp struct {
		Piece struct {
			Points int `xml:"NumberOfPoints,attr"`
			Polys  int `xml:"NumberOfPolys,attr"`
		} `xml:"PolyData>Piece"`
	}
	data, err := os.ReadFile(filepath.Join(out, "surface.vtp"))
	if err != nil || xml.Unmarshal(data, &vtp) != nil {
		t.Fatalf("surface.vtp: %v", err)
	}
	if vtp.Piece.Points != 9*7 || vtp.Piece.Polys != 8*6 {
		t.Errorf("surface.vtp: %d points, %d quads; want 63 and 48", vtp.Piece.Points, vtp.Piece.Polys)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("data:image/png;base64,")) || bytes.Contains(page, []byte("https://")) {
		t.Error("report.html lacks its pictures or links outside")
	}
}

// TestPlotCurvesOverlaid: 1-D runs overlay on one curve picture.
func TestPlotCurvesOverlaid(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, c := range []struct{ out, model string }{{a, digitsModel}, {b, "../../fixtures/testdata/digits/resnet_noskip.onnx"}} {
		if r := run(t, "run", c.model, digitsData, "--x", "-1:1:9", "--samples", "100", "--out", c.out, "--quiet", "--no-plot"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	r := run(t, "plot", a, b, "--log")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, filepath.Join(a, "curve.png")) {
		t.Errorf("plot printed %q", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(a, "curve.png")); err != nil {
		t.Error(err)
	}
}

// TestPlotBadInput: folders without a surface, files that are not
// surfaces, all-NaN data and unknown formats get clear errors.
func TestPlotBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	writeNPZ(t, filepath.Join(other, "surface.npz"), npz.Entry{Name: "weights", Array: &npz.Array{Shape: []int{3}, DType: "float32", Data: []float64{1, 2, 3}}})
	nan := filepath.Join(dir, "nan")
	os.Mkdir(nan, 0o755)
	coords := &npz.Array{Shape: []int{3}, DType: "float64", Data: []float64{-1, 0, 1}}
	nans := &npz.Array{Shape: []int{3, 3}, DType: "float64", Data: []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}}
	mask := &npz.Array{Shape: []int{3, 3}, DType: "bool", Data: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}}
	writeNPZ(t, filepath.Join(nan, "surface.npz"), npz.Entry{Name: "xcoordinates", Array: coords}, npz.Entry{Name: "ycoordinates", Array: coords},
		npz.Entry{Name: "loss", Array: nans}, npz.Entry{Name: "acc", Array: nans}, npz.Entry{Name: "mask", Array: mask})
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no surface", []string{"plot", empty}, []string{"no surface.npz", "lsweep run"}},
		{"not a surface", []string{"plot", other}, []string{"surface.npz"}},
		{"all NaN", []string{"plot", nan}, []string{"no finite"}},
		{"unknown format", []string{"plot", nan, "--format", "jpg"}, []string{"jpg"}},
		{"half a level spec", []string{"plot", nan, "--vmin", "0.1"}, []string{"--vmin", "--vlevel"}},
		{"a level that is no number", []string{"plot", nan, "--vmin", "nan", "--vmax", "1"}, []string{"--vmin", "finite number"}},
		{"a step alone", []string{"plot", nan, "--vlevel", "0.5"}, []string{"--vmin", "--vmax"}},
		{"a zero step", []string{"plot", nan, "--vmin", "0", "--vmax", "1", "--vlevel", "0"}, []string{"--vlevel 0"}},
		{"log levels from 0", []string{"plot", nan, "--vmin", "0", "--vmax", "10", "--log"}, []string{"log scale", "min > 0"}},
		{"unknown palette", []string{"plot", nan, "--palette", "rainbow"}, []string{"rainbow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, c.args...)
			if r.code != 2 || strings.Contains(r.stderr, "panic") {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not mention %q", strings.TrimSpace(r.stderr), w)
				}
			}
		})
	}
}

// TestWeights: norms of a model, and a picture.
func TestWeights(t *testing.T) {
	out := filepath.Join(t.TempDir(), "w.png")
	r := run(t, "weights", digitsModel, "../../fixtures/testdata/digits/resnet_skip_folded.onnx", "--out", out, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []struct {
		Params int     `json:"params"`
		L2     float64 `json:"l2"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Params != 19408 || got[0].L2 <= 0 {
		t.Errorf("norms %+v", got)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}
