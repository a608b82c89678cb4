package ondemand

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// padObject returns a valid reply of exactly size bytes.
func padObject(size int) string {
	const head, tail = `{"NeedRecord":true,"Pad":"`, `"}`
	return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
}

type replyCase struct {
	name   string
	body   string
	want   Reply  // when reason is ""
	reason Reason // expected failure
}

// replyCases drive the reply parsing through Ask (TestAskReplies), ParseRecordConfig and the fuzz
// seeds. The limit is DefaultMaxBody.
func replyCases() []replyCase {
	yes := Reply{APIVersion: "1.0", NeedRecord: true}
	mp4, flv, hls := recording.FormatMP4, recording.FormatFLV, recording.FormatHLS
	return []replyCase{
		{name: "Minimal", body: `{"NeedRecord":true}`, want: yes},
		{name: "SeedSample", body: `{
    "ApiVersion" : "1.0",
    "NeedRecord" : true,
    "Interval" : {"Mp4": 300, "Flv": 120, "M3U8": 180},
    "Format" : ["mp4","flv"]
}`, want: Reply{APIVersion: "1.0", NeedRecord: true,
			Interval: map[recording.Format]int{mp4: 300, flv: 120, hls: 180},
			Formats:  []recording.Format{mp4, flv}}},
		{name: "NeedRecordFalse", body: `{"NeedRecord":false,"Format":["mp4"]}`,
			want: Reply{APIVersion: "1.0", Formats: []recording.Format{mp4}}},
		{name: "ApiVersionKept", body: `{"ApiVersion":"2.0","NeedRecord":true}`,
			want: Reply{APIVersion: "2.0", NeedRecord: true}},
		{name: "KeysAnyCase", body: `{"needrecord":true,"INTERVAL":{"mp4":60,"FLV":30,"m3u8":90},"format":["MP4","HLS","M3u8"]}`,
			want: Reply{APIVersion: "1.0", NeedRecord: true,
				Interval: map[recording.Format]int{mp4: 60, flv: 30, hls: 90},
				Formats:  []recording.Format{mp4, hls}}},
		{name: "RepeatedIntervalKeyLastWins", body: `{"NeedRecord":true,"Interval":{"Mp4":60,"MP4":70}}`,
			want: Reply{APIVersion: "1.0", NeedRecord: true, Interval: map[recording.Format]int{mp4: 70}}},
		{name: "UnknownFieldsIgnored", body: `{"NeedRecord":true,"Extra":{"a":[1,null]},"Interval":{"Aac":"x"},"Format":["aac"]}`,
			want: Reply{APIVersion: "1.0", NeedRecord: true, Formats: []recording.Format{}}},
		{name: "OutOfRangeIntervalKept", body: `{"NeedRecord":true,"Interval":{"Flv":3,"Mp4":30000}}`,
			want: Reply{APIVersion: "1.0", NeedRecord: true, Interval: map[recording.Format]int{flv: 3, mp4: 30000}}},
		{name: "EmptyFormat", body: `{"NeedRecord":true,"Format":[]}`,
			want: Reply{APIVersion: "1.0", NeedRecord: true, Formats: []recording.Format{}}},
		{name: "NullsAreAbsent", body: `{"NeedRecord":true,"Interval":null,"Format":null,"ApiVersion":null}`, want: yes},
		{name: "SurroundingWhitespace", body: " \r\n\t{\"NeedRecord\":true}\n\n", want: yes},
		{name: "ExactlyMaxBody", body: padObject(DefaultMaxBody), want: yes},
		// Only the first 2,048 bytes count (seed 000): a complete object followed by whitespace up
		// to the limit is a decision, whatever follows.
		{name: "CompleteThenMoreBytes", body: `{"NeedRecord":true}` +
			strings.Repeat(" ", DefaultMaxBody-19) + strings.Repeat("garbage", 200), want: yes},

		{name: "CutByLimit", body: strings.Repeat(" ", 1500) + padObject(600), reason: ErrTruncated},
		{name: "OneByteOver", body: padObject(DefaultMaxBody + 1), reason: ErrTruncated},
		{name: "OnlySpacesOverLimit", body: strings.Repeat(" ", 3000), reason: ErrTruncated},
		{name: "Empty", body: "", reason: ErrInvalid},
		{name: "OnlySpaces", body: "   ", reason: ErrInvalid},
		{name: "IncompleteWithinLimit", body: `{"NeedRecord":true`, reason: ErrInvalid},
		{name: "SyntaxError", body: `{"NeedRecord":true,}`, reason: ErrInvalid},
		{name: "NotJSON", body: `NeedRecord=true`, reason: ErrInvalid},
		{name: "Array", body: `[{"NeedRecord":true}]`, reason: ErrInvalid},
		{name: "Bool", body: `true`, reason: ErrInvalid},
		{name: "TrailingData", body: `{"NeedRecord":true}x`, reason: ErrInvalid},
		{name: "TwoObjects", body: `{"NeedRecord":true}{"NeedRecord":false}`, reason: ErrInvalid},
		{name: "NeedRecordMissing", body: `{"ApiVersion":"1.0"}`, reason: ErrInvalid},
		{name: "NeedRecordNull", body: `{"NeedRecord":null}`, reason: ErrInvalid},
		{name: "NeedRecordString", body: `{"NeedRecord":"true"}`, reason: ErrInvalid},
		{name: "NeedRecordNumber", body: `{"NeedRecord":1}`, reason: ErrInvalid},
		{name: "ApiVersionNumber", body: `{"ApiVersion":1.0,"NeedRecord":true}`, reason: ErrInvalid},
		{name: "IntervalNotObject", body: `{"NeedRecord":true,"Interval":[300]}`, reason: ErrInvalid},
		{name: "IntervalString", body: `{"NeedRecord":true,"Interval":{"Mp4":"300"}}`, reason: ErrInvalid},
		{name: "IntervalFraction", body: `{"NeedRecord":true,"Interval":{"Mp4":300.5}}`, reason: ErrInvalid},
		{name: "IntervalHuge", body: `{"NeedRecord":true,"Interval":{"Mp4":99999999999999999999}}`, reason: ErrInvalid},
		{name: "FormatNotArray", body: `{"NeedRecord":true,"Format":"mp4"}`, reason: ErrInvalid},
		{name: "FormatNumber", body: `{"NeedRecord":true,"Format":[4]}`, reason: ErrInvalid},
	}
}

