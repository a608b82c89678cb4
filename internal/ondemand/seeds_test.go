package ondemand

import (
	"net/url"
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): the replies of the contract's examples, as bodies and as the
// record_config parameter (raw and URL-encoded, as publishers send it).
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzParseReply": func(testing.TB) [][]any {
			var seeds [][]any
			for _, tc := range replyCases() {
				seeds = append(seeds, []any{[]byte(tc.body)})
			}
			return seeds
		},
		"FuzzParseRecordConfig": func(testing.TB) [][]any {
			seeds := [][]any{{"%7B%22NeedRecord%22%3Atrue%7D"}} // the contract's own example
			for _, tc := range replyCases()[:6] {
				seeds = append(seeds, []any{tc.body}, []any{url.QueryEscape(tc.body)})
			}
			return seeds
		},
	})
}
