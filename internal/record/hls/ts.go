package hls

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/liverec/liverec/internal/media"
)

// MPEG-TS constants (ISO 13818-1 §2.4.3).
const (
	tsPacketSize  = 188
	tsHeaderSize  = 4
	tsPayloadSize = tsPacketSize - tsHeaderSize
	tsSyncByte    = 0x47
	pcrFieldSize  = 6

	pidPAT   = 0x0000
	pidPMT   = 0x1000 // the PID ffmpeg uses; any free PID works
	pidVideo = 0x0100
	pidAudio = 0x0101

	programNumber     = 1
	transportStreamID = 1

	// Table 2-34 stream_type values.
	streamTypeADTS = 0x0f // ISO 13818-7 ADTS
	streamTypeH264 = 0x1b
	streamTypeH265 = 0x24

	// Table 2-22 stream_id values.
	streamIDVideo = 0xe0
	streamIDAudio = 0xc0

	// Adaptation field flags (§2.4.3.5).
	afRandomAccess = 0x40
	afPCR          = 0x10

	// Clock rate of PTS, DTS and PCR base (§2.4.3.7); 33-bit counters wrap after ~26.5 h.
	tsClock  = 90000
	tsTSMask = 1<<33 - 1

	// PCR runs this far behind the DTS of the data it precedes, so a decoder sees every access
	// unit before its decoding time (the T-STD model; mediacommon uses the same 100 ms).
	pcrDelay = tsClock / 10
	// §2.7.2: PCRs of a program must be at most 0.1 s apart.
	pcrMaxInterval = tsClock / 10

	// pesHeaderMax is the size of a PES header with PTS and DTS (§2.4.3.6): 9 fixed + 10 bytes.
	pesHeaderMax = 19
	// pesMaxLength is the largest PES_packet_length; video PES use 0 (unbounded, allowed only for
	// video in TS) as ffmpeg does.
	pesMaxLength = 0xffff
)

// esStream is one elementary stream of the program.
type esStream struct {
	pid        uint16
	streamType byte
	cc         uint8 // continuity_counter: 4 bits, per PID, counts packets with payload
}

// tsMuxer writes one program with at most one video and one audio stream into a reusable
// buffer. It never allocates once its buffers have grown to the largest access unit.
type tsMuxer struct {
	out []byte // packets not yet handed to the slice file (Writer.outBuf)

	video, audio   esStream // pid 0 = absent
	pcrPID         uint16
	lastPCR        int64
	ccPAT, ccPMT   uint8
	pmtVersion     uint8
	tables         [2 * tsPacketSize]byte // PAT and PMT packets; only the CCs change per write
	haveTables     bool
	prevVid, prevA byte // stream types of the tables built last, to bump the PMT version
}

// streamType maps a codec to its PMT stream_type.
func streamType(c media.Codec) (byte, error) {
	switch c {
	case media.CodecH264:
		return streamTypeH264, nil
	case media.CodecH265:
		return streamTypeH265, nil
	case media.CodecAAC:
		return streamTypeADTS, nil
	}
	return 0, fmt.Errorf("codec %s has no MPEG-TS mapping", c)
}

