package dataset_test

import (
	"archive/zip"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

func TestCheckInput(t *testing.T) {
	tests := []struct {
		name   string
		sample []int
		model  []int64
		want   string // "" for no error; else the whole message
	}{
		{"exact", []int{1, 8, 8}, []int64{-1, 1, 8, 8}, ""},
		{"fixed batch", []int{1, 8, 8}, []int64{1, 1, 8, 8}, ""},
		{"dynamic dims", []int{3, 32, 40}, []int64{-1, 3, -1, 0}, ""},
		{"vector", []int{64}, []int64{-1, 64}, ""},
		{"NHWC data, NCHW model", []int{8, 8, 1}, []int64{-1, 1, 8, 8},
			`dataset: data.npz: entry "x" has samples of shape [8 8 1], model input "input" expects [1 8 8] (the data look NHWC while the model takes NCHW: transpose x with x.transpose(0, 3, 1, 2))`},
		{"NCHW data, NHWC model", []int{3, 32, 32}, []int64{-1, 32, 32, 3},
			`dataset: data.npz: entry "x" has samples of shape [3 32 32], model input "input" expects [32 32 3] (the data look NCHW while the model takes NHWC: transpose x with x.transpose(0, 2, 3, 1))`},
		{"NHWC data, NCHW model, dynamic size", []int{28, 28, 3}, []int64{-1, 3, -1, -1},
			`dataset: data.npz: entry "x" has samples of shape [28 28 3], model input "input" expects [3 ? ?] (the data look NHWC while the model takes NCHW: transpose x with x.transpose(0, 3, 1, 2))`},
		{"ambiguous layout gives no transpose hint", []int{3, 3, 1}, []int64{-1, -1, -1, 3},
			`dataset: data.npz: entry "x" has samples of shape [3 3 1], model input "input" expects [? ? 3]`},
		{"swapped axes", []int{100, 6}, []int64{-1, 6, 100},
			`dataset: data.npz: entry "x" has samples of shape [100 6], model input "input" expects [6 100] (the two sample axes look swapped (channels-last data, channels-first model or the reverse): transpose x with x.transpose(0, 2, 1))`},
		{"flat data", []int{64}, []int64{-1, 1, 8, 8},
			`dataset: data.npz: entry "x" has samples of shape [64], model input "input" expects [1 8 8] (the sizes agree: reshape x with x.reshape(-1, 1, 8, 8))`},
		{"missing channel axis", []int{8, 8}, []int64{-1, 1, 8, 8},
			`dataset: data.npz: entry "x" has samples of shape [8 8], model input "input" expects [1 8 8] (the sizes agree: reshape x with x.reshape(-1, 1, 8, 8))`},
		{"different sizes", []int{1, 8, 8}, []int64{-1, 3, 32, 32},
			`dataset: data.npz: entry "x" has samples of shape [1 8 8], model input "input" expects [3 32 32]`},
		{"different rank, dynamic", []int{64}, []int64{-1, 1, -1, -1},
			`dataset: data.npz: entry "x" has samples of shape [64], model input "input" expects [1 ? ?]`},
		{"no batch dim", []int{64}, nil,
			`dataset: data.npz: model input "input" has shape [] with no batch dimension`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dataset.Dataset{Path: "data.npz", XKey: "x", YKey: "y", XShape: append([]int{2}, tt.sample...)}
			err := d.CheckInput("input", tt.model)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckInput: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("CheckInput: no error, want %q", tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("CheckInput:\n got %s\nwant %s", err, tt.want)
			case tt.want != "" && !errors.Is(err, dataset.ErrShape):
				t.Errorf("CheckInput: %v does not match ErrShape", err)
			}
		})
	}
}

