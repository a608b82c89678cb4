package testutil

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// LoadAnnexB reads a raw Annex-B elementary stream (ITU-T H.264/H.265 Annex B) of a stream
// without B-frames, as ffmpeg writes with -f h264 / -f hevc. It splits the stream into access
// units, moves the parameter sets into the track (they are removed from the units) and returns
// AVCC units with DTS = PTS = frame index / fps.
func LoadAnnexB(t testing.TB, path string, codec media.Codec, fps int) (media.Tracks, []media.Unit) {
	t.Helper()
	if !codec.IsVideo() || fps <= 0 {
		t.Fatalf("LoadAnnexB: need a video codec and a frame rate, got %v at %d fps", codec, fps)
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// mediacommon's AnnexB.Unmarshal caps one call at 50 NAL units (one access unit), so the
	// whole stream is split here.
	nalus := splitAnnexB(buf)
	if len(nalus) == 0 {
		t.Fatalf("%s: no Annex-B NAL units", path)
	}

	var (
		params [3][]byte // VPS, SPS, PPS
		aus    [][]byte
		cur    []byte
		curVCL bool
	)
	for _, n := range nalus {
		k := classifyNALU(codec, n)
		if k.startsAU && curVCL {
			aus = append(aus, cur)
			cur, curVCL = nil, false
		}
		if k.param >= 0 {
			if params[k.param] != nil && !bytes.Equal(params[k.param], n) {
				t.Fatalf("%s: parameter set %d changes mid-stream; LoadAnnexB supports one set", path, k.param)
			}
			params[k.param] = n
			continue
		}
		cur = binary.BigEndian.AppendUint32(cur, uint32(len(n)))
		cur = append(cur, n...)
		curVCL = curVCL || k.vcl
	}
	if curVCL {
		aus = append(aus, cur)
	}

	var track *media.Track
	if codec == media.CodecH264 {
		track, err = media.NewH264Track(params[1], params[2])
	} else {
		track, err = media.NewH265Track(params[0], params[1], params[2])
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	units := make([]media.Unit, len(aus))
	for i, au := range aus {
		info, err := media.ScanAVCC(codec, au)
		if err != nil {
			t.Fatalf("%s: access unit %d: %v", path, i, err)
		}
		ts := time.Duration(i) * time.Second / time.Duration(fps)
		units[i] = media.Unit{Track: track, DTS: ts, PTS: ts, Keyframe: info.Keyframe, Data: au}
	}
	return media.Tracks{Video: track}, units
}

// naluKind says what a NAL unit means for access unit splitting.
type naluKind struct {
	param    int  // index into VPS, SPS, PPS, or -1
	vcl      bool // a coded slice
	startsAU bool // begins a new access unit when the current one already holds a slice
}

// classifyNALU applies the first-NAL-of-an-access-unit rules of H.264 §7.4.1.2.3 and H.265
// §7.4.2.4.4.
func classifyNALU(codec media.Codec, n []byte) naluKind {
	k := naluKind{param: -1}
	if codec == media.CodecH264 {
		typ := n[0] & 0x1f
		switch typ {
		case 7:
			k.param = 1
		case 8:
			k.param = 2
		}
		switch {
		case typ >= 1 && typ <= 5:
			k.vcl = true
			// first_mb_in_slice is ue(v); 0 is coded as a single '1' bit.
			k.startsAU = len(n) > 1 && n[1]&0x80 != 0
		case typ == 6 || typ == 7 || typ == 8 || typ == 9 || (typ >= 14 && typ <= 18):
			k.startsAU = true
		}
		return k
	}
	if len(n) < 2 {
		return k
	}
	typ := (n[0] >> 1) & 0x3f
	switch typ {
	case 32, 33, 34:
		k.param = int(typ - 32)
	}
	switch {
	case typ <= 31:
		k.vcl = true
		// first_slice_segment_in_pic_flag is the first bit after the 2-byte NAL header.
		k.startsAU = len(n) > 2 && n[2]&0x80 != 0
	case typ >= 32 && typ <= 35, typ == 39, typ >= 41 && typ <= 44, typ >= 48 && typ <= 55:
		k.startsAU = true
	}
	return k
}

// splitAnnexB returns the NAL units between start codes (0x000001 or 0x00000001). They alias
// buf.
func splitAnnexB(buf []byte) [][]byte {
	sc := []byte{0, 0, 1}
	var out [][]byte
	i := bytes.Index(buf, sc)
	for i >= 0 {
		start := i + len(sc)
		next := bytes.Index(buf[start:], sc)
		end := len(buf)
		if next >= 0 {
			end = start + next
		}
		n := bytes.TrimRight(buf[start:end], "\x00") // zero_byte / trailing_zero_8bits
		if len(n) > 0 {
			out = append(out, n)
		}
		if next < 0 {
			break
		}
		i = start + next
	}
	return out
}
