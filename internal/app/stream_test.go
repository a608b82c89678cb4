package app

import (
	"context"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// requireIncreasing checks that the DTS of a file's packets of one kind strictly increase.
func requireIncreasing(t *testing.T, path, kind string) {
	t.Helper()
	ts := testutil.FrameTimes(t, path, kind)
	require.NotEmpty(t, ts, "%s: no %s packets", path, kind)
	for i := 1; i < len(ts); i++ {
		require.Greater(t, ts[i], ts[i-1], "%s: %s DTS not increasing at packet %d", path, kind, i)
	}
}

// TestTimestampChaosAndResolutionChange is acceptance 3: timestamps that jump forward, go
// backwards and wrap are recorded with strictly increasing DTS and no ffprobe error, and a
// mid-stream resolution change starts new files.
func TestTimestampChaosAndResolutionChange(t *testing.T) {
	t.Parallel()
	hd := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6})
	sd := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4, Width: 640, Height: 360, Bitrate: "500k"})
	hdTracks, hdUnits := testutil.LoadFLV(t, hd)
	sdTracks, sdUnits := testutil.LoadFLV(t, sd)
	hdV, hdA := testutil.CountUnits(hdUnits)
	sdV, sdA := testutil.CountUnits(sdUnits)

	ta := startApp(t, "")
	r := cycleRule("127.0.0.1", "chaos", 0, 2)
	ta.putRule(t, r)
	const wrap = time.Duration(1<<32) * time.Millisecond
	err := testutil.Publish(context.Background(), ta.rtmpURL("chaos/cam"), []testutil.Segment{
		{Tracks: hdTracks, Units: hdUnits}, {Tracks: sdTracks, Units: sdUnits},
	}, testutil.PublishOptions{Realtime: true, Timestamp: func(i int, dts time.Duration) time.Duration {
		switch {
		case i < 150:
			return dts
		case i < 300:
			return dts + time.Hour // jump forward
		case i < 450:
			return dts + time.Hour - 10*time.Second // step back
		default:
			return dts + wrap - 3*time.Second // crosses 2^32 ms a little later: wraps
		}
	}})
	require.NoError(t, err)

	files := ta.waitFiles(t, "cam", 6)
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		fs := files[format]
		require.Len(t, fs, 2, "%s: a resolution change starts new files", format)
		wants := []struct {
			w, h, v, a int
		}{{1280, 720, hdV, hdA}, {640, 360, sdV, sdA}}
		for i, f := range fs {
			p := ta.objectPath(f)
			v, a, _ := checkClean(t, p, fileCheck{codec: "h264", width: wants[i].w, height: wants[i].h, audio: true, video: true})
			// The new parameters arrive with a keyframe, so no frame is lost at the change.
			require.Equal(t, wants[i].v, v, "%s file %d video frames", format, i)
			require.InDelta(t, wants[i].a, a, 2, "%s file %d audio frames", format, i)
			requireIncreasing(t, p, "v")
			requireIncreasing(t, p, "a")
		}
	}
}

// TestAudioOnlyAndVideoOnly records streams with a single track in every format, cut by the
// cycle: audio-only on audio frames, video-only on keyframes.
func TestAudioOnlyAndVideoOnly(t *testing.T) {
	t.Parallel()
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "single", 5, 2))
	for _, c := range []struct {
		name  string
		opts  testutil.RefOptions
		check fileCheck
		files int // per format: audio cuts at 5 and 10 s, keyframes (every 2 s) at 6 s
	}{
		{"audioonly", testutil.RefOptions{Seconds: 12, NoVideo: true}, fileCheck{audio: true}, 3},
		{"videoonly", testutil.RefOptions{Seconds: 12, NoAudio: true}, fileCheck{codec: "h264", width: 1280, height: 720, video: true}, 2},
	} {
		src := testutil.RefStream(t, fixtures, c.opts)
		_, units := testutil.LoadFLV(t, src)
		wantV, wantA := testutil.CountUnits(units)
		publishFFmpeg(t, src, ta.rtmpURL("single/"+c.name))
		files := ta.waitFiles(t, c.name, 3*c.files)
		for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
			var v, a int
			require.Len(t, files[format], c.files, "%s %s", c.name, format)
			for _, f := range files[format] {
				fv, fa, _ := checkClean(t, ta.objectPath(f), c.check)
				v, a = v+fv, a+fa
			}
			require.Equal(t, wantV, v, "%s %s video", c.name, format)
			require.Equal(t, wantA, a, "%s %s audio", c.name, format)
		}
	}
}

