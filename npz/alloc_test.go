package npz_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// TestShortStreamHugeShape reads a few bytes that declare a 70 MB array,
// the size of the stream unknown (as FuzzReadNPY found, in Fortran order):
// the error must come without allocating more than about a read chunk.
func TestShortStreamHugeShape(t *testing.T) {
	for _, fortran := range []bool{true, false} {
		data := npyBytes(">f2", fortran, []int{7, 5000000}, make([]byte, 76))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := npz.ReadNPY(bytes.NewReader(data), -1)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatal("a truncated array was read")
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
			t.Errorf("fortran %v: %d bytes allocated for %d bytes of input", fortran, got, len(data))
		}
	}
}
