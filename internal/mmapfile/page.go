package mmapfile

import (
	"encoding/binary"
	"os"
)

var pageSize = os.Getpagesize()

// LittleEndian reports whether this machine stores numbers as .npy and ONNX
// files do, so that their float32 values can be read in place.
func LittleEndian() bool {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], 1)
	return b[0] == 1
}
