package hls

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// ErrNothingToRecover is wrapped by RecoverSlice's error when the slice a crash cut holds no
// complete frame: the caller deletes it.
var ErrNothingToRecover = errors.New("nothing to recover")

// errStop ends a scan at a packet the muxer would not have written: the data from there on is
// treated as missing.
var errStop = errors.New("not a packet of this muxer")

// scanBufSize is the read buffer of a scan.
const scanBufSize = 64 << 10

// aacFrameSamples is the length of an AAC frame ADTS can signal (960-sample frames cannot be).
const aacFrameSamples = 1024

// pesLengthEnd is where PES_packet_length ends, from which it counts (§2.4.3.7).
const pesLengthEnd = 6

// RecoverSlice makes the slice a Writer was writing when the process died (cut at any byte)
// into a complete one: it cuts the file after the last complete PES and fsyncs it. The Writer
// writes each PES as contiguous packets, so a PES is complete once the next one starts, or when
// its end is proven: audio by PES_packet_length, video (length 0) by the adaptation-field
// stuffing only the last packet of a PES carries. A video PES that exactly fills its last packet
// cannot be proven complete at the end of the file and is dropped. The result has Seq, Start and
// Path as given; Duration runs from the first DTS to the end of the last frame as Writer.lastEnd
// estimates it, with the video step taken inside the slice (0 for a single video frame). The
// caller knows whether the slice follows a discontinuity.
func RecoverSlice(path string, seq int, start time.Duration) (Slice, error) {
	s, err := recoverSlice(path)
	if err != nil {
		return Slice{}, fmt.Errorf("hls: recover slice %s: %w", path, err)
	}
	s.Seq, s.Path, s.Start = seq, path, start
	return s, nil
}

func recoverSlice(path string) (Slice, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Slice{}, err
	}
	defer f.Close()
	var sc tsScan
	if err = sc.run(bufio.NewReaderSize(f, scanBufSize), false); err != nil {
		return Slice{}, err
	}
	if sc.video.n+sc.audio.n == 0 {
		return Slice{}, fmt.Errorf("no complete frame: %w", ErrNothingToRecover)
	}
	fi, err := f.Stat()
	if err != nil {
		return Slice{}, err
	}
	if fi.Size() != sc.keep {
		if err := f.Truncate(sc.keep); err != nil {
			return Slice{}, fmt.Errorf("truncate to %d bytes: %w", sc.keep, err)
		}
	}
	if err := f.Sync(); err != nil {
		return Slice{}, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return Slice{}, err
	}
	return sc.slice(), nil
}

// ScanSlice fills Bytes, VideoFrames and AudioFrames of a complete slice (one the index lists)
// from its file, which must hold whole packets of this muxer only, the last PES included.
func ScanSlice(s Slice) (Slice, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return s, fmt.Errorf("hls: scan slice: %w", err)
	}
	defer f.Close()
	var sc tsScan
	if err = sc.run(bufio.NewReaderSize(f, scanBufSize), true); err != nil {
		return s, fmt.Errorf("hls: scan slice %s: %w", s.Path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return s, fmt.Errorf("hls: scan slice: %w", err)
	}
	if sc.keep != fi.Size() {
		return s, fmt.Errorf("hls: scan slice %s: damaged after %d of %d bytes", s.Path, sc.keep, fi.Size())
	}
	got := sc.slice()
	s.Bytes, s.VideoFrames, s.AudioFrames = got.Bytes, got.VideoFrames, got.AudioFrames
	return s, nil
}

// tsScan follows a slice packet by packet: PAT, PMT, then the PES of the elementary streams.
type tsScan struct {
	pos      int64 // offset of the next packet
	pmtPID   int   // 0 until the PAT names it
	videoPID int   // 0 until the PMT names it
	audioPID int
	cur      pes   // the PES being read
	keep     int64 // end of the last complete PES

	video, audio esTimes
	first        int64 // DTS of the first complete PES (90 kHz)
	rate         int   // sample rate of the last complete audio PES
}

// pes is the PES being read.
type pes struct {
	active  bool
	video   bool
	pid     int
	dts     int64
	length  int   // PES_packet_length; 0: unbounded
	got     int   // bytes of the PES so far, from its start code
	stuffed bool  // its last packet so far has adaptation-field stuffing: the muxer's end of a PES
	end     int64 // offset after its last packet so far
	rate    int   // audio: ADTS sample rate
}

// esTimes is what the duration needs of one elementary stream.
type esTimes struct {
	n          int64
	last, prev int64 // DTS of the last two complete PES
}

