package dataset

import (
	"errors"
	"fmt"

	"github.com/lsweep/lsweep/internal/errkind"
	"github.com/lsweep/lsweep/npz"
)

// Sentinel errors. The errors this package returns match one of these with
// errors.Is, or an underlying file-system error such as fs.ErrNotExist.
var (
	// ErrFormat means the file is not an .npz archive or .npy array, or is
	// malformed or truncated. It is npz.ErrFormat.
	ErrFormat = npz.ErrFormat
	// ErrDType means an array holds values other than bool, integer or
	// float. It is npz.ErrDType.
	ErrDType = npz.ErrDType
	// ErrMissingKey means the archive or folder has no entry of the requested name.
	ErrMissingKey = errors.New("dataset: no such entry")
	// ErrEmpty means the arrays hold no samples.
	ErrEmpty = errors.New("dataset: no samples")
	// ErrShape means array shapes disagree with each other or with the model.
	ErrShape = errors.New("dataset: shape mismatch")
	// ErrLabels means labels are not integer class indices in range.
	ErrLabels = errors.New("dataset: bad labels")
	// ErrTooLarge: the entries declare more values than the cap allows.
	ErrTooLarge = errors.New("dataset: too large")
	// ErrNotFinite: the inputs hold NaN or infinite values.
	ErrNotFinite = errors.New("dataset: NaN or infinite inputs")
)

// within prefixes err with "dataset: " and where it happened, keeping what
// it matches; an *npz.Error's own statement of where is replaced, and the
// result still matches it with errors.As.
func within(where string, err error) error {
	var ne *npz.Error
	if errors.As(err, &ne) {
		return &errkind.Error{Msg: "dataset: " + where + ": " + ne.Err.Error(), Kind: ne}
	}
	return fmt.Errorf("dataset: %s: %w", where, err)
}
