package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/render"
)

// Surface is the data of one 2-D surface or 1-D curve: values on a grid
// whose rows are y and whose columns are x. The value of channel c at
// (X[i], Y[j]) is Values[c][j*len(X)+i]; for a 1-D curve Y is empty and the
// value at X[i] is Values[c][i]. NaN marks a point not computed.
type Surface struct {
	X, Y   []float64            // coordinates; Y empty for a 1-D curve
	Values map[string][]float64 // channel name ("loss", "acc", ...) -> row-major values
	Log    bool                 // start the interactive view on a log scale
	// LossRange, when it holds two numbers lo < hi, fixes the scale of the
	// loss's heights and colours to [lo, hi] (values beyond take the
	// nearer end), so that the views of several runs compare; nil: the
	// range of the values.
	LossRange []float64
}

// Image is a picture drawn elsewhere, such as a contour plot, embedded in
// the page as a data: URI.
type Image struct {
	Name    string // short title shown above the caption
	Caption string
	PNG     []byte // the PNG file's bytes
}

// Report is what a report shows. Every field may be left empty: a nil
// Surface gives a page without the interactive view.
//
// Manifest is shown as a table: each top-level key whose value is an
// object (such as "identity", "grid" and "info") gets a section of its own,
// the other top-level keys share one; nested objects are flattened to
// dotted keys, an object holding just min, max and n reads "-1 to 1, 51
// points", and hex digests are shortened with their full value shown on
// hover. Values of any type that encoding/json accepts may be given.
type Report struct {
	Title    string
	Surface  *Surface
	Images   []Image
	Manifest map[string]any
	Summary  []string // a few lines, such as the minimum loss and where
	// ColorMap colours the interactive view, as the pictures are; nil
	// means render.Viridis.
	ColorMap *render.ColorMap
	// Path, if not nil, is drawn on a 2-D surface's interactive view: a
	// training run's path, say.
	Path *Path
}

// Path is a path over a 2-D surface: points in its x and y coordinates, in
// order, each with an optional label (Labels may be nil).
type Path struct {
	X, Y   []float64
	Labels []string
}

var (
	//go:embed report.html
	pageHTML string
	//go:embed report.css
	pageCSS string
	//go:embed report.js
	pageJS string

	page = template.Must(template.New("report").Parse(pageHTML))
)

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// pageData is what the template receives.
type pageData struct {
	Title    string
	Summary  []string
	Surface  *surfaceInfo
	Images   []pageImage
	Manifest []Section
	CSS      template.CSS
	JS       template.JS
	Data     template.JS // JSON; encoding/json escapes <, > and &
}

// surfaceInfo describes the surface in words, for the page's text.
type surfaceInfo struct {
	Is2D    bool
	Shape   string // "51 × 51" or "51"
	Missing int    // points with a NaN in any channel
}

type pageImage struct {
	ID, Name, Caption string
	Src               template.URL
}

// pageJSON is the JSON data block the page's script reads.
type pageJSON struct {
	Title   string       `json:"title"`
	Surface *surfaceJSON `json:"surface"`
	Palette [][3]uint8   `json:"palette"` // the colour map's stops, 0 to 1
	Path    *pathJSON    `json:"path,omitempty"`
}

type pathJSON struct {
	X      floats   `json:"x"`
	Y      floats   `json:"y"`
	Labels []string `json:"labels"`
}

type surfaceJSON struct {
	X        floats        `json:"x"`
	Y        floats        `json:"y"`
	Channels []channelJSON `json:"channels"`
	Log      bool          `json:"log"`
	Range    floats        `json:"loss_range,omitempty"`
}

type channelJSON struct {
	Name   string `json:"name"`
	Values floats `json:"values"`
}

// floats is a []float64 whose JSON form writes NaN and ±Inf as null.
type floats []float64

// MarshalJSON implements json.Marshaler.
func (f floats) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(f)*12)
	b = append(b, '[')
	for i, v := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, ']'), nil
}