// TestHEVC is acceptance 2: H.265 through Enhanced RTMP (gortmplib's client) records to all
// three formats; MP4 and HLS are ffprobe-clean with codec hevc, and the Enhanced FLV, which
// ffprobe 5.1 cannot read, is read back by our demuxer with every frame.
func TestHEVC(t *testing.T) {
	t.Parallel()
	hevc := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6, Codec: "libx265", NoAudio: true, Container: "hevc"})
	vTracks, vUnits := testutil.LoadAnnexB(t, hevc, media.CodecH265, 30)
	aud := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6, NoVideo: true})
	aTracks, aUnits := testutil.LoadFLV(t, aud)
	units := append(append([]media.Unit(nil), vUnits...), aUnits...)
	sort.SliceStable(units, func(i, j int) bool { return units[i].DTS < units[j].DTS })

	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "hevc", 0, 2))
	err := testutil.Publish(context.Background(), ta.rtmpURL("hevc/cam"), []testutil.Segment{
		{Tracks: media.Tracks{Video: vTracks.Video, Audio: aTracks.Audio}, Units: units},
	}, testutil.PublishOptions{Realtime: true})
	require.NoError(t, err)
	files := ta.waitFiles(t, "cam", 3)
	for _, format := range []recording.Format{recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[format], 1)
		v, a, _ := checkClean(t, ta.objectPath(files[format][0]),
			fileCheck{codec: "hevc", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, len(vUnits), v, format)
		require.Equal(t, len(aUnits), a, format)
	}
	require.Len(t, files[recording.FormatFLV], 1)
	tracks, got := testutil.LoadFLV(t, ta.objectPath(files[recording.FormatFLV][0]))
	require.Equal(t, media.CodecH265, tracks.Video.Codec)
	require.Equal(t, 1280, tracks.Video.Width)
	v, a := testutil.CountUnits(got)
	require.Equal(t, len(vUnits), v)
	require.Equal(t, len(aUnits), a)
	require.True(t, got[0].Keyframe && got[0].Track.IsVideo(), "Enhanced FLV starts with a keyframe")
}

// TestMalformedInputLeavesOthersRecording is acceptance 7 at the service level: garbage
// connections, a truncated handshake and an absurd chunk size come and go while a real
// publisher records, and its recording holds every frame.
func TestMalformedInputLeavesOthersRecording(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "good", 0, 2))

	cmd := ffmpegPublisher(t, src, ta.rtmpURL("good/cam"))
	require.NoError(t, cmd.Start())
	attacks := [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		append([]byte{3}, make([]byte, 700)...),                      // truncated C0+C1
		append(append([]byte{3}, make([]byte, 1536)...), 0xff, 0xff), // C0+C1 then junk for C2
	}
	recorded := func() float64 { return ta.metric(t, `liverec_recorded_units_total{kind="video"}`) }
	require.Eventually(t, func() bool { return recorded() > 0 }, 10*time.Second, 20*time.Millisecond, "the good stream is not recording")
	for i := 0; i < 3; i++ {
		before := recorded()
		for _, payload := range attacks {
			c, err := net.Dial("tcp", ta.RTMPAddr().String())
			require.NoError(t, err)
			c.Write(payload)
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Close()
		}
		// The good stream records on through each round.
		require.Eventually(t, func() bool { return recorded() > before }, 5*time.Second, 20*time.Millisecond,
			"round %d stopped the good stream", i)
	}
	require.NoError(t, cmd.Wait())
	ta.requireOneCleanFilePerFormat(t, ta.waitFiles(t, "cam", 3), wantV, wantA)
}
