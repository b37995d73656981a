// Command lsweep computes and draws the loss landscapes of neural networks
// exported to ONNX.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, the same for every command.
const (
	exitOK          = 0
	exitCheckFailed = 1 // a check the command makes did not pass
	exitError       = 2 // bad input or a failure
	exitInterrupted = 130
)

const exitStatusHelp = `
EXIT STATUS
  0    success
  1    a check the command makes did not pass
  2    bad input (a missing or malformed file, a bad flag) or a failure
  130  interrupted (SIGINT or SIGTERM)`

// errCheckFailed marks an error that means "the check ran and failed".
var errCheckFailed = errors.New("check failed")

// errReported marks an error whose message the command has printed itself.
var errReported = errors.New("reported")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	os.Exit(exitCode(ctx, err))
}

func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "lsweep: interrupted")
		}
		return exitInterrupted
	case errors.Is(err, errCheckFailed):
		fmt.Fprintln(os.Stderr, "lsweep:", err)
		return exitCheckFailed
	}
	fmt.Fprintln(os.Stderr, "lsweep:", err)
	return exitError
}