// Write writes r to w as one HTML page. It returns an error, and writes
// nothing, if r's surface is malformed (coordinates that are not finite,
// a channel whose length does not match the grid, no channel at all), if
// an image is not a PNG or if the manifest cannot be encoded as JSON.
func Write(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("report: nil Report")
	}
	d := pageData{
		Title:   cmp.Or(r.Title, "lsweep report"),
		Summary: r.Summary,
		CSS:     template.CSS(pageCSS),
		JS:      template.JS(pageJS),
	}
	data := pageJSON{Title: d.Title}
	cm := r.ColorMap
	if cm == nil {
		cm = render.Viridis()
	}
	for _, c := range cm.Stops() {
		data.Palette = append(data.Palette, [3]uint8{c.R, c.G, c.B})
	}
	if r.Surface != nil {
		s, info, err := encodeSurface(r.Surface)
		if err != nil {
			return err
		}
		data.Surface, d.Surface = s, info
	}
	if p := r.Path; p != nil {
		if err := checkPath(p, r.Surface); err != nil {
			return err
		}
		data.Path = &pathJSON{X: p.X, Y: p.Y, Labels: p.Labels}
		if data.Path.Labels == nil {
			data.Path.Labels = make([]string, len(p.X))
		}
	}
	for i, im := range r.Images {
		if !bytes.HasPrefix(im.PNG, pngMagic) {
			return fmt.Errorf("report: image %d %q is not a PNG", i, im.Name)
		}
		d.Images = append(d.Images, pageImage{
			ID:      fmt.Sprintf("image-%d", i+1),
			Name:    im.Name,
			Caption: im.Caption,
			Src:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(im.PNG)),
		})
	}
	var err error
	if d.Manifest, err = manifestSections(r.Manifest); err != nil {
		return err
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("report: encoding the data: %w", err)
	}
	d.Data = template.JS(b)

	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// encodeSurface checks s and returns its JSON form, "loss" first and then
// the other channels by name.
func encodeSurface(s *Surface) (*surfaceJSON, *surfaceInfo, error) {
	if len(s.X) == 0 {
		return nil, nil, errors.New("report: the surface has no x coordinates")
	}
	if len(s.Values) == 0 {
		return nil, nil, errors.New("report: the surface has no channels")
	}
	for _, axis := range []struct {
		name string
		v    []float64
	}{{"x", s.X}, {"y", s.Y}} {
		for i, v := range axis.v {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("report: the surface's %s coordinate %d is %v", axis.name, i, v)
			}
		}
	}
	n := len(s.X)
	info := &surfaceInfo{Is2D: len(s.Y) > 0, Shape: strconv.Itoa(len(s.X))}
	if info.Is2D {
		n *= len(s.Y)
		info.Shape = fmt.Sprintf("%d × %d", len(s.X), len(s.Y))
	}
	names := make([]string, 0, len(s.Values))
	for name := range s.Values {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if (a == "loss") != (b == "loss") {
			if a == "loss" {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	out := &surfaceJSON{X: s.X, Y: s.Y, Log: s.Log}
	if r := s.LossRange; len(r) == 2 && r[1] > r[0] {
		out.Range = floats{r[0], r[1]}
	}
	if out.Y == nil {
		out.Y = floats{} // [] in JSON, not null
	}
	missing := make([]bool, n)
	for _, name := range names {
		v := s.Values[name]
		if len(v) != n {
			return nil, nil, fmt.Errorf("report: channel %q has %d values, the %s grid %d points", name, len(v), info.Shape, n)
		}
		for i, x := range v {
			if math.IsNaN(x) {
				missing[i] = true
			}
		}
		out.Channels = append(out.Channels, channelJSON{Name: name, Values: v})
	}
	for _, m := range missing {
		if m {
			info.Missing++
		}
	}
	return out, info, nil
}

// checkPath returns an error if p is malformed or has no 2-D surface to
// lie on.
func checkPath(p *Path, s *Surface) error {
	if s == nil || len(s.Y) == 0 {
		return errors.New("report: a path needs a 2-D surface")
	}
	if len(p.X) != len(p.Y) || p.Labels != nil && len(p.Labels) != len(p.X) {
		return fmt.Errorf("report: the path has %d x, %d y and %d labels", len(p.X), len(p.Y), len(p.Labels))
	}
	for i := range p.X {
		if math.IsNaN(p.X[i]) || math.IsInf(p.X[i], 0) || math.IsNaN(p.Y[i]) || math.IsInf(p.Y[i], 0) {
			return fmt.Errorf("report: path point %d (%v, %v) is not finite", i, p.X[i], p.Y[i])
		}
	}
	return nil
}

// WriteFile writes r to path as Write does, atomically: to a temporary
// file in path's folder, synced, then renamed to path, and the folder
// synced. The file gets permissions 0644. On error path is left as it
// was.
func WriteFile(path string, r *Report) error {
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}