func TestCheckLabels(t *testing.T) {
	tests := []struct {
		name    string
		yShape  []int
		y       []float64
		index   []int
		classes int
		is      error
		want    string // substring of the message, "" for no error
	}{
		{"int labels", []int{4}, []float64{0, 1, 2, 9}, nil, 10, nil, ""},
		{"column", []int{4, 1}, []float64{0, 1, 2, 9}, nil, 10, nil, ""},
		{"integral floats", []int{3}, []float64{0, 1, 2}, nil, 3, nil, ""},
		{"one class", []int{2}, []float64{0, 0}, nil, 1, nil, ""},
		{"fraction", []int{4}, []float64{0, 1.5, 2, 3}, nil, 10, dataset.ErrLabels,
			`dataset: data.npz: entry "y": y[1] = 1.5 is not an integer class index`},
		{"NaN", []int{2}, []float64{0, math.NaN()}, nil, 10, dataset.ErrLabels, "y[1] = NaN is not an integer"},
		{"infinite", []int{2}, []float64{math.Inf(1), 0}, nil, 10, dataset.ErrLabels, "y[0] = +Inf is not an integer"},
		{"too large", []int{4}, []float64{0, 1, 10, 3}, nil, 10, dataset.ErrLabels,
			`dataset: data.npz: entry "y": y[2] = 10 is outside [0, 10) for a model with 10 classes`},
		{"negative", []int{2}, []float64{0, -1}, nil, 10, dataset.ErrLabels, "y[1] = -1 is outside [0, 10)"},
		{"index in file", []int{3}, []float64{0, 1, 7}, []int{0, 40, 80}, 5, dataset.ErrLabels, "y[80] = 7 is outside [0, 5)"},
		{"one-hot", []int{2, 3}, []float64{1, 0, 0, 0, 1, 0}, nil, 3, dataset.ErrShape,
			`dataset: data.npz: entry "y" has shape [2 3]; class labels need shape [2] or [2 1] (one-hot labels? store y.argmax(1))`},
		{"matrix", []int{2, 2}, []float64{1, 0, 0, 0}, nil, 10, dataset.ErrShape,
			`dataset: data.npz: entry "y" has shape [2 2]; class labels need shape [2] or [2 1]`},
		{"rank 3", []int{2, 1, 1}, []float64{1, 0}, nil, 10, dataset.ErrShape, "has shape [2 1 1]"},
		{"no classes", []int{2}, []float64{0, 0}, nil, 0, dataset.ErrLabels, "0 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dataset.Dataset{Path: "data.npz", XKey: "x", YKey: "y",
				XShape: []int{tt.yShape[0], 1}, X: make([]float64, tt.yShape[0]),
				YShape: tt.yShape, Y: tt.y, Index: tt.index}
			err := d.CheckLabels(tt.classes)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckLabels: %v", err)
			case tt.want == "":
			case err == nil:
				t.Errorf("CheckLabels: no error, want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is):
				t.Errorf("CheckLabels: %v, want %q matching %v", err, tt.want, tt.is)
			}
		})
	}
}

// TestCheckLabelsLoaded checks the messages of a dataset read from a folder
// under other names.
func TestCheckLabelsLoaded(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "d/in.npy", npy(t, arr("float32", []int{3, 2}, seq(6, 1))))
	writeFile(t, dir, "d/cls.npy", npy(t, arr("float32", []int{3}, []float64{0, 2.5, 1})))
	d, err := dataset.Load(dir+"/d", dataset.Options{XKey: "in", YKey: "cls"})
	if err != nil {
		t.Fatal(err)
	}
	want := "dataset: " + dir + "/d: cls.npy: cls[1] = 2.5 is not an integer class index"
	if err := d.CheckLabels(3); err == nil || err.Error() != want {
		t.Errorf("CheckLabels(3) = %v, want %s", err, want)
	}
	want = "dataset: " + dir + "/d: in.npy has samples of shape [2], model input \"data\" expects [3]"
	if err := d.CheckInput("data", []int64{-1, 3}); err == nil || err.Error() != want {
		t.Errorf("CheckInput = %v, want %s", err, want)
	}
}

