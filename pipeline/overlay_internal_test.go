package pipeline

import (
	"slices"
	"testing"
)

// TestOverlayLabels: overlaid curves are named by their models, and runs of
// one model (on two datasets, say) by model and folder, so that no two
// curves of a legend share a name.
func TestOverlayLabels(t *testing.T) {
	cases := []struct {
		outs   []string
		models []string
		want   []string
	}{
		{[]string{"out/a", "out/b"}, []string{"a.onnx", "b.onnx"}, []string{"a.onnx", "b.onnx"}},
		{[]string{"out/interp", "out/interp_test/"}, []string{"sb.onnx", "sb.onnx"}, []string{"sb.onnx (interp)", "sb.onnx (interp_test)"}},
		{[]string{"r1", "r2", "r3"}, []string{"m.onnx", "", "m.onnx"}, []string{"m.onnx (r1)", "r2", "m.onnx (r3)"}},
	}
	for _, c := range cases {
		infos := make([]runInfo, len(c.models))
		for i, m := range c.models {
			infos[i].model = m
		}
		if got := overlayLabels(c.outs, infos); !slices.Equal(got, c.want) {
			t.Errorf("overlayLabels(%q, %q) = %q, want %q", c.outs, c.models, got, c.want)
		}
	}
}
