package loadgen

import (
	"encoding/binary"
	"math"

	"github.com/liverec/liverec/internal/media/flv"
)

// RTMP chunking, written by hand: gortmplib's writer allocates each chunk and flushes (one
// syscall) per message, which is what this package exists to avoid.

// chunkSize is the outgoing chunk size: gortmplib's client announces 64 KiB with
// SetChunkSize right after the handshake, so most frames travel as one chunk.
const chunkSize = 65536

// Chunk stream IDs, as gortmplib and ffmpeg use them (any of 3..63 would do).
const (
	csidCommand = 3
	csidAudio   = 4
	csidData    = 5
	csidVideo   = 6
)

// streamID is the message stream ID createStream returns for the only stream of a connection.
const streamID = 1

// RTMP message types.
const (
	typeAudio      = 8
	typeVideo      = 9
	typeDataAMF0   = 18
	typeCommandAMF = 20
)

// appendMessage appends one RTMP message as chunks: a type 0 chunk (absolute timestamp, so
// no state is shared with earlier messages and the loop seam needs no care) and type 3
// continuation chunks for a body longer than chunkSize. It does not allocate when b has room.
func appendMessage(b []byte, csid byte, typ uint8, ts uint32, msid uint32, body []byte) []byte {
	h := ts
	ext := ts >= 0xFFFFFF
	if ext {
		h = 0xFFFFFF
	}
	n := len(body)
	b = append(b, csid&0x3f, byte(h>>16), byte(h>>8), byte(h), byte(n>>16), byte(n>>8), byte(n), typ)
	b = binary.LittleEndian.AppendUint32(b, msid)
	if ext {
		b = binary.BigEndian.AppendUint32(b, ts)
	}
	for first := true; first || len(body) > 0; first = false {
		if !first {
			b = append(b, 3<<6|csid&0x3f)
			if ext { // continuation chunks repeat the extended timestamp
				b = binary.BigEndian.AppendUint32(b, ts)
			}
		}
		k := min(len(body), chunkSize)
		b = append(b, body[:k]...)
		body = body[k:]
	}
	return b
}

// appendMsg appends a clip message with its timestamp.
func appendMsg(b []byte, m *Msg, ts uint32) []byte {
	switch m.Type {
	case flv.TagVideo:
		return appendMessage(b, csidVideo, typeVideo, ts, streamID, m.Data)
	case flv.TagAudio:
		return appendMessage(b, csidAudio, typeAudio, ts, streamID, m.Data)
	}
	return appendMessage(b, csidData, typeDataAMF0, ts, streamID, m.Data)
}

// goodbye returns the chunks a publisher sends when it stops, as ffmpeg does: FCUnpublish(name)
// and deleteStream(1), on the connection's message stream 0.
func goodbye(name string) []byte {
	fc := amfString(amfNull(amfNumber(amfString(nil, "FCUnpublish"), 6)), name)
	del := amfNumber(amfNull(amfNumber(amfString(nil, "deleteStream"), 7)), streamID)
	b := appendMessage(nil, csidCommand, typeCommandAMF, 0, 0, fc)
	return appendMessage(b, csidCommand, typeCommandAMF, 0, 0, del)
}

func amfString(b []byte, s string) []byte {
	b = append(b, 0x02, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

func amfNumber(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0x00), math.Float64bits(v))
}

func amfNull(b []byte) []byte { return append(b, 0x05) }
