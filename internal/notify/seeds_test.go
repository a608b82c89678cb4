package notify

import (
	"net/http"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): Retry-After in each form RFC 9110 allows.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzRetryAfter": func(testing.TB) [][]any {
			at := time.Date(2030, 1, 2, 3, 5, 35, 0, time.UTC)
			var seeds [][]any
			for _, v := range []string{"120", "0", at.Format(http.TimeFormat), at.Format(time.RFC850), at.Format(time.ANSIC)} {
				seeds = append(seeds, []any{v, 2})
			}
			return seeds
		},
	})
}
