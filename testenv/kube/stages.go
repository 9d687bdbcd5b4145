package main

import (
	_ "embed"
	"os"
)

// kwokStages are the KWOK Stage documents the test cluster runs with. They live
// in the binary so the Python side needs nothing but the binary itself.
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// runKwokStages prints the embedded stages for `kwok --config`.
func runKwokStages(_ []string) int {
	if _, err := os.Stdout.Write(kwokStages); err != nil {
		return 1
	}
	return 0
}
