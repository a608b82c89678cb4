// Package fuzzcorpus keeps the committed seed corpora of the fuzz targets: each target reads
// testdata/fuzz/<Target>/ of its package (Go's corpus format), and Check makes sure every
// target of a package has one. With LIVEREC_WRITE_FUZZ_SEEDS=1, Check first rewrites the
// generated seeds (files named seed-*) from the package's seed functions; files of other
// names are inputs a fuzzer found, kept as regression tests, and never touched.
//
// It imports nothing of liverec, so that internal tests of any package can use it.
package fuzzcorpus

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Env names the variable that makes Check write the seeds before checking them.
const Env = "LIVEREC_WRITE_FUZZ_SEEDS"

// MaxSeedBytes bounds one committed seed file: seeds stay small so the corpus stays small
// and every fuzz run starts quickly.
const MaxSeedBytes = 64 << 10

// seedPrefix marks the files Check writes (and may delete when rewriting).
const seedPrefix = "seed-"

// Seeds maps a fuzz target to the function that builds its seeds: one []any per seed, holding
// the target's arguments in order.
type Seeds map[string]func(testing.TB) [][]any

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

// Check checks that every fuzz target declared in the package's _test.go files has a committed
// seed corpus of small files, and that seeds names only such targets. With Env set to 1 it
// first rewrites the generated seeds of every target in seeds.
func Check(t *testing.T, seeds Seeds) {
	t.Helper()
	targets := Targets(t, ".")
	for name := range seeds {
		if !slices.Contains(targets, name) {
			t.Errorf("seeds for %s, which is not a fuzz target of this package", name)
		}
	}
	if os.Getenv(Env) == "1" {
		for _, name := range targets {
			if gen, ok := seeds[name]; ok {
				if err := write(filepath.Join("testdata", "fuzz", name), gen(t)); err != nil {
					t.Fatalf("write seeds of %s: %v", name, err)
				}
			}
		}
	}
	for _, name := range targets {
		dir := filepath.Join("testdata", "fuzz", name)
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) == 0 {
			t.Errorf("%s has no committed seed corpus in %s (write it with %s=1 go test -run TestFuzzSeeds)", name, dir, Env)
			continue
		}
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() > MaxSeedBytes {
				t.Errorf("%s: seed %s is %d bytes, more than %d", name, e.Name(), fi.Size(), MaxSeedBytes)
			}
		}
	}
}

// Targets lists the fuzz targets declared in the _test.go files of dir.
func Targets(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fuzzFunc.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	slices.Sort(names)
	return names
}

// write replaces the generated seeds in dir with seeds.
func write(dir string, seeds [][]any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, seedPrefix+"*"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	for _, vals := range seeds {
		b, err := Marshal(vals...)
		if err != nil {
			return err
		}
		if len(b) > MaxSeedBytes {
			return fmt.Errorf("seed of %d bytes, more than %d", len(b), MaxSeedBytes)
		}
		sum := sha256.Sum256(b)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s%x", seedPrefix, sum[:8])), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Marshal encodes one seed in Go's corpus file format ("go test fuzz v1"), as the go command
// writes it (internal/fuzz marshalCorpusFile), for the argument types liverec's targets use.
func Marshal(vals ...any) ([]byte, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("a seed needs at least one value")
	}
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case int, int8, int16, int64, uint, uint16, uint32, uint64, bool:
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				fmt.Fprintf(&b, "math.Float64frombits(0x%x)\n", math.Float64bits(v))
			} else {
				fmt.Fprintf(&b, "float64(%v)\n", v)
			}
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		default:
			return nil, fmt.Errorf("unsupported seed value type %T", v)
		}
	}
	return b.Bytes(), nil
}

// Cuts returns b and its prefixes of the given lengths (clamped to b), the way a crash or a
// dropped connection cuts real input.
func Cuts(b []byte, lengths ...int) [][]byte {
	out := [][]byte{b}
	for _, n := range lengths {
		n = max(0, min(n, len(b)))
		out = append(out, b[:n:n])
	}
	return out
}

// One wraps single-argument seeds.
func One[T any](vs ...T) [][]any {
	out := make([][]any, len(vs))
	for i, v := range vs {
		out[i] = []any{v}
	}
	return out
}

// Lines joins lines with "\n" and a final newline: a readable way to write text seeds.
func Lines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// Tiny writes a tiny real recording with ffmpeg into dir/name and returns its path: vcodec
// ("libx264", "libx265" or "" for none) at 5 fps for 0.6 s with a keyframe every 2 frames
// (32x32; 64x64 for H.265, its smallest), plus mono AAC at 8 kHz when audio is set. out holds
// the output options (at least "-f FORMAT"). Media seeds are cut from such files.
func Tiny(t testing.TB, dir, name, vcodec string, audio bool, out ...string) string {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if vcodec != "" {
		size := "32x32"
		if vcodec == "libx265" {
			size = "64x64"
		}
		args = append(args, "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=5:duration=0.6")
	}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=0.6")
	}
	switch vcodec {
	case "libx264":
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "45", "-g", "2", "-bf", "0", "-pix_fmt", "yuv420p")
	case "libx265":
		args = append(args, "-c:v", "libx265", "-preset", "ultrafast", "-crf", "45", "-pix_fmt", "yuv420p",
			"-x265-params", "log-level=error:keyint=2:min-keyint=2:bframes=0:info=0", "-tag:v", "hvc1")
	}
	if audio {
		args = append(args, "-c:a", "aac", "-b:a", "8k", "-ac", "1")
	}
	path := filepath.Join(dir, name)
	args = append(append(args, out...), path)
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is required to write media seeds: %v", err)
	}
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return path
}

// ReadFile reads a file or fails the test.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
