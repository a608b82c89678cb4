package flv_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	mediaflv "github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/testutil"
)

func TestWriterReferenceStream(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts testutil.RefOptions
	}{
		{"av", testutil.RefOptions{}},
		{"audio-only", testutil.RefOptions{NoVideo: true}},
		{"video-only", testutil.RefOptions{NoAudio: true}},
		{"bframes", testutil.RefOptions{BFrames: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Seconds = 6
			ref := testutil.RefStream(t, dir, tc.opts)
			tracks, units := testutil.LoadFLV(t, ref)
			require.Equal(t, tc.opts.NoVideo, tracks.Video == nil)
			require.Equal(t, tc.opts.NoAudio, tracks.Audio == nil)
			nv, na := testutil.CountUnits(units)
			if tc.opts.BFrames > 0 {
				reordered := 0
				for _, u := range units {
					if u.PTS != u.DTS {
						reordered++
					}
				}
				require.Greater(t, reordered, nv/2, "reference stream has no composition offsets")
			}

			out := tempPath(t, "out.flv")
			st := writeFile(t, out, tracks, units)
			require.Equal(t, int64(nv), st.VideoFrames)
			require.Equal(t, int64(na), st.AudioFrames)
			require.Equal(t, fileSize(t, out), st.Bytes)

			pr, prRef := testutil.Probe(t, out), testutil.Probe(t, ref)
			require.Empty(t, pr.Stderr)
			if nv > 0 {
				v := pr.Video()
				require.NotNil(t, v)
				require.Equal(t, "h264", v.CodecName)
				require.Equal(t, 1280, v.Width)
				require.Equal(t, 720, v.Height)
				require.Equal(t, nv, v.Packets())
				require.True(t, testutil.KeyframeFirst(t, out))
			} else {
				require.Nil(t, pr.Video())
			}
			if na > 0 {
				a := pr.Audio()
				require.NotNil(t, a)
				require.Equal(t, "aac", a.CodecName)
				require.Equal(t, na, a.Packets())
			} else {
				require.Nil(t, pr.Audio())
			}
			got, _ := strconv.ParseFloat(pr.Format.Duration, 64)
			want, _ := strconv.ParseFloat(prRef.Format.Duration, 64)
			// Within a frame: ffmpeg counts the last (trimmed) AAC frame a little shorter.
			require.InDelta(t, want, got, 0.025, "format duration")

			rtracks, runits, meta := readBack(t, out)
			require.True(t, rtracks.Video.SameParams(tracks.Video))
			require.True(t, rtracks.Audio.SameParams(tracks.Audio))
			requireSameUnits(t, units, runits)
			require.Equal(t, unitKeys(units), videoFrameKeys(t, out))

			require.Equal(t, float64(fileSize(t, out)), meta["filesize"])
			require.Equal(t, st.Duration.Seconds(), meta["duration"])
			require.InDelta(t, want, meta["duration"], 0.025)
			require.Equal(t, "liverec", meta["encoder"])
			if nv > 0 {
				require.Equal(t, 1280.0, meta["width"])
				require.Equal(t, 720.0, meta["height"])
				require.Equal(t, 7.0, meta["videocodecid"])
			} else {
				require.NotContains(t, meta, "videocodecid")
			}
			if na > 0 {
				require.Equal(t, 10.0, meta["audiocodecid"])
				require.Equal(t, 44100.0, meta["audiosamplerate"])
				require.Equal(t, false, meta["stereo"]) // the reference sine is mono
			} else {
				require.NotContains(t, meta, "audiocodecid")
			}
		})
	}
}

func TestWriterH265(t *testing.T) {
	dir := t.TempDir()
	ref := testutil.RefStream(t, dir, testutil.RefOptions{Codec: "libx265", NoAudio: true, Container: "hevc", Seconds: 4})
	tracks, units := testutil.LoadAnnexB(t, ref, media.CodecH265, 30)
	require.Equal(t, media.CodecH265, tracks.Video.Codec)
	require.Equal(t, 1280, tracks.Video.Width)
	require.Equal(t, 720, tracks.Video.Height)
	require.Len(t, units, 120)
	for i, u := range units {
		require.Equal(t, i%60 == 0, u.Keyframe, "unit %d", i)
	}
	// Composition offsets on some frames exercise CodedFrames (with SI24) next to CodedFramesX.
	for i := range units {
		if i%3 == 1 {
			units[i].PTS += 67 * time.Millisecond
		}
	}

	out := tempPath(t, "hevc.flv")
	st := writeFile(t, out, tracks, units)
	require.Equal(t, int64(120), st.VideoFrames)
	require.InDelta(t, 4.0, st.Duration.Seconds(), 0.05)

	rtracks, runits, meta := readBack(t, out)
	require.Nil(t, rtracks.Audio)
	require.Equal(t, media.CodecH265, rtracks.Video.Codec)
	require.True(t, rtracks.Video.SameParams(tracks.Video))
	requireSameUnits(t, units, runits)
	require.Equal(t, unitKeys(units), videoFrameKeys(t, out))
	require.Equal(t, float64(0x68766331), meta["videocodecid"]) // 'hvc1'
	require.Equal(t, float64(fileSize(t, out)), meta["filesize"])

	// The tags are Enhanced FLV: ExVideoTagHeader with FourCC hvc1 and the packet types chosen
	// by the composition time.
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	r, err := mediaflv.NewReader(f)
	require.NoError(t, err)
	var pktTypes []byte
	for {
		tag, err := r.ReadTag()
		if err != nil {
			break
		}
		if tag.Type != mediaflv.TagVideo {
			continue
		}
		require.Equal(t, byte(0x80), tag.Data[0]&0x80)
		require.Equal(t, "hvc1", string(tag.Data[1:5]))
		pktTypes = append(pktTypes, tag.Data[0]&0x0f)
		if len(pktTypes) == 1 {
			requireHEVCRecord(t, tracks.Video, tag.Data[5:])
		}
	}
	require.Len(t, pktTypes, 121)
	require.Equal(t, byte(0), pktTypes[0])
	require.Equal(t, byte(3), pktTypes[1]) // unit 0: CTS 0
	require.Equal(t, byte(1), pktTypes[2]) // unit 1: CTS 67 ms
}

