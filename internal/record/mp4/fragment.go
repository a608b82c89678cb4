package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// readFragment reads the moof at pos and checks its mdat. complete is false when the mdat is
// missing or cut short: the fragment a crash interrupted. Samples are committed to the tracks
// only for a complete fragment. It returns the position after the mdat.
func (ff *fragFile) readFragment(r io.ReaderAt, pos, hdr, boxSize, size int64) (next int64, complete bool, err error) {
	if boxSize > maxMoofSize {
		return 0, false, fmt.Errorf("moof of %d bytes", boxSize)
	}
	mpos := pos + boxSize
	typ, mhdr, msize, ok, err := readHeader(r, mpos, size)
	if err != nil || !ok {
		return 0, false, err
	}
	if typ != "mdat" {
		return 0, false, fmt.Errorf("moof followed by %q, not mdat", typ)
	}
	b, err := ff.read(r, pos+hdr, boxSize-hdr)
	if err != nil {
		return 0, false, err
	}
	ff.pend, ff.pruns = ff.pend[:0], ff.pruns[:0]
	prevEnd := pos // base of a traf without base offset: the moof, then the previous traf's data
	err = boxes(b, func(typ string, _, body []byte) error {
		if typ != "traf" {
			return nil
		}
		end, terr := ff.parseTraf(body, pos, prevEnd, msize)
		prevEnd = end
		return terr
	})
	if err != nil {
		return 0, false, err
	}
	// The data of every run must lie in this fragment's mdat (ISO 14496-12 §8.8.8: data of a
	// run is contiguous).
	lo, hi := mpos+mhdr, mpos+msize
	for _, p := range ff.pruns {
		if p.src < lo || p.src > hi || p.size > hi-p.src {
			return 0, false, fmt.Errorf("run data %d+%d outside mdat %d-%d", p.src, p.size, lo, hi)
		}
	}
	for _, p := range ff.pruns {
		if err := ff.commit(p); err != nil {
			return 0, false, err
		}
	}
	return hi, true, nil
}

