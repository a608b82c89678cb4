package mp4

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/record/sink"
)

// stblTables is what the test reads back from a final trak: sizes, chunk layout, offsets.
type stblTables struct {
	sizes   []uint32
	stsc    [][2]uint32 // first chunk, samples per chunk
	offsets []uint64
	co64    bool
	hasStco bool
	handler string
}

func readTables(t *testing.T, moov []byte) []stblTables {
	t.Helper()
	var out []stblTables
	var cur *stblTables
	var walk func(typ string, _, body []byte) error
	walk = func(typ string, _, body []byte) error {
		u32 := func(i int) uint32 { return binary.BigEndian.Uint32(body[i:]) }
		switch typ {
		case "trak":
			out = append(out, stblTables{})
			cur = &out[len(out)-1]
			return boxes(body, walk)
		case "mdia", "minf", "stbl":
			return boxes(body, walk)
		case "hdlr":
			cur.handler = string(body[8:12])
		case "stsz":
			for i := range int(u32(8)) {
				cur.sizes = append(cur.sizes, u32(12+4*i))
			}
		case "stsc":
			for i := range int(u32(4)) {
				cur.stsc = append(cur.stsc, [2]uint32{u32(8 + 12*i), u32(12 + 12*i)})
			}
		case "stco":
			cur.hasStco = true
			for i := range int(u32(4)) {
				cur.offsets = append(cur.offsets, uint64(u32(8+4*i)))
			}
		case "co64":
			cur.co64 = true
			for i := range int(u32(4)) {
				cur.offsets = append(cur.offsets, binary.BigEndian.Uint64(body[8+8*i:]))
			}
		}
		return nil
	}
	require.NoError(t, boxes(moov, walk))
	return out
}

// sampleOffsets expands the chunk offsets and stsc into one offset per sample.
func (s stblTables) sampleOffsets() []uint64 {
	var out []uint64
	si := 0
	for c, off := range s.offsets {
		per := uint32(0)
		for _, e := range s.stsc {
			if e[0] <= uint32(c+1) {
				per = e[1]
			}
		}
		for range per {
			out = append(out, off)
			off += uint64(s.sizes[si])
			si++
		}
	}
	return out
}

func allocated(t *testing.T, path string) int64 {
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(path, &st))
	return st.Blocks * 512
}

// TestOver4GiB finalizes a 5.25 GiB recording whose payload is sparse holes with marker bytes
// at both ends of every sample, and checks the 64-bit layout: largesize mdat, co64 offsets
// that point at the right sample bytes.
func TestOver4GiB(t *testing.T) {
	dir := t.TempDir()
	var fs syscall.Statfs_t
	require.NoError(t, syscall.Statfs(dir, &fs))
	require.Greater(t, fs.Bavail*uint64(fs.Bsize), uint64(1<<30), "the sparse test needs 1 GiB free in %s", dir)

	frag, final := filepath.Join(dir, "big.fmp4"), filepath.Join(dir, "big.mp4")
	f, err := sink.Create(frag)
	require.NoError(t, err)
	w, err := NewWriter(f, synthTracks(t))
	require.NoError(t, err)
	_, err = w.Close()
	require.NoError(t, err)
	require.NoError(t, f.Close())

	// Fragments of two 224 MiB video samples and one audio sample each, written with the
	// writer's own moof marshaling; the payload between the markers stays a hole.
	const fragments, videoSize, audioSize = 12, 224 << 20, 1000
	out, err := os.OpenFile(frag, os.O_RDWR, 0)
	require.NoError(t, err)
	defer out.Close()
	pos := w.written
	marker := func(track string, i int, end bool) []byte {
		return fmt.Appendf(nil, "%s%05d-%-9v", track, i, end)
	}
	v, a := w.tracks[0], w.tracks[1]
	for k := range fragments {
		v.samples = append(v.samples[:0],
			wsample{dts: int64(2*k) * 3000, size: videoSize, sync: true},
			wsample{dts: int64(2*k+1) * 3000, size: videoSize})
		a.samples = append(a.samples[:0], wsample{dts: int64(k) * 2940, size: audioSize, sync: true})
		v.lastDur, a.lastDur = 3000, 2940
		hdr, ready, ferr := w.marshalFragment(true)
		require.NoError(t, ferr)
		require.Equal(t, [2]int{2, 1}, ready)
		_, err = out.WriteAt(hdr, pos)
		require.NoError(t, err)
		pos += int64(len(hdr))
		for i, tr := range []*wtrack{v, a} {
			name := []string{"v", "a"}[i]
			for j, s := range tr.samples {
				n := k*len(tr.samples) + j
				_, err = out.WriteAt(marker(name, n, false), pos)
				require.NoError(t, err)
				_, err = out.WriteAt(marker(name, n, true), pos+int64(s.size)-16)
				require.NoError(t, err)
				pos += int64(s.size)
			}
		}
	}
	require.NoError(t, out.Truncate(pos))
	require.Greater(t, pos, int64(5<<30))
	require.Less(t, allocated(t, frag), int64(64<<20), "the filesystem keeps the holes")

	st, err := Finalize(frag, final)
	require.NoError(t, err)
	require.EqualValues(t, 2*fragments, st.VideoFrames)
	require.EqualValues(t, fragments, st.AudioFrames)
	require.Less(t, allocated(t, final), int64(256<<20), "holes stay holes")

	bs := topBoxes(t, final)
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, boxTypes(bs))
	mdat := bs[2]
	require.EqualValues(t, largeBoxHeaderSize, mdat.hdr, "largesize mdat")
	require.Equal(t, st.Bytes, mdat.off+mdat.size)

	ff, err := os.Open(final)
	require.NoError(t, err)
	defer ff.Close()
	moov := make([]byte, bs[1].size-bs[1].hdr)
	_, err = ff.ReadAt(moov, bs[1].off+bs[1].hdr)
	require.NoError(t, err)
	tables := readTables(t, moov)
	require.Len(t, tables, 2)
	var maxOff uint64
	for _, tb := range tables {
		require.True(t, tb.co64, "co64 in %s", tb.handler)
		require.False(t, tb.hasStco)
		name := map[string]string{"vide": "v", "soun": "a"}[tb.handler]
		for i, off := range tb.sampleOffsets() {
			maxOff = max(maxOff, off)
			require.GreaterOrEqual(t, off, uint64(mdat.off+mdat.hdr))
			got := make([]byte, 16)
			_, err = ff.ReadAt(got, int64(off))
			require.NoError(t, err)
			require.Equal(t, string(marker(name, i, false)), string(got), "start of %s sample %d", name, i)
			_, err = ff.ReadAt(got, int64(off)+int64(tb.sizes[i])-16)
			require.NoError(t, err)
			require.Equal(t, string(marker(name, i, true)), string(got), "end of %s sample %d", name, i)
		}
	}
	require.Greater(t, maxOff, uint64(1<<32))
}
