package mp4

import (
	"encoding/binary"
	"fmt"
	"math"
)

// appendUnityMatrix appends the identity transformation matrix of mvhd (ISO 14496-12 §8.2.2).
func appendUnityMatrix(b []byte) []byte {
	for _, v := range [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		b = be32(b, v)
	}
	return b
}

// trackTimes is what the moov says about a track's times, in movie and media clocks.
type trackTimes struct {
	media    uint64 // mdhd duration: sum of sample durations
	empty    uint64 // elst empty edit for a track starting after the file: movie clock
	present  uint64 // elst media edit: up to the latest composition end, movie clock
	tkhd     uint64 // tkhd duration: sum of the edits, movie clock
	needElst bool
}

func (t *ftrack) times() (trackTimes, error) {
	var tt trackTimes
	tt.media = t.nextDTS - t.firstDTS
	var ok1, ok2, ok3 bool
	tt.empty, ok1 = rescale(t.firstDTS, t.timescale, movieTimescale, false)
	tt.present, ok2 = rescale(uint64(max(t.maxEnd, 0)), t.timescale, movieTimescale, true)
	mediaMovie, ok3 := rescale(tt.media, t.timescale, movieTimescale, true)
	if !ok1 || !ok2 || !ok3 || t.nextDTS < t.firstDTS || tt.empty > math.MaxInt64/2 ||
		tt.present > math.MaxInt64/2 {
		return tt, fmt.Errorf("track %d: timeline out of range", t.id)
	}
	// A track that starts after the file needs an empty edit (ISO 14496-12 §8.6.6) to keep
	// its place; the media edit then covers every composition time, so no frame is cut.
	// Without it, the media timeline plays as is and the edit list is left out.
	tt.needElst = tt.empty > 0
	if tt.needElst {
		tt.tkhd = tt.empty + tt.present
	} else {
		tt.tkhd = mediaMovie
	}
	return tt, nil
}

// marshalMoov appends the final moov (ISO 14496-12 §8.2.1) to b. Tracks without samples are
// left out.
func (ff *fragFile) marshalMoov(b []byte, use64 bool) ([]byte, error) {
	var movieDur uint64
	var nextID uint32
	times := make([]trackTimes, len(ff.tracks))
	for i, t := range ff.tracks {
		nextID = max(nextID, t.id)
		if len(t.sizes) == 0 {
			continue
		}
		tt, err := t.times()
		if err != nil {
			return b, err
		}
		times[i] = tt
		movieDur = max(movieDur, tt.tkhd)
	}
	b, moov := startBox(b, "moov")
	b, box := startFullBox(b, "mvhd", 1, 0) // §8.2.2
	b = be64(b, 0)                          // creation_time
	b = be64(b, 0)                          // modification_time
	b = be32(b, movieTimescale)
	b = be64(b, movieDur)
	b = be32(b, 0x00010000) // rate 1.0
	b = be16(b, 0x0100)     // volume 1.0
	b = append(b, make([]byte, 10)...)
	b = appendUnityMatrix(b)
	b = append(b, make([]byte, 24)...) // pre_defined
	b = be32(b, nextID+1)
	b, _ = endBox(b, box)
	for i, t := range ff.tracks {
		if len(t.sizes) == 0 {
			continue
		}
		var err error
		if b, err = t.marshalTrak(b, times[i], use64); err != nil {
			return b, err
		}
	}
	return endBox(b, moov)
}