// setTracks (re)builds PAT and PMT for the tracks. A changed stream set bumps the PMT
// version_number (§2.4.4.9) so a reader that keeps the old PMT notices.
func (m *tsMuxer) setTracks(tracks media.Tracks) error {
	var vt, at byte
	var err error
	m.video, m.audio = esStream{cc: m.video.cc}, esStream{cc: m.audio.cc}
	if tracks.Video != nil {
		if vt, err = streamType(tracks.Video.Codec); err != nil {
			return err
		}
		m.video.pid, m.video.streamType = pidVideo, vt
	}
	if tracks.Audio != nil {
		if at, err = streamType(tracks.Audio.Codec); err != nil {
			return err
		}
		m.audio.pid, m.audio.streamType = pidAudio, at
	}
	if m.haveTables && (vt != m.prevVid || at != m.prevA) {
		m.pmtVersion = (m.pmtVersion + 1) & 0x1f
	}
	m.prevVid, m.prevA, m.haveTables = vt, at, true
	// The PCR travels on the video PID when there is one: video PES are the most regular.
	m.pcrPID = m.video.pid
	if m.pcrPID == 0 {
		m.pcrPID = m.audio.pid
	}

	// PAT (§2.4.4.3): one program.
	pat := m.tables[:tsPacketSize]
	sec := pat[tsHeaderSize+1:]          // after pointer_field
	sec = append(sec[:0], 0x00, 0xb0, 0, // table_id, syntax indicator, section_length (set below)
		transportStreamID>>8, transportStreamID&0xff, 0xc1, 0, 0,
		programNumber>>8, programNumber&0xff, 0xe0|pidPMT>>8, pidPMT&0xff)
	finishSection(pat, sec)

	// PMT (§2.4.4.8).
	pmt := m.tables[tsPacketSize:]
	sec = pmt[tsHeaderSize+1:]
	sec = append(sec[:0], 0x02, 0xb0, 0,
		programNumber>>8, programNumber&0xff, 0xc1|m.pmtVersion<<1, 0, 0,
		0xe0|byte(m.pcrPID>>8), byte(m.pcrPID), 0xf0, 0) // PCR_PID, program_info_length 0
	for _, es := range [2]esStream{m.video, m.audio} {
		if es.pid != 0 {
			sec = append(sec, es.streamType, 0xe0|byte(es.pid>>8), byte(es.pid), 0xf0, 0)
		}
	}
	finishSection(pmt, sec)
	return nil
}

// finishSection sets section_length, appends the CRC and stuffs the packet. sec aliases pkt
// after the 4-byte header and pointer_field.
func finishSection(pkt, sec []byte) {
	n := len(sec) - 3 + 4 // bytes after section_length, CRC included
	sec[1] = 0xb0 | byte(n>>8)
	sec[2] = byte(n)
	sec = binary.BigEndian.AppendUint32(sec, crc32MPEG2(sec))
	pkt[tsHeaderSize] = 0 // pointer_field
	for i := tsHeaderSize + 1 + len(sec); i < tsPacketSize; i++ {
		pkt[i] = 0xff
	}
}

