package main

import (
	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/engine"
)

// runtimeOptions are the flags every command that runs a model shares.
type runtimeOptions struct {
	library  string
	device   string
	threads  int
	sessions int
}

func (o *runtimeOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.library, "onnxruntime", "", "path of libonnxruntime.so (default: $"+engine.LibraryEnv+", then "+engine.DefaultLibraryDir()+", then the system loader path)")
	f.StringVar(&o.device, "device", "cpu", "execution provider: cpu or cuda")
	f.IntVar(&o.threads, "threads", 0, "CPU threads in all (0: one per core)")
	f.IntVar(&o.sessions, "sessions", 0, "ONNX Runtime sessions sharing each point's batches, each with threads/sessions threads (0: one per thread on CPU, 1 on CUDA)")
}

func (o *runtimeOptions) engineOptions() engine.Options {
	return engine.Options{Library: o.library, Device: o.device, Threads: o.threads, Sessions: o.sessions}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "lsweep",
		Short: "Loss landscapes of neural networks exported to ONNX",
		Long: `lsweep computes the loss landscape of a neural network exported to ONNX from any
framework, with the method of "Visualizing the Loss Landscape of Neural Nets"
(filter-normalised random directions), evaluated by ONNX Runtime.` + "\n" + exitStatusHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newInspectCommand(), newEvalCommand(), newRunCommand(), newMergeCommand(), newPlotCommand(), newWeightsCommand(), newSweepCommand(true), newSpectrumCommand(), newCompareCommand(), newTrajectoryCommand())
	return root
}
