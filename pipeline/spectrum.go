package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/render"
)

// SpectrumConfig is one Hessian spectrum: at the point th + A*x + B*y of a
// landscape (B needs a 2-D landscape; both 0 for the model's own weights).
type SpectrumConfig struct {
	Landscape landscape.Config
	A, B      float64
	Spectrum  landscape.SpectrumOptions
	// Out is the output folder; "" is the model's file name with
	// .spectrum for the extension, in the current folder.
	Out string
	// Formats are the density picture's formats; nil means png.
	Formats []string
}

// SpectrumResult is what Spectrum computed and wrote.
type SpectrumResult struct {
	*landscape.Spectrum
	Out   string   // the output folder
	Files []string // the density pictures
}

// Spectrum computes the Hessian's top eigenvalues, trace and eigenvalue
// density (landscape.Landscape.Spectrum) and writes spectrum.json,
// spectrum.npz and, when there is a density, density.png (and the other
// formats asked for) into the output folder.
func Spectrum(ctx context.Context, cfg SpectrumConfig) (*SpectrumResult, error) {
	if cfg.Formats == nil {
		cfg.Formats = []string{"png"}
	}
	if err := checkFormats(cfg.Formats); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if cfg.Out == "" {
		base := filepath.Base(cfg.Landscape.Model)
		cfg.Out = strings.TrimSuffix(base, filepath.Ext(base)) + ".spectrum"
	}
	l, err := landscape.Open(cfg.Landscape)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	s, err := l.Spectrum(ctx, cfg.A, cfg.B, cfg.Spectrum)
	if err != nil {
		return nil, err
	}
	res := &SpectrumResult{Spectrum: s, Out: cfg.Out}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	if err := s.Save(cfg.Out); err != nil {
		return nil, err
	}
	if s.CurveX != nil {
		d := render.NewDensity(s.CurveX, s.CurveY)
		d.Title = fmt.Sprintf("%s: Hessian eigenvalue density", filepath.Base(cfg.Landscape.Model))
		for _, f := range cfg.Formats {
			path := filepath.Join(cfg.Out, "density."+strings.ToLower(f))
			if err := render.Save(d, path, 6*vg.Inch, 4*vg.Inch); err != nil {
				return nil, err
			}
			res.Files = append(res.Files, path)
		}
	}
	return res, nil
}

// checkFormats returns an error naming a picture format render cannot
// write.
func checkFormats(formats []string) error {
	for _, f := range formats {
		switch strings.ToLower(f) {
		case "png", "svg", "pdf":
		default:
			return fmt.Errorf("unknown picture format %q (want png, svg or pdf)", f)
		}
	}
	return nil
}