// run scans the whole input. final says the last PES is complete (a slice the Writer closed).
// A packet this muxer would not write ends the scan as the end of the file does; only a first
// packet that is no PAT is an error (this is no slice of ours).
func (sc *tsScan) run(r io.Reader, final bool) error {
	var p [tsPacketSize]byte
	for {
		_, err := io.ReadFull(r, p[:])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read packet at %d: %w", sc.pos, err)
		}
		if err := sc.packet(p[:]); err != nil {
			if sc.pos == 0 {
				return errors.New("not an MPEG-TS slice: no PAT first")
			}
			break
		}
		sc.pos += tsPacketSize
	}
	// A bounded PES was committed once whole; an unbounded one ends with the file.
	if sc.cur.active && sc.cur.length == 0 && (final || sc.cur.stuffed) {
		sc.commit()
	}
	return nil
}

// packet reads one packet (ISO 13818-1 §2.4.3.2).
func (sc *tsScan) packet(p []byte) error {
	if p[0] != tsSyncByte || p[1]&0x80 != 0 { // transport_error_indicator
		return errStop
	}
	pusi := p[1]&0x40 != 0
	pid := int(p[1]&0x1f)<<8 | int(p[2])
	afc := p[3] >> 4 & 3
	i := tsHeaderSize
	stuffed := false
	if afc&2 != 0 {
		n := int(p[4])
		i += 1 + n
		if afc == 2 && n != tsPayloadSize-1 || i > tsPacketSize {
			return errStop
		}
		stuffed = n == 0 || n > afNeeded(p[5]) // a lone length byte is one byte of stuffing
	}
	var payload []byte
	if afc&1 != 0 {
		payload = p[i:]
	}
	switch {
	case afc == 0:
		return errStop
	case pid == pidPAT && sc.pmtPID == 0:
		return sc.pat(pusi, payload)
	case pid == sc.pmtPID && sc.pmtPID != 0 && sc.videoPID|sc.audioPID == 0:
		return sc.pmt(pusi, payload)
	case pid == 0 || pid != sc.videoPID && pid != sc.audioPID:
		return errStop
	case payload == nil: // a PCR alone, between PES
		return nil
	case pusi:
		next, err := sc.parsePES(pid, payload, stuffed)
		if err != nil {
			return err
		}
		if sc.cur.active {
			if sc.cur.length != 0 {
				return errStop // a bounded PES would have been committed once whole
			}
			sc.commit() // packets of a PES are contiguous: the previous one is whole
		}
		sc.cur = next
	case !sc.cur.active || sc.cur.pid != pid:
		return errStop
	case sc.cur.length != 0 && sc.cur.got+len(payload) > pesLengthEnd+sc.cur.length:
		return errStop
	default:
		sc.cur.got += len(payload)
		sc.cur.end, sc.cur.stuffed = sc.pos+tsPacketSize, stuffed
	}
	if sc.cur.length != 0 && sc.cur.got == pesLengthEnd+sc.cur.length {
		sc.commit()
	}
	return nil
}

// afNeeded is the adaptation field length the flags take (§2.4.3.4), stuffing excluded. Flags
// this muxer never sets count as filling the field, so nothing is taken for stuffing.
func afNeeded(flags byte) int {
	if flags&0x07 != 0 { // splicing point, private data, extension
		return tsPayloadSize
	}
	n := 1
	if flags&afPCR != 0 {
		n += pcrFieldSize
	}
	if flags&0x08 != 0 { // OPCR
		n += pcrFieldSize
	}
	return n
}

// section returns the PSI section a packet starts (§2.4.4): one packet holds the Writer's whole
// PAT or PMT. The CRC must match.
func section(pusi bool, payload []byte, tableID byte) ([]byte, bool) {
	if !pusi || len(payload) < 1 || int(payload[0])+1+3 > len(payload) {
		return nil, false
	}
	s := payload[1+int(payload[0]):]
	n := int(binary.BigEndian.Uint16(s[1:]) & 0x0fff)
	if s[0] != tableID || n < 9 || 3+n > len(s) || crc32MPEG2(s[:3+n]) != 0 {
		return nil, false
	}
	return s[8 : 3+n-4], true // after the long header, before the CRC
}

// pat reads the PAT (§2.4.4.3) for the PID of the program's PMT.
func (sc *tsScan) pat(pusi bool, payload []byte) error {
	s, ok := section(pusi, payload, 0x00)
	if !ok {
		return errStop
	}
	for ; len(s) >= 4; s = s[4:] {
		if program := binary.BigEndian.Uint16(s); program != 0 {
			sc.pmtPID = int(binary.BigEndian.Uint16(s[2:]) & 0x1fff)
			return nil
		}
	}
	return errStop
}

