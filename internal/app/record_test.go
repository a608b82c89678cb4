package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

func cycleRule(domain, app string, cycle, slice int) recording.Rule {
	f := func(format recording.Format) recording.FormatConfig {
		fc := recording.FormatConfig{Format: format, CycleS: cycle, MergeWindowS: 0,
			ObjectTemplate: "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"}
		if format == recording.FormatHLS {
			fc.SliceS = slice
			fc.SliceTemplate = "{AppName}/{StreamName}/ts/{UnixTimestamp}_{Sequence}"
		}
		return fc
	}
	return recording.Rule{Domain: domain, App: app, Stream: "*", Mode: recording.ModeAuto,
		Formats: []recording.FormatConfig{f(recording.FormatFLV), f(recording.FormatMP4), f(recording.FormatHLS)},
		Storage: recording.Storage{Endpoint: "local", Bucket: "recordings"}}
}

// TestRecordsAllFormatsInCycles is acceptance 1 of the foundation issue: 25 s of the reference
// stream, 10 s cycles, 4 s HLS slices: three clean files per format holding every frame.
func TestRecordsAllFormatsInCycles(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 25})
	_, units := testutil.LoadFLV(t, src)
	wantVideo, wantAudio := testutil.CountUnits(units)
	require.Equal(t, 750, wantVideo)

	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "live", 10, 4))
	publishFFmpeg(t, src, ta.rtmpURL("live/cycles"))
	files := ta.waitFiles(t, "cycles", 9)

	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		fs := files[format]
		require.Len(t, fs, 3, "%s files", format)
		var v, a int
		wantFrames := []int{300, 300, 150}
		for i, f := range fs {
			p := ta.objectPath(f)
			require.FileExists(t, p)
			fv, fa, dur := checkClean(t, p, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
			require.Equal(t, wantFrames[i], fv, "%s file %d video frames", format, i)
			require.InDelta(t, float64(wantFrames[i])/30, dur, 0.15, "%s file %d duration", format, i)
			require.Equal(t, int64(fv), f.VideoFrames, "stored frame count of %s", p)
			v += fv
			a += fa
		}
		require.Equal(t, wantVideo, v, "%s video frames", format)
		require.Equal(t, wantAudio, a, "%s audio frames", format)
	}
	_, metrics := get(t, ta.base+"/metrics")
	for _, f := range []string{"flv", "mp4", "hls"} {
		require.Contains(t, metrics, `liverec_files_completed_total{format="`+f+`"} 3`)
	}
	require.Contains(t, metrics, `liverec_recorded_units_total{kind="video"} 750`)
	require.Contains(t, metrics, "liverec_frames_dropped_total 0")
}