func TestBatchFloat32(t *testing.T) {
	d := &dataset.Dataset{XShape: []int{4, 2}, X: []float64{0, 1, 2, 3, 4, 5, 6, 0.1}}
	tests := []struct {
		name   string
		dst    []float32
		lo, hi int
		want   []float32
	}{
		{"nil dst", nil, 1, 3, []float32{2, 3, 4, 5}},
		{"short dst", make([]float32, 1), 0, 1, []float32{0, 1}},
		{"long dst", make([]float32, 10), 3, 4, []float32{6, 0.1}},
		{"empty", nil, 2, 2, []float32{}},
		{"all", nil, 0, 4, []float32{0, 1, 2, 3, 4, 5, 6, 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.BatchFloat32(tt.dst, tt.lo, tt.hi)
			if !slices.Equal(got, tt.want) {
				t.Errorf("BatchFloat32(%d, %d) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			}
			if cap(tt.dst) >= len(tt.want) && len(tt.want) > 0 && &got[0] != &tt.dst[0] {
				t.Errorf("BatchFloat32 allocated although dst was long enough")
			}
		})
	}
	for _, r := range [][2]int{{-1, 1}, {2, 1}, {0, 5}} {
		t.Run(fmt.Sprintf("panics %v", r), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("BatchFloat32(%d, %d) did not panic", r[0], r[1])
				}
			}()
			d.BatchFloat32(nil, r[0], r[1])
		})
	}
}

func TestSampleShape(t *testing.T) {
	d := &dataset.Dataset{XShape: []int{5, 3, 4}}
	s := d.SampleShape()
	s[0] = 99
	if d.XShape[1] != 3 || d.N() != 5 || d.SampleLen() != 12 {
		t.Errorf("XShape = %v, N() = %d, SampleLen() = %d after changing SampleShape's result", d.XShape, d.N(), d.SampleLen())
	}
	var empty dataset.Dataset
	if empty.N() != 0 || empty.SampleShape() != nil {
		t.Errorf("zero Dataset: N() = %d, SampleShape() = %v", empty.N(), empty.SampleShape())
	}
}

func ExampleDataset_CheckInput() {
	d, err := dataset.Load("testdata/stored.npz", dataset.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.N(), d.SampleShape(), d.XDType, d.YDType)
	fmt.Println(d.CheckInput("input", []int64{-1, 2, 3, 1}))
	// Output:
	// 5 [1 2 3] float32 int64
	// dataset: testdata/stored.npz: entry "x" has samples of shape [1 2 3], model input "input" expects [2 3 1] (the data look NCHW while the model takes NHWC: transpose x with x.transpose(0, 2, 3, 1))
}

// benchData writes an npz of n float32 samples of the given shape with
// labels, as the digits (1797x1x8x8) and CIFAR-10 (x3x32x32) test sets are.
func benchData(b *testing.B, n int, sample []int, compress bool) (path string, bytes int) {
	r := rand.New(rand.NewPCG(1, 2))
	shape := append([]int{n}, sample...)
	m := n
	for _, d := range sample {
		m *= d
	}
	x := make([]float64, m)
	for i := range x {
		x[i] = float64(r.IntN(256)) / 255
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(r.IntN(10))
	}
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	path = writeZip(b, b.TempDir(), "bench.npz", method,
		file{"x.npy", npy(b, arr("float32", shape, x))},
		file{"y.npy", npy(b, arr("int64", []int{n}, y))})
	return path, 4*m + 8*n
}

func BenchmarkLoad(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n      int
		sample []int
	}{
		{"1797x1x8x8", 1797, []int{1, 8, 8}},
		{"1000x3x32x32", 1000, []int{3, 32, 32}},
	} {
		for _, compress := range []bool{false, true} {
			name := bc.name + "/stored"
			if compress {
				name = bc.name + "/deflate"
			}
			b.Run(name, func(b *testing.B) {
				path, size := benchData(b, bc.n, bc.sample, compress)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for b.Loop() {
					if _, err := dataset.Load(path, dataset.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
