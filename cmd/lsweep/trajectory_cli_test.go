package main_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/pipeline"
)

func TestTrajectoryJSONAndErrors(t *testing.T) {
	var ckpts []string
	for k := range 8 {
		ckpts = append(ckpts, fmt.Sprintf("../../fixtures/testdata/trajectory/ckpt_%d.onnx", k))
	}
	out := filepath.Join(t.TempDir(), "traj")
	r := run(t, append([]string{"trajectory", "--no-surface", "--json", "--out", out, ckpts[7], digitsData}, ckpts...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var tf pipeline.TrajectoryFile
	if err := json.Unmarshal([]byte(r.stdout), &tf); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(tf.Coordinates) != 8 || tf.ExplainedVarianceRatio[0] < 0.9 {
		t.Errorf("trajectory %+v", tf)
	}
	r = run(t, "trajectory", "--no-surface", "--out", out+"2", ckpts[7], digitsData, ckpts[1], ckpts[1], ckpts[1])
	if r.code != 2 || !strings.Contains(r.stderr, "same weights") || !strings.Contains(r.stderr, "ckpt_1.onnx") {
		t.Errorf("identical checkpoints: exit %d, %s", r.code, r.stderr)
	}
}

// TestTrajectoryToleranceFlags: --tolerance estimates the surface and says
// so; it needs a surface, and its companions need it.
func TestTrajectoryToleranceFlags(t *testing.T) {
	requireRuntime(t)
	var ckpts []string
	for k := range 8 {
		ckpts = append(ckpts, fmt.Sprintf("../../fixtures/testdata/trajectory/ckpt_%d.onnx", k))
	}
	args := func(more ...string) []string {
		return append(append([]string{"trajectory", "--quiet", "--points", "9", "--out", filepath.Join(t.TempDir(), "t"), ckpts[7], digitsData}, ckpts...), more...)
	}
	r := run(t, args("--tolerance", "0.02", "--verify", "3")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{"forwards", "over 3 of the", "estimated points"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tolerance", "0.02", "--no-surface"}, "--no-surface"},
		{[]string{"--verify", "3"}, "--verify needs --tolerance"},
	} {
		if r := run(t, args(c.args...)...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
	}
}