// crc32MPEG2 is the CRC of §2.4.4 sections (Annex A: polynomial 0x04c11db7, MSB first, no
// final XOR). Tables are built once per slice at most, so a bitwise loop is enough.
func crc32MPEG2(b []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// writeTables appends PAT and PMT, which start every slice so each is decodable alone.
func (m *tsMuxer) writeTables() {
	at := len(m.out)
	m.out = append(m.out, m.tables[:]...)
	setHeader(m.out[at:], pidPAT, true, 0x10, &m.ccPAT)
	setHeader(m.out[at+tsPacketSize:], pidPMT, true, 0x10, &m.ccPMT)
}

// setHeader writes a TS packet header (§2.4.3.2). afc is adaptation_field_control in bits
// 5–4; the continuity counter advances only for packets with payload (§2.4.3.3).
func setHeader(p []byte, pid uint16, pusi bool, afc byte, cc *uint8) {
	p[0] = tsSyncByte
	p[1] = byte(pid>>8) & 0x1f
	if pusi {
		p[1] |= 0x40
	}
	p[2] = byte(pid)
	p[3] = afc | *cc
	if afc&0x10 != 0 {
		*cc = (*cc + 1) & 0x0f
	}
}

// pcrFor returns the PCR to send with data whose DTS is dts (90 kHz), kept non-decreasing.
func (m *tsMuxer) pcrFor(dts int64) int64 {
	if pcr := dts - pcrDelay; pcr > m.lastPCR {
		m.lastPCR = pcr
	}
	return m.lastPCR
}

// writePES packetizes one PES packet (§2.4.3.6) of es. The first packet carries the
// random_access_indicator when asked and a PCR when es carries the program clock; the last
// one is padded with adaptation-field stuffing (§2.4.3.5), the only padding TS allows.
func (m *tsMuxer) writePES(es *esStream, pes []byte, randomAccess bool, dts int64) {
	withPCR := es.pid == m.pcrPID
	if !withPCR && dts-pcrDelay-m.lastPCR > pcrMaxInterval {
		m.writePCROnly(dts)
	}
	// The first packet's adaptation field takes at most 8 bytes: one packet more than the
	// payload alone needs, rounded up, is always enough.
	m.out = slices.Grow(m.out, (len(pes)/tsPayloadSize+2)*tsPacketSize)
	first := true
	for len(pes) > 0 {
		var flags byte
		af := 0 // adaptation field bytes, its length byte included
		if first {
			if randomAccess {
				flags |= afRandomAccess
			}
			if withPCR {
				flags |= afPCR
			}
			if flags != 0 {
				af = 2
				if withPCR {
					af += pcrFieldSize
				}
			}
		}
		n := tsPayloadSize - af
		if len(pes) < n {
			if af == 0 {
				af = n - len(pes) // 1: the length byte alone; more: length, flags, 0xff…
			} else {
				af += n - len(pes)
			}
			n = len(pes)
		}
		at := len(m.out)
		m.out = m.out[:at+tsPacketSize]
		p := m.out[at:]
		afc := byte(0x10)
		if af > 0 {
			afc = 0x30
		}
		setHeader(p, es.pid, first, afc, &es.cc)
		i := tsHeaderSize
		if af > 0 {
			p[i] = byte(af - 1)
			i++
			if af > 1 {
				p[i] = flags
				i++
				if flags&afPCR != 0 {
					putPCR(p[i:], m.pcrFor(dts))
					i += pcrFieldSize
				}
				for ; i < tsHeaderSize+af; i++ {
					p[i] = 0xff
				}
			}
		}
		copy(p[i:], pes[:n])
		pes = pes[n:]
		first = false
	}
}

// writePCROnly sends an adaptation-field-only packet with a PCR on the PCR PID, used when the
// PCR stream (video) is sparser than §2.7.2 allows.
func (m *tsMuxer) writePCROnly(dts int64) {
	es := &m.video
	if m.pcrPID != es.pid {
		es = &m.audio
	}
	at := len(m.out)
	m.out = slices.Grow(m.out, tsPacketSize)[:at+tsPacketSize]
	p := m.out[at:]
	setHeader(p, es.pid, false, 0x20, &es.cc)
	p[4] = tsPayloadSize - 1
	p[5] = afPCR
	putPCR(p[6:], m.pcrFor(dts))
	for i := 6 + pcrFieldSize; i < tsPacketSize; i++ {
		p[i] = 0xff
	}
}

// putPCR encodes program_clock_reference (§2.4.3.5): 33-bit base, 6 reserved bits, 9-bit
// extension (always 0: the base is all we know).
func putPCR(b []byte, base int64) {
	base &= tsTSMask
	b[0] = byte(base >> 25)
	b[1] = byte(base >> 17)
	b[2] = byte(base >> 9)
	b[3] = byte(base >> 1)
	b[4] = byte(base<<7) | 0x7e
	b[5] = 0
}

// putPESHeader writes a PES header (§2.4.3.6–7) that ends at b[pesHeaderMax] and returns where
// it starts. payload is the number of bytes after the header; hasDTS adds a DTS field.
func putPESHeader(b []byte, streamID byte, pts, dts int64, hasDTS bool, payload int) int {
	hl := 5
	flags := byte(0x80)
	if hasDTS {
		hl, flags = 10, 0xc0
	}
	start := pesHeaderMax - 9 - hl
	h := b[start:pesHeaderMax]
	h[0], h[1], h[2], h[3] = 0, 0, 1, streamID
	length := 3 + hl + payload
	if streamID == streamIDVideo || length > pesMaxLength {
		length = 0
	}
	binary.BigEndian.PutUint16(h[4:], uint16(length))
	h[6] = 0x84 // '10', data_alignment_indicator: the payload starts with an access unit
	h[7] = flags
	h[8] = byte(hl)
	if hasDTS {
		putTimestamp(h[9:], 0x3, pts)
		putTimestamp(h[14:], 0x1, dts)
	} else {
		putTimestamp(h[9:], 0x2, pts)
	}
	return start
}

// putTimestamp encodes a 33-bit PTS or DTS with its 4-bit prefix and marker bits.
func putTimestamp(b []byte, prefix byte, ts int64) {
	ts &= tsTSMask
	b[0] = prefix<<4 | byte(ts>>29)&0x0e | 1
	b[1] = byte(ts >> 22)
	b[2] = byte(ts>>14)&0xfe | 1
	b[3] = byte(ts >> 7)
	b[4] = byte(ts<<1) | 1
}
