package ondemand

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// threeFormats is a rule recording FLV (3600 s), MP4 (1800 s) and HLS (21600 s).
func threeFormats() *recording.Rule {
	r := recording.DefaultRule()
	r.Domain, r.App, r.Mode = "a.com", "live", recording.ModeOnDemandHTTP
	r.Formats = []recording.FormatConfig{
		recording.DefaultFormatConfig(recording.FormatFLV),
		recording.DefaultFormatConfig(recording.FormatMP4),
		recording.DefaultFormatConfig(recording.FormatHLS),
	}
	r.Formats[0].CycleS, r.Formats[1].CycleS, r.Formats[2].CycleS = 3600, 1800, 21600
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	r.StartTime, r.EndTime = &start, &end
	return &r
}

// cycles maps each format of a rule to its cycle.
func cycles(r *recording.Rule) map[recording.Format]int {
	m := map[recording.Format]int{}
	for _, f := range r.Formats {
		m[f.Format] = f.CycleS
	}
	return m
}

func TestApply(t *testing.T) {
	t.Parallel()
	flv, mp4, hls := recording.FormatFLV, recording.FormatMP4, recording.FormatHLS
	cases := []struct {
		name  string
		reply Reply
		want  map[recording.Format]int // nil: record nothing
	}{
		{"NeedRecordFalse", Reply{Formats: []recording.Format{flv}}, nil},
		{"AsConfigured", Reply{NeedRecord: true}, map[recording.Format]int{flv: 3600, mp4: 1800, hls: 21600}},
		{"IntervalOverrides", Reply{NeedRecord: true, Interval: map[recording.Format]int{mp4: 300, flv: 120, hls: 180}},
			map[recording.Format]int{flv: 120, mp4: 300, hls: 180}},
		{"IntervalBounds", Reply{NeedRecord: true, Interval: map[recording.Format]int{flv: 5, mp4: 21600, hls: 4}},
			map[recording.Format]int{flv: 5, mp4: 21600, hls: 21600}},
		{"IntervalOutOfRangeIgnored", Reply{NeedRecord: true, Interval: map[recording.Format]int{flv: 21601, mp4: 0, hls: -5}},
			map[recording.Format]int{flv: 3600, mp4: 1800, hls: 21600}},
		{"FormatIntersected", Reply{NeedRecord: true, Formats: []recording.Format{mp4, flv}},
			map[recording.Format]int{flv: 3600, mp4: 1800}},
		{"FormatAndInterval", Reply{NeedRecord: true, Formats: []recording.Format{"M3U8"},
			Interval: map[recording.Format]int{"Mp4": 300, "M3U8": 600}}, map[recording.Format]int{hls: 600}},
		{"EmptyFormat", Reply{NeedRecord: true, Formats: []recording.Format{}}, nil},
		{"UnknownFormatOnly", Reply{NeedRecord: true, Formats: []recording.Format{"aac"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := threeFormats()
			got := Apply(in, tc.reply)
			require.Equal(t, threeFormats(), in, "input mutated")
			if tc.want == nil {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tc.want, cycles(got))
			// Everything but the formats is the rule's.
			rest := *got
			rest.Formats = in.Formats
			require.Equal(t, *in, rest)
		})
	}
}

func TestApplyFormatOrderIsRules(t *testing.T) {
	t.Parallel()
	got := Apply(threeFormats(), Reply{NeedRecord: true, Formats: []recording.Format{recording.FormatHLS, recording.FormatFLV}})
	require.Len(t, got.Formats, 2)
	require.Equal(t, recording.FormatFLV, got.Formats[0].Format)
	require.Equal(t, recording.FormatHLS, got.Formats[1].Format)
}

func TestApplyReturnsACopy(t *testing.T) {
	t.Parallel()
	in := threeFormats()
	got := Apply(in, Reply{NeedRecord: true})
	got.Formats[0].CycleS = 1
	*got.StartTime = time.Time{}
	got.Domain = "b.com"
	require.Equal(t, threeFormats(), in)

	require.Nil(t, Apply(nil, Reply{NeedRecord: true}))
	empty := threeFormats()
	empty.Formats = nil
	require.Nil(t, Apply(empty, Reply{NeedRecord: true}))
}

func TestApplyParsedSeedSample(t *testing.T) {
	t.Parallel()
	// Seed 000's sample reply on a rule with all three formats: MP4 and FLV, with their intervals.
	r, err := parseBody([]byte(`{"ApiVersion":"1.0","NeedRecord":true,"Interval":{"Mp4":300,"Flv":120,"M3U8":180},"Format":["mp4","flv"]}`), DefaultMaxBody)
	require.NoError(t, err)
	require.Equal(t, map[recording.Format]int{recording.FormatFLV: 120, recording.FormatMP4: 300}, cycles(Apply(threeFormats(), r)))
}