// requireHEVCRecord checks the HEVCDecoderConfigurationRecord fields derived from the SPS.
func requireHEVCRecord(t *testing.T, tr *media.Track, rec []byte) {
	t.Helper()
	var s h265.SPS
	require.NoError(t, s.Unmarshal(tr.SPS))
	require.Equal(t, byte(1), rec[0])
	require.Equal(t, s.ProfileTierLevel.GeneralProfileIdc, rec[1]&0x1f)
	require.Equal(t, s.ProfileTierLevel.GeneralTierFlag, rec[1]>>5&1)
	require.Equal(t, s.ProfileTierLevel.GeneralLevelIdc, rec[12])
	require.Equal(t, byte(s.ChromaFormatIdc), rec[16]&3)
	require.Equal(t, byte(3), rec[21]&3, "lengthSizeMinusOne")
	require.Equal(t, byte(3), rec[22], "numOfArrays")
}

func TestWriterExtendedTimestamp(t *testing.T) {
	tracks := testutil.RefTracks(t, media.CodecH264)
	// Cross 2^24 ms (4.66 h), where the extended byte takes over, and reach 2^32-1 ms.
	start := (1<<24 - 2000) * time.Millisecond
	var units []media.Unit
	for i := range 200 {
		dts := start + time.Duration(i)*33333*time.Microsecond
		units = append(units, media.Unit{Track: tracks.Video, DTS: dts, PTS: dts + 66*time.Millisecond,
			Keyframe: i%60 == 0, Data: testutil.FakeAU(media.CodecH264, i%60 == 0, 100+i)})
		adts := start + time.Duration(i)*23220*time.Microsecond
		units = append(units, media.Unit{Track: tracks.Audio, DTS: adts, PTS: adts, Keyframe: true, Data: []byte{1, 2, byte(i)}})
	}
	units = append(units, media.Unit{Track: tracks.Audio, DTS: flv.MaxTimestamp, PTS: flv.MaxTimestamp, Keyframe: true, Data: []byte{9}})

	out := tempPath(t, "ext.flv")
	st := writeFile(t, out, tracks, units)
	require.Greater(t, st.Duration, flv.MaxTimestamp-time.Second)
	_, runits, _ := readBack(t, out)
	requireSameUnits(t, units, runits)
	require.Greater(t, runits[len(runits)-2].DTS, (1<<24)*time.Millisecond)

	f, err := sink.Create(tempPath(t, "late.flv"))
	require.NoError(t, err)
	defer f.Close()
	w, err := flv.NewWriter(f, tracks)
	require.NoError(t, err)
	late := flv.MaxTimestamp + time.Millisecond
	require.Error(t, w.WriteUnit(&media.Unit{Track: tracks.Audio, DTS: late, PTS: late, Data: []byte{1}}))
}

func TestWriterRejects(t *testing.T) {
	tracks := testutil.RefTracks(t, media.CodecH264)
	f, err := sink.Create(tempPath(t, "x.flv"))
	require.NoError(t, err)
	defer f.Close()

	_, err = flv.NewWriter(f, media.Tracks{})
	require.Error(t, err)
	_, err = flv.NewWriter(f, media.Tracks{Video: tracks.Audio})
	require.Error(t, err)

	w, err := flv.NewWriter(f, media.Tracks{Audio: tracks.Audio})
	require.NoError(t, err)
	vu := media.Unit{Track: tracks.Video, Data: testutil.FakeAU(media.CodecH264, true, 50), Keyframe: true}
	require.ErrorContains(t, w.WriteUnit(&vu), "does not belong")
	au := media.Unit{Track: tracks.Audio, DTS: time.Second, PTS: time.Second, Data: []byte{1}}
	require.NoError(t, w.WriteUnit(&au))
	au.DTS = time.Second - time.Millisecond
	require.ErrorContains(t, w.WriteUnit(&au), "out of order")
	au.DTS = -time.Millisecond
	require.Error(t, w.WriteUnit(&au))
	au.DTS, au.Data = 2*time.Second, nil
	require.Error(t, w.WriteUnit(&au))

	_, err = w.Close()
	require.NoError(t, err)
	au.Data = []byte{1}
	require.ErrorIs(t, w.WriteUnit(&au), flv.ErrClosed)
	_, err = w.Close()
	require.ErrorIs(t, err, flv.ErrClosed)
}
