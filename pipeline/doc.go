// Package pipeline runs a loss landscape end to end, the same way for the
// command line and for a Go caller: "lsweep run" parses its flags into a
// Config and calls Run, so that both write the same files.
//
// Run applies every default once (the x axis, the output folder, the
// picture options; package landscape applies those of the directions),
// opens the landscape, writes the typed Manifest and the directions into
// the output folder, evaluates the points of its shard in coarse-to-fine
// order through package sweep (resuming what the folder holds, refusing a
// folder of other settings unless Force), and for a whole run draws the
// pictures and the report with Draw. With a Tolerance, the points are
// estimated (sequential sampling, package estimate) and the grid refined
// adaptively (sweep.RunAdaptive); see docs/adaptive.md. Merge combines the shards of a run
// and draws them; Draw redraws a finished, partial or merged run with
// other PlotOptions. Compare evaluates two models' flatness slices, each
// model loaded once, for package flatness's verdict. Spectrum writes a
// Hessian spectrum's files and picture, Weights the distributions of
// models' weights, Trajectory a training run's path on the plane of its
// checkpoints' principal components (package trajectory) with the surface
// on that plane: each lsweep command that writes files is one call here.
//
// The output folder holds surface.npz (or a shard's file), manifest.json,
// directions.npz, the pictures (contours, heat maps, the 3-D surface and a
// ParaView file for a surface; the curve for a 1-D run; convexity maps
// with Hessian) and report.html, whose 3-D view takes the pictures'
// palette.
package pipeline
