package pipeline

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/lsweep/lsweep/sweep"
)

// TestManifestRoundTrip: a manifest written from the typed form and read
// back gives the same values, keys the type does not name included, and a
// seed beyond 2^53 keeps every digit.
func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{
		Identity: Identity{Seed: math.MaxUint64, Norm: "filter", Ignore: "biasbn", DirType: "states", XKey: "x", YKey: "y",
			Samples: 60, Head: "logits", Output: "out", TwoD: true, ModelSHA256: "ab", DataSHA256: "cd", Model2SHA256: "ef", DirectionsSHA256: "01",
			HessianIdentity: &HessianIdentity{Samples: 16, Tol: 1e-3, HVP: "exact"},
			Other:           map[string]any{"label_key": "labels"}},
		Grid:     sweep.Grid{X: sweep.Axis{Min: -0.5, Max: 1.5, N: 5}, Y: sweep.Axis{Min: -1, Max: 1, N: 3}},
		Channels: []string{"loss", "acc"},
		Info:     Info{Model: "m.onnx", Data: "d.npz", BatchSize: 256, Sessions: 2, Device: "cpu"},
	}
	sm, err := m.sweepManifest()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sweep.Open(dir, sm, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(m)
		t.Errorf("read back %s %v\nwant %s %v", a, got.Identity.Other, b, m.Identity.Other)
	}
	if !got.Interpolation() {
		t.Error("a manifest with model2_sha256 is not an interpolation")
	}
	// The same manifest reopens the run: sweep compares what the type wrote.
	st, err = sweep.Open(dir, sm, sweep.Shard{}, false)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	st.Close()
}

// TestLattice: the lattices of the coarse-to-fine order on an axis of 5
// points.
func TestLattice(t *testing.T) {
	for level, want := range [][]int{{0, 4}, {0, 2, 4}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}} {
		if got := lattice(5, level); !reflect.DeepEqual(got, want) {
			t.Errorf("lattice(5, %d) = %v, want %v", level, got, want)
		}
	}
}
