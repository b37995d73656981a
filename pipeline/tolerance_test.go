package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

// TestTolerance runs the digits ResNet with and without a tolerance on the
// same directions and checks the estimated surface against the full one,
// the files' new entries, the manifest, the refusal of a resume with
// another tolerance, and --verify.
func TestTolerance(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx := context.Background()
	grid := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 21}, Y: sweep.Axis{Min: -1, Max: 1, N: 21}}
	base := pipeline.Config{
		Landscape: landscape.Config{Model: filepath.Join(digits, "resnet_skip.onnx"), Data: digitsData, Seed: 3},
		Grid:      grid,
		NoPlot:    true,
	}
	full := base
	full.Out = filepath.Join(t.TempDir(), "full")
	fres, err := pipeline.Run(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	est := base
	est.Out = filepath.Join(t.TempDir(), "est")
	est.NoPlot = false
	tol := &pipeline.Tolerance{Rel: 0.02, Abs: 1e-3}
	est.Tolerance, est.Verify = tol, 10
	eres, err := pipeline.Run(ctx, est)
	if err != nil {
		t.Fatal(err)
	}
	fs := readSurface(t, fres.Surface)
	es := readSurface(t, eres.Surface)
	within, worst := 0, 0.0
	for i := range grid.Len() {
		f, e := fs.Values["loss"][i], es.Values["loss"][i]
		err := math.Abs(e-f) / (tol.Rel*math.Abs(f) + tol.Abs)
		worst = max(worst, err)
		if err <= 1 {
			within++
		}
		se, n, filled := es.Values["loss_se"][i], es.Values["samples"][i], es.Values[sweep.EstimatedChannel][i]
		switch {
		case filled == 1 && n != 0:
			t.Errorf("point %d interpolated with %g samples", i, n)
		case filled == 0 && (n < 64 || n > 1797):
			t.Errorf("point %d computed on %g samples", i, n)
		case filled == 0 && n == 1797 && se != 0:
			t.Errorf("point %d on every sample has se %g", i, se)
		}
	}
	t.Logf("%d of %d points within the tolerance, worst %.3f tolerances; %d sample forwards, full %d", within, grid.Len(), worst, eres.SampleForwards, fres.SampleForwards)
	if float64(within) < 0.99*float64(grid.Len()) || worst > 2 {
		t.Errorf("%d of %d points within the tolerance, worst %.2f tolerances", within, grid.Len(), worst)
	}
	if eres.FullForwards != fres.SampleForwards || fres.FullForwards != 0 {
		t.Errorf("full forwards %d with a tolerance, %d without: want %d and 0", eres.FullForwards, fres.FullForwards, fres.SampleForwards)
	}
	if fres.SampleForwards != int64(grid.Len()*1797) {
		t.Errorf("a full run forwarded %d samples, want %d", fres.SampleForwards, grid.Len()*1797)
	}
	if eres.SampleForwards <= 0 || eres.SampleForwards >= fres.SampleForwards {
		t.Errorf("the estimated run forwarded %d samples, the full one %d", eres.SampleForwards, fres.SampleForwards)
	}
	// The report's summary says how many points were interpolated.
	filled := 0
	for _, e := range es.Values[sweep.EstimatedChannel] {
		if e != 0 {
			filled++
		}
	}
	page, err := os.ReadFile(filepath.Join(est.Out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d of %d points done: %d computed, %d interpolated", grid.Len(), grid.Len(), grid.Len()-filled, filled); filled == 0 || !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %q (%d interpolated)", want, filled)
	}
	m, err := pipeline.ReadManifest(est.Out)
	if err != nil {
		t.Fatal(err)
	}
	if ti := m.Identity.ToleranceIdentity; ti == nil || ti.Rel != 0.02 || ti.Abs != 1e-3 || !ti.Refine || ti.EstimateRel != 0.01 || ti.EstimateDelta != 0.01 || ti.EstimateFirst != 64 {
		t.Errorf("manifest tolerance %+v", ti)
	}
	if got, _ := m.Info.Other["sample_forwards"]; got == nil || got.(interface{ String() string }).String() != itoa(eres.SampleForwards) {
		t.Errorf("manifest sample_forwards %v, want %d", got, eres.SampleForwards)
	}
	if _, ok := m.Info.Other["tolerance_rule"]; !ok {
		t.Error("the manifest does not state the stopping rule")
	}
	// The verification draws estimated points only (interpolated, or on a
	// prefix of the samples), and its worst error is the full run's there.
	estimated := 0
	for i := range grid.Len() {
		if es.Values[sweep.EstimatedChannel][i] != 0 || es.Values["samples"][i] < 1797 {
			estimated++
		}
	}
	if v := eres.Verification; v == nil || v.Points != 10 || v.Estimated != estimated || v.Worst > 1 {
		t.Errorf("verification %+v, want 10 of the %d estimated points", v, estimated)
	} else {
		i := -1
		for k := range grid.Len() {
			if x, y := grid.Coord(k); x == v.WorstX && y == v.WorstY {
				i = k
			}
		}
		if i < 0 {
			t.Fatalf("the worst verified point (%g, %g) is no grid point", v.WorstX, v.WorstY)
		}
		f := fs.Values["loss"][i]
		if e := math.Abs(es.Values["loss"][i]-f) / (tol.Rel*math.Abs(f) + tol.Abs); math.Abs(e-v.Worst) > 1e-6 {
			t.Errorf("the worst verified point (%g, %g): %g tolerances, the full run says %g", v.WorstX, v.WorstY, v.Worst, e)
		}
	}
	// A resume with another tolerance is refused, naming it.
	again := est
	again.Tolerance = &pipeline.Tolerance{Rel: 0.05, Abs: 1e-3}
	var mm *sweep.MismatchError
	if _, err := pipeline.Run(ctx, again); !errors.As(err, &mm) {
		t.Errorf("a resume with another tolerance: %v", err)
	}
	// The same tolerance resumes: nothing to compute, the same surface.
	est.Verify = 0
	if _, err := pipeline.Run(ctx, est); err != nil {
		t.Fatal(err)
	}
	same := readSurface(t, eres.Surface)
	for i := range es.Values["loss"] {
		if math.Float64bits(same.Values["loss"][i]) != math.Float64bits(es.Values["loss"][i]) {
			t.Fatalf("the resumed surface differs at %d", i)
		}
	}
	// --verify without a tolerance is refused.
	bad := base
	bad.Out, bad.Verify = filepath.Join(t.TempDir(), "bad"), 3
	if _, err := pipeline.Run(ctx, bad); err == nil {
		t.Error("Verify without a tolerance accepted")
	}
}

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func readSurface(t *testing.T, path string) *sweep.Surface {
	t.Helper()
	s, err := sweep.ReadSurface(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestToleranceHessian: a convexity map with a tolerance estimates its loss
// channel and computes every point (no refinement, no estimated channel).
func TestToleranceHessian(t *testing.T) {
	testenv.RequireRuntime(t)
	cfg := pipeline.Config{
		Landscape: landscape.Config{Model: digits + "/mlp_logsoftmax.onnx", Data: digitsData},
		Grid:      sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 3}, Y: sweep.Axis{Min: -1, Max: 1, N: 3}},
		Out:       filepath.Join(t.TempDir(), "h"),
		NoPlot:    true,
		Hessian:   &landscape.HessianOptions{Samples: 64},
		Tolerance: &pipeline.Tolerance{Rel: 0.1, Abs: 1e-3},
	}
	res, err := pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := readSurface(t, res.Surface)
	want := []string{"loss", "acc", "lambda_min", "lambda_max", "ratio", "loss_se", "samples"}
	if len(s.Channels) != len(want) {
		t.Fatalf("channels %q, want %q", s.Channels, want)
	}
	for i, c := range want {
		if s.Channels[i] != c {
			t.Fatalf("channels %q, want %q", s.Channels, want)
		}
	}
	if s.Count() != 9 {
		t.Errorf("%d of 9 points computed", s.Count())
	}
	m, err := pipeline.ReadManifest(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if ti := m.Identity.ToleranceIdentity; ti == nil || ti.Refine {
		t.Errorf("a convexity map's tolerance %+v: want one without refinement", ti)
	}
}