// parseTraf reads a traf (ISO 14496-12 §8.8.6): tfhd, tfdt and its truns, into the pending
// samples and runs. It returns the end of its data.
func (ff *fragFile) parseTraf(b []byte, moof, prevEnd, mdatSize int64) (int64, error) {
	var tfhd, tfdt []byte
	if err := boxes(b, func(typ string, _, body []byte) error {
		switch typ {
		case "tfhd":
			tfhd = body
		case "tfdt":
			tfdt = body
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if len(tfhd) < 8 {
		return 0, errors.New("traf without tfhd")
	}
	flags := binary.BigEndian.Uint32(tfhd) & 0xffffff
	ti := ff.trackIndex(binary.BigEndian.Uint32(tfhd[4:]))
	if ti < 0 {
		return 0, fmt.Errorf("traf of unknown track %d", binary.BigEndian.Uint32(tfhd[4:]))
	}
	t := ff.tracks[ti]
	def := t.trex // duration, size, flags
	p := tfhd[8:]
	base := prevEnd
	if flags&tfhdDefaultBaseIsMoof != 0 {
		base = moof
	}
	take := func(n int) ([]byte, error) {
		if len(p) < n {
			return nil, errors.New("truncated tfhd")
		}
		v := p[:n]
		p = p[n:]
		return v, nil
	}
	for _, f := range []uint32{tfhdBaseDataOffset, tfhdSampleDescIndex, tfhdDefaultDuration,
		tfhdDefaultSize, tfhdDefaultFlags} {
		if flags&f == 0 {
			continue
		}
		n := 4
		if f == tfhdBaseDataOffset {
			n = 8
		}
		v, err := take(n)
		if err != nil {
			return 0, err
		}
		switch f {
		case tfhdBaseDataOffset:
			off := binary.BigEndian.Uint64(v)
			if off > math.MaxInt64/2 {
				return 0, errors.New("bad base data offset")
			}
			base = int64(off)
		case tfhdDefaultDuration:
			def[0] = binary.BigEndian.Uint32(v)
		case tfhdDefaultSize:
			def[1] = binary.BigEndian.Uint32(v)
		case tfhdDefaultFlags:
			def[2] = binary.BigEndian.Uint32(v)
		}
	}
	if flags&tfhdDurationIsEmpty != 0 {
		return base, nil
	}
	first := prun{run: run{track: ti}}
	if tfdt != nil { // §8.8.12
		switch {
		case len(tfdt) == 8 && tfdt[0] == 0:
			first.tfdt, first.hasTfdt = uint64(binary.BigEndian.Uint32(tfdt[4:])), true
		case len(tfdt) == 12 && tfdt[0] == 1:
			first.tfdt, first.hasTfdt = binary.BigEndian.Uint64(tfdt[4:]), true
		default:
			return 0, errors.New("bad tfdt")
		}
	}
	next := base // a trun without data_offset continues after the previous one
	err := boxes(b, func(typ string, _, body []byte) error {
		if typ != "trun" {
			return nil
		}
		pr := first
		first.hasTfdt = false
		var err error
		next, err = ff.parseTrun(body, &pr, def, base, next, mdatSize)
		return err
	})
	return next, err
}

// parseTrun reads a trun (ISO 14496-12 §8.8.8) into the pending samples and returns the end
// of its data.
func (ff *fragFile) parseTrun(b []byte, pr *prun, def [3]uint32, base, next, mdatSize int64) (int64, error) {
	if len(b) < 8 {
		return 0, errors.New("truncated trun")
	}
	version, flags := b[0], binary.BigEndian.Uint32(b)&0xffffff
	count := int64(binary.BigEndian.Uint32(b[4:]))
	b = b[8:]
	start := next
	if flags&trunDataOffset != 0 {
		if len(b) < 4 {
			return 0, errors.New("truncated trun")
		}
		start = base + int64(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
	}
	firstFlags, hasFirstFlags := def[2], flags&trunFirstSampleFlags != 0
	if hasFirstFlags {
		if len(b) < 4 {
			return 0, errors.New("truncated trun")
		}
		firstFlags = binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	per := int64(4 * bits.OnesCount32(flags&(trunSampleDuration|trunSampleSize|trunSampleFlags|trunSampleCTO)))
	// Every sample has at least one byte of data, so the mdat bounds the count too.
	total := int64(len(ff.pend)) + count
	if count*per > int64(len(b)) || total > mdatSize || total > maxSamplesPerFragment {
		return 0, fmt.Errorf("trun of %d samples does not fit", count)
	}
	pr.first, pr.samples, pr.src = len(ff.pend), uint32(count), start
	for i := range count {
		s := psample{dur: def[0], size: def[1], flags: def[2]}
		if i == 0 && hasFirstFlags {
			s.flags = firstFlags
		}
		if flags&trunSampleDuration != 0 {
			s.dur, b = binary.BigEndian.Uint32(b), b[4:]
		}
		if flags&trunSampleSize != 0 {
			s.size, b = binary.BigEndian.Uint32(b), b[4:]
		}
		if flags&trunSampleFlags != 0 {
			s.flags, b = binary.BigEndian.Uint32(b), b[4:]
		}
		if flags&trunSampleCTO != 0 {
			v := binary.BigEndian.Uint32(b)
			b = b[4:]
			s.cto = int64(v)
			if version != 0 {
				s.cto = int64(int32(v))
			}
		}
		if s.size == 0 {
			return 0, errors.New("empty sample")
		}
		pr.size += int64(s.size)
		ff.pend = append(ff.pend, s)
	}
	if count > 0 {
		ff.pruns = append(ff.pruns, *pr)
	}
	return start + pr.size, nil
}

// commit appends the samples of a checked run to its track's tables.
func (ff *fragFile) commit(p prun) error {
	t := ff.tracks[p.track]
	if len(t.sizes)+int(p.samples) > maxSamplesPerTrack {
		return fmt.Errorf("track %d has more than %d samples", t.id, maxSamplesPerTrack)
	}
	if p.hasTfdt {
		if err := t.align(p.tfdt); err != nil {
			return err
		}
	}
	for _, s := range ff.pend[p.first : p.first+int(p.samples)] {
		t.add(s)
	}
	t.chunks = append(t.chunks, p.samples)
	ff.runs = append(ff.runs, p.run)
	ff.total += p.size
	return nil
}

// align applies a fragment's decode time (tfdt). The first one places the track; a later gap
// lengthens the previous sample so the timeline keeps its times. An overlap cannot be
// represented in stts and is ignored.
func (t *ftrack) align(tfdt uint64) error {
	if !t.started {
		t.started, t.firstDTS, t.nextDTS = true, tfdt, tfdt
		return nil
	}
	if tfdt <= t.nextDTS || len(t.stts) == 0 {
		return nil
	}
	gap := tfdt - t.nextDTS
	last := &t.stts[len(t.stts)-1]
	if gap > uint64(math.MaxUint32-last.delta) {
		return fmt.Errorf("track %d: gap of %d ticks in the timeline", t.id, gap)
	}
	d := last.delta + uint32(gap)
	if last.count == 1 {
		last.delta = d
	} else {
		last.count--
		t.stts = append(t.stts, sttsEntry{1, d})
	}
	t.nextDTS = tfdt
	t.maxEnd = max(t.maxEnd, int64(t.nextDTS-t.firstDTS))
	return nil
}

// add appends one sample to the run-length coded tables (ISO 14496-12 §8.6.1.2 stts,
// §8.6.1.3 ctts, §8.6.2 stss, §8.7.3 stsz).
func (t *ftrack) add(s psample) {
	if !t.started {
		t.started = true
	}
	n := uint32(len(t.sizes)) + 1 // 1-based sample number
	t.sizes = append(t.sizes, s.size)
	if k := len(t.stts); k > 0 && t.stts[k-1].delta == s.dur {
		t.stts[k-1].count++
	} else {
		t.stts = append(t.stts, sttsEntry{1, s.dur})
	}
	if k := len(t.ctts); k > 0 && t.ctts[k-1].offset == s.cto {
		t.ctts[k-1].count++
	} else {
		t.ctts = append(t.ctts, cttsEntry{1, s.cto})
	}
	t.negCTO = t.negCTO || s.cto < 0
	switch {
	case s.flags&sampleIsNonSync != 0 && !t.nonSync:
		// Until now every sample was a sync sample and stss was implicit.
		t.nonSync = true
		t.stss = make([]uint32, 0, n)
		for i := uint32(1); i < n; i++ {
			t.stss = append(t.stss, i)
		}
	case s.flags&sampleIsNonSync == 0 && t.nonSync:
		t.stss = append(t.stss, n)
	}
	rel := int64(t.nextDTS - t.firstDTS)
	t.maxEnd = max(t.maxEnd, rel+s.cto+int64(s.dur))
	t.nextDTS += uint64(s.dur)
}
