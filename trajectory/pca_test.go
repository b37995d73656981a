package trajectory

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

const fixtures = "../fixtures/testdata/trajectory"

// differences reads the fixture checkpoints' rank >= 2 weights minus the
// final model's, as make_trajectory_fixtures.py builds them.
func differences(t *testing.T) [][]float64 {
	t.Helper()
	names := []string{"fc1.weight", "fc2.weight"}
	weights := func(k int) []float64 {
		m, err := onnx.Load(filepath.Join(fixtures, fmt.Sprintf("ckpt_%d.onnx", k)))
		if err != nil {
			t.Fatal(err)
		}
		var w []float64
		for _, n := range names {
			v, err := m.Value(n)
			if err != nil {
				t.Fatal(err)
			}
			w = append(w, v...)
		}
		return w
	}
	final := weights(7)
	var rows [][]float64
	for k := range 8 {
		w := weights(k)
		for i := range w {
			w[i] -= final[i]
		}
		rows = append(rows, w)
	}
	return rows
}

// TestAgainstScikitLearn compares Fit and Project with the numbers the
// fixture generator computed the way scikit-learn's PCA does.
func TestAgainstScikitLearn(t *testing.T) {
	rows := differences(t)
	ref, err := npz.ReadFile(filepath.Join(fixtures, "reference.npz"))
	if err != nil {
		t.Fatal(err)
	}
	pca, err := Fit(rows)
	if err != nil {
		t.Fatal(err)
	}
	p := len(rows[0])
	var worstRatio, worstCoord, worstComp, worstS float64
	for k := range 2 {
		worstRatio = math.Max(worstRatio, math.Abs(pca.Ratio[k]-ref["explained_variance_ratio"].Data[k]))
		for j, v := range pca.Components[k] {
			worstComp = math.Max(worstComp, math.Abs(v-ref["components"].Data[k*p+j]))
		}
		for i, r := range rows {
			worstCoord = math.Max(worstCoord, math.Abs(Project(r, pca.Components[k])-ref["coordinates"].Data[i*2+k]))
		}
	}
	for i, s := range pca.Singular {
		worstS = math.Max(worstS, math.Abs(s-ref["singular_values"].Data[i]))
	}
	t.Logf("max abs error: ratios %.3g, coordinates %.3g, components %.3g, singular values %.3g", worstRatio, worstCoord, worstComp, worstS)
	if worstRatio > 1e-10 || worstCoord > 1e-10 || worstComp > 1e-10 || worstS > 1e-10 {
		t.Errorf("differs from the reference: ratios %g, coordinates %g, components %g, singular values %g", worstRatio, worstCoord, worstComp, worstS)
	}
}

func TestSignFollowsU(t *testing.T) {
	// Centred rows (-2, 0), (-1, 0), (3, 0) plus a small second axis: U's
	// largest entry of the first component is the third row's, so that row
	// projects to a positive first coordinate whatever the order of rows.
	rows := [][]float64{{-2, 0.1}, {-1, -0.2}, {3, 0.1}}
	for _, flip := range []float64{1, -1} {
		in := make([][]float64, len(rows))
		for i, r := range rows {
			in[i] = []float64{flip * r[0], r[1]}
		}
		pca, err := Fit(in)
		if err != nil {
			t.Fatal(err)
		}
		centred := []float64{in[2][0] - pca.Mean[0], in[2][1] - pca.Mean[1]}
		if c := Project(centred, pca.Components[0]); c <= 0 {
			t.Errorf("flip %v: the row largest on the first axis projects to %v, want > 0", flip, c)
		}
		if math.Abs(pca.Ratio[0]+pca.Ratio[1]-1) > 1e-12 {
			t.Errorf("two components of 2-D data explain %v of the variance, want 1", pca.Ratio[0]+pca.Ratio[1])
		}
	}
}

func TestBadInputs(t *testing.T) {
	for _, c := range []struct {
		name string
		rows [][]float64
		want error
	}{
		{"one", [][]float64{{1, 2}}, ErrTooFew},
		{"two", [][]float64{{1, 2}, {3, 4}}, ErrTooFew},
		{"identical", [][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}}, ErrIdentical},
		{"zero", [][]float64{{0, 0}, {0, 0}, {0, 0}}, ErrIdentical},
		{"line", [][]float64{{0, 0, 0}, {1, 2, 3}, {2, 4, 6}}, ErrLine},
	} {
		if _, err := Fit(c.rows); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := Fit([][]float64{{1, 2}, {3}, {4, 5}}); err == nil {
		t.Error("rows of different lengths: no error")
	}
}
