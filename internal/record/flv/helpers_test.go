package flv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	mediaflv "github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/testutil"
)

// smallFile writes a short file of a codec with both tracks, B-frame-like offsets included.
func smallFile(t testing.TB, codec media.Codec) []byte {
	tracks, units := testutil.SmallStream(t, codec)
	path := tempPath(t, "seed.flv")
	writeFile(t, path, tracks, units)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// writeFile writes units with a Writer into a new sink file and closes everything.
func writeFile(t testing.TB, path string, tracks media.Tracks, units []media.Unit) flv.Stats {
	t.Helper()
	f, err := sink.Create(path)
	require.NoError(t, err)
	w, err := flv.NewWriter(f, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]), "unit %d", i)
	}
	st, err := w.Close()
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	return st
}

// readBack reads every unit of an FLV file with mediaflv.Reader (data copied) and its metadata.
func readBack(t testing.TB, path string) (media.Tracks, []media.Unit, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := mediaflv.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var units []media.Unit
	for {
		u, rerr := r.ReadUnit()
		if errors.Is(rerr, io.EOF) {
			break
		}
		require.NoError(t, rerr)
		u.Data = append([]byte(nil), u.Data...)
		units = append(units, u)
	}
	meta, err := decodeMetadata(r.Metadata)
	require.NoError(t, err)
	return r.Tracks(), units, meta
}

// requireSameUnits compares units as an FLV file keeps them: timestamps in whole milliseconds.
func requireSameUnits(t *testing.T, want, got []media.Unit) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.Track.Codec, g.Track.Codec, "unit %d", i)
		require.Equal(t, w.DTS.Truncate(time.Millisecond), g.DTS, "unit %d DTS", i)
		require.Equal(t, w.PTS.Truncate(time.Millisecond), g.PTS, "unit %d PTS", i)
		require.Equal(t, w.Keyframe, g.Keyframe, "unit %d keyframe", i)
		require.True(t, bytes.Equal(w.Data, g.Data), "unit %d data differs", i)
	}
}

// videoFrameKeys returns, for each coded-frame video tag, whether its FrameType is keyframe
// (legacy and Enhanced FLV keep FrameType in bits 4-6 of the first byte).
func videoFrameKeys(t testing.TB, path string) []bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := mediaflv.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var keys []bool
	for {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			return keys
		}
		require.NoError(t, err)
		if tag.Type != mediaflv.TagVideo {
			continue
		}
		pkt := tag.Data[1] // legacy AVCPacketType
		if tag.Data[0]&0x80 != 0 {
			pkt = tag.Data[0] & 0x0f // Enhanced PacketType
		}
		if pkt != 0 {
			keys = append(keys, tag.Data[0]>>4&7 == 1)
		}
	}
}

// unitKeys returns the keyframe flags of the video units.
func unitKeys(units []media.Unit) []bool {
	var keys []bool
	for _, u := range units {
		if u.Track.IsVideo() {
			keys = append(keys, u.Keyframe)
		}
	}
	return keys
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func tempPath(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }

// decodeMetadata decodes an onMetaData script tag body: the AMF0 string "onMetaData" followed
// by an ECMA array or object of numbers, booleans and strings (AMF0 spec §2).
func decodeMetadata(b []byte) (map[string]any, error) {
	d := amfDecoder{b: b}
	if name, err := d.value(); err != nil || name != "onMetaData" {
		return nil, fmt.Errorf("decode onMetaData: name %v: %w", name, err)
	}
	v, err := d.value()
	if err != nil {
		return nil, fmt.Errorf("decode onMetaData: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode onMetaData: %T is not an array", v)
	}
	return m, nil
}

type amfDecoder struct {
	b []byte
	p int
}

func (d *amfDecoder) take(n int) ([]byte, error) {
	if n < 0 || d.p+n > len(d.b) {
		return nil, io.ErrUnexpectedEOF
	}
	d.p += n
	return d.b[d.p-n : d.p], nil
}

func (d *amfDecoder) str() (string, error) {
	l, err := d.take(2)
	if err != nil {
		return "", err
	}
	s, err := d.take(int(binary.BigEndian.Uint16(l)))
	return string(s), err
}

func (d *amfDecoder) value() (any, error) {
	t, err := d.take(1)
	if err != nil {
		return nil, err
	}
	switch t[0] {
	case 0x00:
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case 0x01:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case 0x02:
		return d.str()
	case 0x03, 0x08:
		if t[0] == 0x08 {
			if _, err := d.take(4); err != nil { // count, a hint only
				return nil, err
			}
		}
		m := map[string]any{}
		for {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if k == "" {
				if end, terr := d.take(1); terr != nil || end[0] != 0x09 {
					return nil, errors.New("missing object end marker")
				}
				return m, nil
			}
			if m[k], err = d.value(); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("unsupported AMF0 type %#x", t[0])
}
