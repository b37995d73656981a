package npz_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// benchArray returns n random float32 values.
func benchArray(n int) *npz.Array {
	r := rand.New(rand.NewPCG(1, 2))
	a := &npz.Array{Shape: []int{n / 1000, 1000}, DType: "float32", Data: make([]float64, n)}
	for i := range a.Data {
		a.Data[i] = float64(float32(r.NormFloat64()))
	}
	return a
}

const benchN = 1_000_000

func BenchmarkWriteNPY(b *testing.B) {
	a := benchArray(benchN)
	b.SetBytes(4 * benchN)
	b.ReportAllocs()
	for b.Loop() {
		if err := npz.WriteNPY(io.Discard, a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadNPY(b *testing.B) {
	var buf bytes.Buffer
	if err := npz.WriteNPY(&buf, benchArray(benchN)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(4 * benchN)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := npz.ReadNPY(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFile includes the fsync of the file and its folder.
func BenchmarkWriteFile(b *testing.B) {
	es := []npz.Entry{{Name: "x", Array: benchArray(benchN)}}
	path := filepath.Join(b.TempDir(), "bench.npz")
	b.SetBytes(4 * benchN)
	b.ReportAllocs()
	for b.Loop() {
		if err := npz.WriteFile(path, es); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "x", Array: benchArray(benchN)}}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 * benchN)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := npz.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}
