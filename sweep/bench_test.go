package sweep_test

import (
	"testing"
	"time"

	"github.com/lsweep/lsweep/sweep"
)

// BenchmarkRecordFlush records one point of a 51x51 grid and writes the
// whole file, as a Store does once per FlushInterval.
func BenchmarkRecordFlush(b *testing.B) {
	gr := grid2(b, "-1:1:51", "-1:1:51")
	s := open(b, b.TempDir(), manifest(gr, 1), sweep.Shard{})
	s.FlushInterval = time.Hour
	i := 0
	for b.Loop() {
		if err := s.Record(i%gr.Len(), []float64{1, 0.5}); err != nil {
			b.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRecord records one point of a 51x51 grid without writing.
func BenchmarkRecord(b *testing.B) {
	gr := grid2(b, "-1:1:51", "-1:1:51")
	s := open(b, b.TempDir(), manifest(gr, 1), sweep.Shard{})
	s.FlushInterval = time.Hour
	i := 0
	for b.Loop() {
		if err := s.Record(i%gr.Len(), []float64{1, 0.5}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCoarseToFine(b *testing.B) {
	gr := grid2(b, "-1:1:201", "-1:1:201")
	for b.Loop() {
		sweep.CoarseToFine(gr)
	}
}