func (t *ftrack) marshalTrak(b []byte, tt trackTimes, use64 bool) ([]byte, error) {
	b, trak := startBox(b, "trak")
	b, box := startFullBox(b, "tkhd", 1, 3) // §8.3.2; enabled, in movie
	b = be64(b, 0)
	b = be64(b, 0)
	b = be32(b, t.id)
	b = be32(b, 0)
	b = be64(b, tt.tkhd)
	b = append(b, t.tkhdTail...) // layer, group, volume, matrix, width, height
	b, _ = endBox(b, box)
	if tt.needElst {
		b, box = startBox(b, "edts")
		var elst int
		b, elst = startFullBox(b, "elst", 1, 0) // §8.6.6
		b = be32(b, 2)
		b = be64(b, tt.empty)
		b = be64(b, math.MaxUint64) // media_time -1: empty edit
		b = be32(b, 0x00010000)
		b = be64(b, tt.present)
		b = be64(b, 0)
		b = be32(b, 0x00010000)
		b, _ = endBox(b, elst)
		b, _ = endBox(b, box)
	}
	b, mdia := startBox(b, "mdia")
	b, box = startFullBox(b, "mdhd", 1, 0) // §8.4.2
	b = be64(b, 0)
	b = be64(b, 0)
	b = be32(b, t.timescale)
	b = be64(b, tt.media)
	b = append(b, t.language[:]...)
	b = be16(b, 0)
	b, _ = endBox(b, box)
	b = append(b, t.hdlr...)
	b, minf := startBox(b, "minf")
	b = append(b, t.mhd...)
	b = append(b, t.dinf...)
	b, err := t.marshalStbl(b, use64)
	if err != nil {
		return b, err
	}
	for _, start := range []int{minf, mdia, trak} {
		if b, err = endBox(b, start); err != nil {
			return b, fmt.Errorf("track %d: %w", t.id, err)
		}
	}
	return b, nil
}

// marshalStbl appends the sample table (ISO 14496-12 §8.5.1): the stsd of the init segment
// and the tables built from the fragments.
func (t *ftrack) marshalStbl(b []byte, use64 bool) ([]byte, error) {
	b, stbl := startBox(b, "stbl")
	b = append(b, t.stsd...)

	b, box := startFullBox(b, "stts", 0, 0) // §8.6.1.2
	b = be32(b, uint32(len(t.stts)))
	for _, e := range t.stts {
		b = be32(b, e.count)
		b = be32(b, e.delta)
	}
	b, _ = endBox(b, box)

	if len(t.ctts) > 1 || t.ctts[0].offset != 0 {
		version := uint8(0) // §8.6.1.3; version 1 for signed offsets
		if t.negCTO {
			version = 1
		}
		b, box = startFullBox(b, "ctts", version, 0)
		b = be32(b, uint32(len(t.ctts)))
		for _, e := range t.ctts {
			b = be32(b, e.count)
			b = be32(b, uint32(e.offset))
		}
		b, _ = endBox(b, box)
	}

	if t.nonSync { // §8.6.2; absent means every sample is a sync sample
		b, box = startFullBox(b, "stss", 0, 0)
		b = be32(b, uint32(len(t.stss)))
		for _, n := range t.stss {
			b = be32(b, n)
		}
		b, _ = endBox(b, box)
	}

	b, box = startFullBox(b, "stsc", 0, 0) // §8.7.4: runs of chunks with equal sample counts
	at := len(b)
	b = be32(b, 0)
	var entries uint32
	for i, n := range t.chunks {
		if i > 0 && t.chunks[i-1] == n {
			continue
		}
		entries++
		b = be32(b, uint32(i+1))
		b = be32(b, n)
		b = be32(b, 1) // sample_description_index
	}
	binary.BigEndian.PutUint32(b[at:], entries)
	b, _ = endBox(b, box)

	b, box = startFullBox(b, "stsz", 0, 0) // §8.7.3
	b = be32(b, 0)
	b = be32(b, uint32(len(t.sizes)))
	for _, s := range t.sizes {
		b = be32(b, s)
	}
	b, _ = endBox(b, box)

	if use64 { // §8.7.5: co64 once an offset passes 32 bits
		b, box = startFullBox(b, "co64", 0, 0)
		b = be32(b, uint32(len(t.offsets)))
		for _, o := range t.offsets {
			b = be64(b, o)
		}
	} else {
		b, box = startFullBox(b, "stco", 0, 0)
		b = be32(b, uint32(len(t.offsets)))
		for _, o := range t.offsets {
			b = be32(b, uint32(o))
		}
	}
	b, _ = endBox(b, box)
	return endBox(b, stbl)
}
