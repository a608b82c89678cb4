package mp4

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

// memFile is an in-memory outFile.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Truncate(n int64) error {
	if int(n) > len(m.b) {
		m.b = append(m.b, make([]byte, int(n)-len(m.b))...)
	}
	m.b = m.b[:n]
	return nil
}

// fuzzSeeds writes small synthetic recordings: audio and video, video with composition
// offsets, audio only.
func fuzzSeeds(t testing.TB) [][]byte {
	dir := t.TempDir()
	all := synthTracks(t)
	var seeds [][]byte
	for i, tracks := range []media.Tracks{all, {Video: all.Video}, {Audio: all.Audio}} {
		units := synthUnits(tracks, 2500*time.Millisecond, 24, 6)
		if i == 1 {
			for j := range units {
				units[j].PTS += time.Duration(j%3) * 33 * time.Millisecond
			}
		}
		path := filepath.Join(dir, "seed.fmp4")
		writeFragmented(t, path, tracks, units)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		seeds = append(seeds, b)
	}
	full := seeds[0]
	for _, n := range []int{len(full) / 3, len(full) * 2 / 3, len(full) - 5} {
		seeds = append(seeds, full[:n])
	}
	return seeds
}

// FuzzFinalize feeds Finalize's parser and writer arbitrary fragmented files: no panic, and
// whatever it accepts comes out as ftyp, moov and an mdat holding exactly the sample bytes.
func FuzzFinalize(f *testing.F) {
	for _, s := range append(fuzzSeeds(f), ffmpegSeeds(f)...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		ff, err := parseFragmented(src, int64(len(data)))
		if err != nil {
			return
		}
		var out memFile
		st, err := ff.writeTo(&out, src)
		if err != nil {
			return
		}
		require.Equal(t, int64(len(out.b)), st.Bytes)
		var types []string
		var mdatPayload int64
		for pos := int64(0); pos < int64(len(out.b)); {
			typ, hdr, size, ok, err := readHeader(bytes.NewReader(out.b), pos, int64(len(out.b)))
			require.NoError(t, err)
			require.True(t, ok, "box at %d", pos)
			types = append(types, typ)
			mdatPayload = size - hdr
			pos += size
		}
		require.Equal(t, []string{"ftyp", "moov", "mdat"}, types)
		var sum int64
		for _, tr := range ff.tracks {
			for _, s := range tr.sizes {
				sum += int64(s)
			}
		}
		require.Equal(t, sum, mdatPayload)
	})
}
