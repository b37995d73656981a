package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/lsweep/lsweep/internal/atomicfile"
)

// DPI is the resolution of PNG output, in dots per inch.
const DPI = 300

// ErrNoData is returned, wrapped, when there is nothing finite to draw: a
// grid whose values are all NaN, or curves with no finite point.
var ErrNoData = errors.New("render: no finite values to draw")

// Drawer is a picture that draws itself onto a canvas, filling it. Draw
// checks its data before drawing anything and returns an error, drawing
// nothing, when it cannot make a meaningful picture.
type Drawer interface {
	Draw(c draw.Canvas) error
}

// Save draws d on a canvas of width w and height h and writes it to the file
// at path, in the format named by the path's extension: .png (at DPI dots
// per inch), .svg or .pdf, in any case. An unknown extension is an error
// naming it, and so is a failure to draw; in both cases no file is written.
// The file is written, with permissions 0644, under a temporary name, synced
// and renamed into place, so that a reader never sees a part of it.
func Save(d Drawer, path string, w, h vg.Length) error {
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if !knownFormat(format) {
		return fmt.Errorf("render: save %s: unknown image format %q (want .png, .svg or .pdf)", path, filepath.Ext(path))
	}
	var buf bytes.Buffer
	if err := Encode(&buf, format, d, w, h); err != nil {
		return fmt.Errorf("render: save %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("render: save %s: %w", path, err)
	}
	return nil
}

// Encode draws d on a canvas of width w and height h and writes it to dst
// in the named format: "png" (at DPI dots per inch), "svg" or "pdf", in any
// case. Nothing is written when drawing fails.
func Encode(dst io.Writer, format string, d Drawer, w, h vg.Length) error {
	var cw vg.CanvasWriterTo
	switch strings.ToLower(format) {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
	case "svg":
		cw = vgsvg.New(w, h)
	case "pdf":
		cw = vgpdf.New(w, h)
	default:
		return fmt.Errorf("render: unknown image format %q (want png, svg or pdf)", format)
	}
	if err := d.Draw(draw.New(cw)); err != nil {
		return err
	}
	_, err := cw.WriteTo(dst)
	return err
}

func knownFormat(f string) bool { return f == "png" || f == "svg" || f == "pdf" }
