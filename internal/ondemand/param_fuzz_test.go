package ondemand

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// FuzzParseRecordConfig feeds the record_config ingest parameter as a publisher may send it:
// the result is a decision or an *Error with a parsing reason; the URL-encoded form of a JSON
// value decides the same as the value itself; a decision names only known formats, each once;
// and applied to a valid rule it gives nil or a rule that still validates, with a subset of
// its formats and each cycle either the rule's or an Interval within MinInterval..MaxInterval.
func FuzzParseRecordConfig(f *testing.F) {
	for _, tc := range replyCases() {
		f.Add(tc.body)
		f.Add(url.QueryEscape(tc.body))
	}
	rule := recording.DefaultRule()
	rule.Formats[0].CycleS = 600 // distinct cycles tell which one Apply kept
	require.NoError(f, rule.Validate())
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := ParseRecordConfig(raw)
		if s := strings.TrimSpace(raw); strings.HasPrefix(s, "{") {
			r2, err2 := ParseRecordConfig(url.QueryEscape(s))
			require.Equal(t, reasonOf(err), reasonOf(err2))
			require.Equal(t, r, r2)
		}
		if err != nil {
			require.Contains(t, []Reason{ErrInvalid, ErrTruncated}, reasonOf(err), "%v", err)
			require.Zero(t, r)
			return
		}
		require.NotEmpty(t, r.APIVersion)
		for i, fm := range r.Formats {
			require.Contains(t, []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS}, fm)
			require.NotContains(t, r.Formats[:i], fm)
		}
		for fm := range r.Interval {
			require.Contains(t, []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS}, fm)
		}

		before := rule
		before.Formats = slices.Clone(rule.Formats)
		out := Apply(&rule, r)
		require.True(t, reflect.DeepEqual(before, rule), "Apply mutated its input")
		if out == nil {
			return
		}
		require.True(t, r.NeedRecord)
		require.NotEmpty(t, out.Formats)
		require.NoError(t, out.Validate())
		for _, fc := range out.Formats {
			i := slices.IndexFunc(rule.Formats, func(o recording.FormatConfig) bool { return o.Format == fc.Format })
			require.GreaterOrEqual(t, i, 0, "format %s not in the rule", fc.Format)
			if fc.CycleS != rule.Formats[i].CycleS {
				require.Equal(t, r.Interval[fc.Format], fc.CycleS)
				require.GreaterOrEqual(t, fc.CycleS, MinInterval)
				require.LessOrEqual(t, fc.CycleS, MaxInterval)
			}
		}
	})
}
