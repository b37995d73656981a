package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
)

type spectrumOptions struct {
	runtime runtimeOptions
	data    dataOptions
	dirs    directionOptions
	at      string
	out     string
	json    bool
	formats []string
	spec    landscape.SpectrumOptions
}

func newSpectrumCommand() *cobra.Command {
	var opts spectrumOptions
	cmd := &cobra.Command{
		Use:   "spectrum MODEL DATA",
		Short: "The Hessian's top eigenvalues, trace and eigenvalue density",
		Long: `Compute, from exact Hessian-vector products of the loss of MODEL over DATA, what
dedicated Hessian tools report: the --top-k largest eigenvalues (Lanczos with
full reorthogonalisation, restarted to find repeated ones), the trace by
Hutchinson's estimator with its standard error (Rademacher probes,
--trace-probes, stopping early at --trace-tol relative standard error), and
the eigenvalue density by stochastic Lanczos quadrature (--density-runs runs
of --density-steps steps from random starts, Ritz values weighted by the
squared first components of the eigenvectors, smoothed with a Gaussian as
PyHessian does).

The Hessian is taken at the model's weights, or with --at A[,B] at the point
th + A*x + B*y of a landscape (--directions, --model2/--model3, or the random
directions of --seed and --norm, as "lsweep run" makes them).

Writes into --out (default <model>.spectrum): spectrum.json (top_k values and
residuals, trace estimate, std_err and probes, the density's runs, steps and
smoothing), spectrum.npz (top_k, trace_samples, density_nodes and
density_weights [runs, steps], density_x and density_y) and density.png (the
smoothed density on a log scale). --json prints spectrum.json too.` + "\n" + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSpectrum(cmd, opts, args[0], args[1])
		},
	}
	opts.runtime.AddFlags(cmd)
	opts.data.AddFlags(cmd)
	opts.dirs.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.at, "at", "", "take the Hessian at the landscape point A or A,B")
	f.StringVar(&opts.out, "out", "", "output folder (default: <model>.spectrum)")
	f.BoolVar(&opts.json, "json", false, "print spectrum.json")
	f.StringSliceVar(&opts.formats, "format", []string{"png"}, "picture formats: png, svg, pdf")
	f.IntVar(&opts.spec.TopK, "top-k", landscape.DefaultTopK, "largest eigenvalues to compute (0: none)")
	f.IntVar(&opts.spec.Hessian.Samples, "hessian-samples", 0, "products over a deterministic subset of this many samples (0: all)")
	f.Float64Var(&opts.spec.Hessian.Tol, "hessian-tol", 0, "relative residual tolerance of the top eigenvalues (0: 1e-3)")
	f.IntVar(&opts.spec.Hessian.MaxIter, "hessian-max-iter", 0, "products at most for the top eigenvalues (0: 200 + 20k)")
	f.Uint64Var(&opts.spec.Hessian.Seed, "hessian-seed", 0, "seed of the random start vectors and probes")
	f.StringVar(&opts.spec.Hessian.HVP, "hvp", landscape.HVPExact, "Hessian-vector products: exact, or fd (central differences of gradients)")
	f.IntVar(&opts.spec.Trace.Probes, "trace-probes", hessian.DefaultProbes, "Hutchinson probes at most (0: no trace)")
	f.Float64Var(&opts.spec.Trace.Tol, "trace-tol", hessian.DefaultTraceTol, "stop the trace at this relative standard error (negative: never early)")
	f.IntVar(&opts.spec.Density.Runs, "density-runs", hessian.DefaultSLQRuns, "stochastic Lanczos quadrature runs (0: no density)")
	f.IntVar(&opts.spec.Density.Steps, "density-steps", hessian.DefaultSLQSteps, "Lanczos steps per density run")
	return cmd
}

func runSpectrum(cmd *cobra.Command, opts spectrumOptions, modelPath, dataPath string) error {
	spec := opts.spec
	// Zero counts on the command line mean "none"; in the library, defaults.
	if spec.TopK == 0 {
		spec.TopK = -1
	}
	spec.NoTrace = spec.Trace.Probes == 0
	spec.NoDensity = spec.Density.Runs == 0
	at, err := parseAt(cmpAt(opts.at))
	if err != nil {
		return err
	}
	lc, err := opts.dirs.config(modelPath, dataPath, opts.runtime, opts.data, len(at) == 2)
	if err != nil {
		return err
	}
	formats := make([]string, len(opts.formats))
	for i, f := range opts.formats {
		formats[i] = strings.TrimSpace(f)
	}
	res, err := pipeline.Spectrum(cmd.Context(), pipeline.SpectrumConfig{
		Landscape: lc, A: at[0], B: append(at, 0)[1], Spectrum: spec, Out: opts.out, Formats: formats,
	})
	if err != nil {
		return err
	}
	s, out, w := res.Spectrum, res.Out, cmd.OutOrStdout()
	if opts.json {
		b, err := os.ReadFile(filepath.Join(out, "spectrum.json"))
		if err != nil {
			return err
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Fprintf(w, "weights     %d\n", s.Params)
	if s.Top != nil {
		fmt.Fprintf(w, "top %d       %s (converged: %v)\n", len(s.Top.Values), floats(s.Top.Values), s.Top.Converged)
	}
	if s.Trace != nil {
		fmt.Fprintf(w, "trace       %.6g ± %.2g (%d probes)\n", s.Trace.Trace, s.Trace.StdErr, s.Trace.Probes)
	}
	if s.Density != nil {
		fmt.Fprintf(w, "density     %d runs of %d steps, sigma %.3g\n", len(s.Density.Runs), spec.Density.Steps, s.Sigma)
	}
	fmt.Fprintf(w, "hvps        %d\n", s.Products)
	fmt.Fprintf(w, "seconds     %.2f\n", s.Seconds)
	fmt.Fprintf(w, "wrote       %s\n", out)
	return nil
}

// cmpAt is the point of --at, the centre when not given.
func cmpAt(at string) string {
	if at == "" {
		return "0"
	}
	return at
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.6g", x)
	}
	return strings.Join(s, " ")
}
