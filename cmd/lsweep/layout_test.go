package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandFilesShort keeps the command package to flag parsing and
// printing: what grows past that belongs in the library (package pipeline),
// where a Go caller gets it too.
func TestCommandFilesShort(t *testing.T) {
	const most = 250
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(data, []byte("\n")); n > most {
			t.Errorf("%s has %d lines, more than %d: move what is not flag parsing or printing into the library", f, n, most)
		}
	}
}