// pmt reads the PMT (§2.4.4.8) for the PIDs of the video and audio streams.
func (sc *tsScan) pmt(pusi bool, payload []byte) error {
	s, ok := section(pusi, payload, 0x02)
	if !ok || len(s) < 4 {
		return errStop
	}
	info := int(binary.BigEndian.Uint16(s[2:]) & 0x0fff)
	if 4+info > len(s) {
		return errStop
	}
	for s = s[4+info:]; len(s) >= 5; {
		pid := int(binary.BigEndian.Uint16(s[1:]) & 0x1fff)
		switch s[0] {
		case streamTypeH264, streamTypeH265:
			sc.videoPID = pid
		case streamTypeADTS:
			sc.audioPID = pid
		}
		n := 5 + int(binary.BigEndian.Uint16(s[3:])&0x0fff)
		if n > len(s) || pid == pidPAT || pid == sc.pmtPID {
			return errStop
		}
		s = s[n:]
	}
	if sc.videoPID == sc.audioPID { // none, or both on one PID
		return errStop
	}
	return nil
}

// parsePES reads the PES header (§2.4.3.6) a packet starts with, which the Writer puts whole
// into the first packet along with the start of the access unit or ADTS frame. It changes
// nothing: a refused packet must leave the scan as it was.
func (sc *tsScan) parsePES(pid int, b []byte, stuffed bool) (pes, error) {
	video := pid == sc.videoPID
	if len(b) < 9 || b[0] != 0 || b[1] != 0 || b[2] != 1 || b[6]&0xc0 != 0x80 {
		return pes{}, errStop
	}
	hl := 9 + int(b[8])
	if hl > len(b) {
		return pes{}, errStop
	}
	var dts int64
	switch b[7] >> 6 { // PTS_DTS_flags
	case 2:
		if hl < 14 {
			return pes{}, errStop
		}
		dts = readTimestamp(b[9:])
	case 3:
		if hl < 19 {
			return pes{}, errStop
		}
		dts = readTimestamp(b[14:])
	default:
		return pes{}, errStop
	}
	p := pes{active: true, video: video, pid: pid, dts: dts, got: len(b), stuffed: stuffed,
		length: int(binary.BigEndian.Uint16(b[4:])), end: sc.pos + tsPacketSize}
	if p.length != 0 && p.got > pesLengthEnd+p.length {
		return pes{}, errStop
	}
	es := b[hl:]
	if video {
		if len(es) < 4 || es[0]|es[1]|es[2] != 0 || es[3] != 1 { // Annex B, AUD first
			return pes{}, errStop
		}
	} else {
		p.rate = adtsRate(es)
		if p.rate == 0 || p.length == 0 { // the Writer bounds every audio PES
			return pes{}, errStop
		}
	}
	return p, nil
}

// adtsRate returns the sample rate of the ADTS header at b, or 0.
func adtsRate(b []byte) int {
	rates := [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	if len(b) < adtsHeaderSize || b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return 0
	}
	if i := int(b[2] >> 2 & 0x0f); i < len(rates) {
		return rates[i]
	}
	return 0
}

// readTimestamp decodes a 33-bit PTS or DTS (§2.4.3.7).
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// commit counts the PES being read as complete.
func (sc *tsScan) commit() {
	c := sc.cur
	sc.cur.active = false
	if sc.video.n+sc.audio.n == 0 {
		sc.first = c.dts
	}
	es := &sc.audio
	if c.video {
		es = &sc.video
	} else {
		sc.rate = c.rate
	}
	es.prev, es.last = es.last, c.dts
	es.n++
	sc.keep = c.end
}

// slice returns the stats of the complete PES: the duration mirrors Writer.lastEnd, from the
// first DTS to the later of the last video DTS plus its step and the last audio DTS plus one
// AAC frame.
func (sc *tsScan) slice() Slice {
	s := Slice{Bytes: sc.keep, VideoFrames: sc.video.n, AudioFrames: sc.audio.n}
	rel := func(ts int64) time.Duration { // DTS wrap after 26.5 h: differences are 33-bit
		d := (ts - sc.first) & tsTSMask
		if d >= 1<<32 {
			d -= 1 << 33
		}
		return media.FromTimescale(d, tsClock)
	}
	if v := sc.video; v.n > 0 {
		end := rel(v.last)
		if v.n > 1 {
			end += end - rel(v.prev)
		}
		s.Duration = max(s.Duration, end)
	}
	if a := sc.audio; a.n > 0 {
		s.Duration = max(s.Duration, rel(a.last)+time.Duration(aacFrameSamples)*time.Second/time.Duration(sc.rate))
	}
	return s
}
