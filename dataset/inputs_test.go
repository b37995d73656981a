package dataset_test

import (
	"archive/zip"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

// TestLoadInputs: every model input from the entry of its name or the one
// Options.InputKeys maps it to, labels from "labels" when there is no "y",
// each input's values kept in its own dtype's values, subsets taken from
// all of them alike; and the mistakes named.
func TestLoadInputs(t *testing.T) {
	dir := t.TempDir()
	ids := arr("int64", []int{4, 3}, seq(12, 1))
	mask := arr("bool", []int{4, 3}, []float64{1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0})
	lab := arr("int64", []int{4, 3}, []float64{1, -100, 2, 3, 4, -100, 5, 6, 7, 8, 9, -100})
	path := writeZip(t, dir, "d.npz", zip.Store,
		file{"input_ids.npy", npy(t, ids)}, file{"m.npy", npy(t, mask)}, file{"labels.npy", npy(t, lab)})

	d, err := dataset.Load(path, dataset.Options{Inputs: []string{"input_ids", "attention_mask"}, InputKeys: map[string]string{"attention_mask": "m"}, Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.YKey != "labels" || !slices.Equal(d.Entries(), []string{"input_ids", "m", "labels"}) {
		t.Errorf("labels from %q, entries %v", d.YKey, d.Entries())
	}
	in := d.Input("attention_mask")
	if in == nil || in.Key != "m" || in.DType != "bool" || !slices.Equal(in.Shape, []int{2, 3}) || !slices.Equal(in.Data, []float64{1, 1, 0, 1, 1, 1}) {
		t.Errorf("attention_mask: %+v", in)
	}
	if x := d.Input("input_ids"); !slices.Equal(x.Data, []float64{0, 1, 2, 6, 7, 8}) || !slices.Equal(d.X, x.Data) {
		t.Errorf("input_ids %v, X %v", x.Data, d.X)
	}
	if !slices.Equal(d.Y, []float64{1, -100, 2, 5, 6, 7}) || !slices.Equal(d.YShape, []int{2, 3}) {
		t.Errorf("labels %v %v", d.Y, d.YShape)
	}
	if err := d.CheckTokenLabels(3, 7, -100); err == nil || !strings.Contains(err.Error(), "labels[2, 2] = 7 is neither a token in [0, 7) nor the ignore index -100") || !errors.Is(err, dataset.ErrLabels) {
		t.Errorf("CheckTokenLabels: %v", err)
	}
	sub := d.Subset([]int{1})
	if x := sub.Input("attention_mask"); !slices.Equal(x.Data, []float64{1, 1, 1}) || !slices.Equal(sub.Y, []float64{5, 6, 7}) || sub.N() != 1 {
		t.Errorf("subset: mask %v, labels %v, n %d", x.Data, sub.Y, sub.N())
	}

	for _, c := range []struct {
		opts dataset.Options
		want string
	}{
		{dataset.Options{Inputs: []string{"input_ids", "attention_mask"}}, `no entry "attention_mask"`},
		{dataset.Options{Inputs: []string{"input_ids", "attention_mask"}, XKey: "input_ids"}, "not --x-key"},
		{dataset.Options{Inputs: []string{"input_ids"}, InputKeys: map[string]string{"ids": "m"}}, `no input "ids"`},
	} {
		if _, err := dataset.Load(path, c.opts); err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, dataset.ErrMissingKey) {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.want)
		}
	}
	// One input: the entry named like it, else "x".
	if d, err := dataset.Load(path, dataset.Options{Inputs: []string{"input_ids"}}); err != nil || d.XKey != "input_ids" {
		t.Errorf("one input: %v, %v", d, err)
	}
}
