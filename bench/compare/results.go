package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// resultsFile is bench/results-DATE.json: every run's numbers and what they were measured on,
// enough to rebuild the report's figures and the plot (--plot-from).
type resultsFile struct {
	Date      string       `json:"date"`
	Command   string       `json:"command"`
	Machine   []string     `json:"machine"`
	Caption   string       `json:"caption"` // the plot's machine and date line
	Reference string       `json:"reference"`
	Runs      int          `json:"runs"`
	Window    string       `json:"window"`
	Warmup    string       `json:"warmup"`
	Ramp      string       `json:"ramp"`
	Duration  string       `json:"duration"` // each stream's publishing, hence recording
	Aborted   string       `json:"aborted,omitempty"`
	Results   []*runResult `json:"results"`
}

func writeResults(path string, rf resultsFile) error {
	b, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func readResults(path string) (resultsFile, error) {
	var rf resultsFile
	b, err := os.ReadFile(path)
	if err != nil {
		return rf, fmt.Errorf("read results: %w", err)
	}
	if err := json.Unmarshal(b, &rf); err != nil {
		return rf, fmt.Errorf("results %s: %w", path, err)
	}
	return rf, nil
}

// plotFromFiles rebuilds a plot from several results files (runs at different N made
// separately).
func plotFromFiles(paths []string, out string) error {
	var rfs []resultsFile
	for _, p := range paths {
		rf, err := readResults(p)
		if err != nil {
			return err
		}
		rfs = append(rfs, rf)
	}
	svg, err := plotSVG(rfs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(svg), 0o644); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	return nil
}