// reasonOf returns the Reason of a failed decision, or "" for nil.
func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func requireReason(t *testing.T, err error, want Reason) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, want, e.Reason)
	require.Equal(t, strings.ToLower(err.Error()[:1]), err.Error()[:1])
}

func TestAskReplies(t *testing.T) {
	t.Parallel()
	for _, tc := range replyCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			got, err := (&Asker{}).Ask(context.Background(), srv.URL, Request{Domain: "a.com", App: "live", Stream: "s"})
			if tc.reason != "" {
				requireReason(t, err, tc.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestParseRecordConfigCases runs the same table through the ingest parameter, URL-encoded.
func TestParseRecordConfigCases(t *testing.T) {
	t.Parallel()
	for _, tc := range replyCases() {
		if strings.TrimSpace(tc.body) == "" {
			continue // an empty parameter is absent; see TestParseRecordConfig
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRecordConfig(urlEncode(tc.body))
			if tc.reason != "" {
				requireReason(t, err, tc.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// urlEncode percent-encodes every byte, so that even a body starting with "{" is decoded.
func urlEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte('%')
		b.WriteByte(hex[s[i]>>4])
		b.WriteByte(hex[s[i]&15])
	}
	return b.String()
}

func TestParseRecordConfig(t *testing.T) {
	t.Parallel()
	// The seed's own example.
	r, err := ParseRecordConfig("%7B%22NeedRecord%22%3Atrue%7D")
	require.NoError(t, err)
	require.Equal(t, Reply{APIVersion: "1.0", NeedRecord: true}, r)

	r, err = ParseRecordConfig("%7B%22NeedRecord%22%3Afalse%2C%22Format%22%3A%5B%22m3u8%22%5D%2C%22Interval%22%3A%7B%22M3U8%22%3A600%7D%7D")
	require.NoError(t, err)
	require.Equal(t, Reply{APIVersion: "1.0", Formats: []recording.Format{recording.FormatHLS},
		Interval: map[recording.Format]int{recording.FormatHLS: 600}}, r)

	// Already decoded by the ingest's query parsing.
	r, err = ParseRecordConfig(`{"NeedRecord": true, "Format": ["flv"]}`)
	require.NoError(t, err)
	require.Equal(t, Reply{APIVersion: "1.0", NeedRecord: true, Formats: []recording.Format{recording.FormatFLV}}, r)

	// Form encoding: "+" is a space.
	r, err = ParseRecordConfig("%7B%22NeedRecord%22:+true%7D")
	require.NoError(t, err)
	require.True(t, r.NeedRecord)

	for _, raw := range []string{"", "  ", "%zz", "NeedRecord=true", "%7B%22NeedRecord%22%3Atrue"} {
		_, err = ParseRecordConfig(raw)
		requireReason(t, err, ErrInvalid)
	}
	_, err = ParseRecordConfig(urlEncode(padObject(DefaultMaxBody + 1)))
	requireReason(t, err, ErrTruncated)
}

// FuzzParseReply checks that no body makes the parser (or Apply on its result) panic, and that the
// result is either a decision or an *Error with a parsing reason.
func FuzzParseReply(f *testing.F) {
	for _, tc := range replyCases() {
		f.Add([]byte(tc.body))
	}
	rule := recording.DefaultRule()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > DefaultMaxBody+1 {
			data = data[:DefaultMaxBody+1] // what Ask reads at most
		}
		r, err := parseBody(data, DefaultMaxBody)
		if err != nil {
			reason := reasonOf(err)
			if reason != ErrInvalid && reason != ErrTruncated {
				t.Fatalf("unexpected reason %q: %v", reason, err)
			}
			return
		}
		if r.APIVersion == "" {
			t.Fatal("decision without ApiVersion")
		}
		before := rule
		before.Formats = append([]recording.FormatConfig(nil), rule.Formats...)
		out := Apply(&rule, r)
		if !reflect.DeepEqual(before, rule) {
			t.Fatal("Apply mutated its input")
		}
		if out != nil && len(out.Formats) == 0 {
			t.Fatal("Apply returned a rule without formats")
		}
		_, _ = ParseRecordConfig(string(data))
	})
}
