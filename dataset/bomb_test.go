package dataset_test

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

// writeBomb writes an npz whose deflated entry x.npy declares n float64
// zeros (a few hundred KB on disk for hundreds of MB inflated), and a y.npy
// of ny int64 labels.
func writeBomb(t *testing.T, n, ny int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bomb.npz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entry := func(name string, shape int, dtype string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }", dtype, shape)
		for (10+len(hdr)+1)%64 != 0 {
			hdr += " "
		}
		hdr += "\n"
		w.Write(append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(len(hdr)), byte(len(hdr) >> 8)}, hdr...))
		zero := make([]byte, 1<<20)
		for left := shape * 8; left > 0; left -= len(zero) {
			w.Write(zero[:min(left, len(zero))])
		}
	}
	entry("x.npy", n, "<f8")
	entry("y.npy", ny, "<i8")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// TestDeflateBomb checks that an entry that inflates to far more than its
// compressed size is refused from its header, under the cap, and that a
// length mismatch is reported before anything is inflated: memory stays
// small in both cases.
func TestDeflateBomb(t *testing.T) {
	const n = 32 << 20 // 256 MB of float64 zeros, about 250 KB deflated
	for _, c := range []struct {
		name string
		ny   int
		opts dataset.Options
		want error
		text string
	}{
		{"over the cap", n, dataset.Options{MaxBytes: 64 << 20}, dataset.ErrTooLarge, "cap"},
		{"length mismatch", 10, dataset.Options{}, dataset.ErrShape, "has 33554432 samples but"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeBomb(t, n, c.ny)
			if st, _ := os.Stat(path); st.Size() > 4<<20 {
				t.Fatalf("the bomb is %d bytes", st.Size())
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := dataset.Load(path, c.opts)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %v, want %v containing %q", err, c.want, c.text)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Errorf("allocated %d MB before refusing", grew>>20)
			}
			t.Log(err)
		})
	}
}
