package flatness_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/flatness"
	"github.com/lsweep/lsweep/render"
)

// synthetic returns the report of two made-up models whose slices are
// quadratics, the candidate twice as curved as the base.
func synthetic(t *testing.T) *flatness.Report {
	t.Helper()
	x := grid(11, 1)
	bs := quadratics(x, 0.1, []float64{1, 1.2, 0.8, 1.1}, []float64{0.1, -0.1, 0, 0.05})
	cs := quadratics(x, 0.05, []float64{2, 2.5, 1.7, 2.1}, []float64{0.1, -0.1, 0, 0.05})
	for _, s := range []*flatness.Slices{bs, cs} {
		for _, row := range s.Loss {
			acc := make([]float64, len(row))
			for i, l := range row {
				acc[i] = math.Exp(-l)
			}
			s.Acc = append(s.Acc, acc)
		}
	}
	mb, err := flatness.Measure(bs, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flatness.Measure(cs, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	th := flatness.DefaultThresholds(10)
	r := &flatness.Report{
		Base:      flatness.ModelSummary{Path: "a/model.onnx", Label: "main", CentreLoss: 0.1, CentreAccuracy: 0.9},
		Candidate: flatness.ModelSummary{Path: "b/model.onnx", Label: "pr-42", CentreLoss: 0.05, CentreAccuracy: math.NaN()},
		Data:      flatness.DataSummary{Path: "data.npz", Samples: 100},
		Settings:  flatness.Settings{Directions: 4, Points: 11, Radius: 1, Rise: 0.1, Norm: "filter", Ignore: "biasbn", DirType: "weights", Noise: 1, Thresholds: th},
		X:         x, BaseSlices: *bs, CandidateSlices: *cs,
		SameArchitecture: true, SameDraws: true,
	}
	for _, m := range flatness.Metrics {
		if m.Name == flatness.LambdaMax {
			r.Metrics = append(r.Metrics, flatness.Unavailable(m, flatness.ReasonNoHessian))
			continue
		}
		v, ok := th[m.Name]
		r.Metrics = append(r.Metrics, flatness.Judge(m, mb[m.Name], mc[m.Name], flatness.Rule{Checked: ok, Threshold: v}))
	}
	r.Verdict, r.Finding = flatness.Decide(r.Metrics)
	r.Summary = "pr-42 is sharper."
	return r
}

// TestReportJSON checks the JSON field names that CI scripts read, and that
// a number that is not finite is written as null.
func TestReportJSON(t *testing.T) {
	r := synthetic(t)
	if r.Verdict != flatness.Fail || r.Finding != flatness.FindingSharper {
		t.Fatalf("synthetic report: %s %s", r.Verdict, r.Finding)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	for _, key := range []string{"version", "verdict", "finding", "summary", "partial", "base", "candidate", "data",
		"same_architecture", "same_draws", "settings", "metrics", "slices", "notes", "seconds"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no field %q", key)
		}
	}
	if got["verdict"] != "fail" || got["version"] != float64(1) {
		t.Errorf("verdict %v version %v", got["verdict"], got["version"])
	}
	cand := got["candidate"].(map[string]any)
	if v, ok := cand["centre_accuracy"]; !ok || v != nil {
		t.Errorf("candidate centre_accuracy %v (present %v), want null", v, ok)
	}
	metrics := got["metrics"].([]any)
	if len(metrics) != len(flatness.Metrics) {
		t.Fatalf("%d metrics", len(metrics))
	}
	mean := metrics[1].(map[string]any)
	for _, key := range []string{"name", "title", "description", "worse_when", "flatness", "available", "reason", "base",
		"candidate", "difference", "change_pct", "worsening_pct", "noise", "threshold_pct", "status", "pass"} {
		if _, ok := mean[key]; !ok {
			t.Errorf("metric has no field %q", key)
		}
	}
	if mean["name"] != "mean_increase" || mean["status"] != "worse" || mean["pass"] != false || mean["threshold_pct"] != float64(10) {
		t.Errorf("mean_increase: %v", mean)
	}
	base := mean["base"].(map[string]any)
	if len(base["per_direction"].([]any)) != 4 || base["spread"] == nil {
		t.Errorf("mean_increase base: %v", base)
	}
	lambda := metrics[5].(map[string]any)
	if lambda["available"] != false || lambda["base"] != nil || lambda["reason"] != flatness.ReasonNoHessian || lambda["threshold_pct"] != nil || lambda["pass"] != true {
		t.Errorf("lambda_max: %v", lambda)
	}
	if centre := metrics[0].(map[string]any); centre["threshold_pct"] != nil {
		t.Errorf("centre_loss threshold %v, want null (not checked)", centre["threshold_pct"])
	}
	// include is a list, empty (not null) when only the weights move, and
	// names what moved beyond them.
	if inc, ok := got["settings"].(map[string]any)["include"].([]any); !ok || len(inc) != 0 {
		t.Errorf("settings include %v, want []", got["settings"].(map[string]any)["include"])
	}
	r.Settings.Include = []string{"embeddings"}
	var buf2 bytes.Buffer
	if err := r.WriteJSON(&buf2); err != nil {
		t.Fatal(err)
	}
	var got2 struct {
		Settings struct {
			Include []string `json:"include"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(buf2.Bytes(), &got2); err != nil || len(got2.Settings.Include) != 1 || got2.Settings.Include[0] != "embeddings" {
		t.Errorf("include %v (%v), want [embeddings]", got2.Settings.Include, err)
	}
	slices := got["slices"].(map[string]any)
	if len(slices["x"].([]any)) != 11 || len(slices["base"].(map[string]any)["loss"].([]any)) != 4 {
		t.Errorf("slices: %v", slices)
	}
}

func TestReportText(t *testing.T) {
	r := synthetic(t)
	var text, md bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md, "report.curves.png"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"FAIL", "main", "pr-42", "mean_increase", "FAIL: sharper", "unavailable: " + flatness.ReasonNoHessian} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text does not contain %q:\n%s", w, text.String())
		}
	}
	for _, w := range []string{"### ❌ Flatness: fail (sharper)", "| metric | base | candidate |", "| mean increase at r |", "](report.curves.png)", "`pr-42`", "❌ sharper, beyond the limit"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown does not contain %q:\n%s", w, md.String())
		}
	}
	// Every table row has as many cells as its header.
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, "|")-strings.Count(line, `\|`) != 8 && strings.Count(line, "|") != 4 {
			t.Errorf("table row with a wrong number of cells: %q", line)
		}
	}
}

// TestCurves checks the picture structurally: it draws, as a PNG of the
// requested size; the eye checks the rest.
func TestCurves(t *testing.T) {
	r := synthetic(t)
	c := r.Curves()
	if len(c.Curves) != 2*4+2 || c.Curves[len(c.Curves)-1].Label != "candidate: pr-42" {
		t.Errorf("%d curves, last labelled %q", len(c.Curves), c.Curves[len(c.Curves)-1].Label)
	}
	var buf bytes.Buffer
	if err := render.Encode(&buf, "png", c, 4*vg.Inch, 3*vg.Inch); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 4*render.DPI || cfg.Height != 3*render.DPI {
		t.Errorf("picture %dx%d", cfg.Width, cfg.Height)
	}
}
