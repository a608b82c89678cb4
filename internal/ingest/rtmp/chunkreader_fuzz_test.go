package rtmp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
	"github.com/stretchr/testify/require"
)

// rawWriter writes messages with gortmplib's chunk writer, the reference for equivalence.
type rawWriter struct {
	buf bytes.Buffer
	w   *rawmessage.Writer
}

func newRawWriter() *rawWriter {
	rw := &rawWriter{}
	rw.w = rawmessage.NewWriter(&rw.buf, bytecounter.NewWriter(&rw.buf), false)
	return rw
}

func (rw *rawWriter) write(t testing.TB, m *rawmessage.Message) {
	t.Helper()
	require.NoError(t, rw.w.Write(m))
}

// setChunkSize announces a chunk size and then uses it, as a publisher does.
func (rw *rawWriter) setChunkSize(t testing.TB, v uint32) {
	rw.write(t, &rawmessage.Message{ChunkStreamID: 2, Type: 1, Body: u32(v)})
	rw.w.SetChunkSize(v)
}

// randomMessages makes messages on a few chunk streams that make gortmplib's writer use
// every header type: repeated and changing lengths, types and deltas, timestamps going
// backward and past 24 bits.
func randomMessages(rng *rand.Rand, n int) []*rawmessage.Message {
	type last struct {
		ts, delta int64
		n         int
		typ       uint8
	}
	state := map[byte]*last{}
	msids := map[byte]uint32{}
	var out []*rawmessage.Message
	for range n {
		csid := byte(3 + rng.IntN(6))
		l := state[csid]
		if l == nil {
			l = &last{ts: rng.Int64N(1000), delta: 20, n: 10, typ: 9}
			if rng.IntN(3) == 0 {
				l.ts = extendedTimestamp - 50 + rng.Int64N(100)
			}
			state[csid], msids[csid] = l, rng.Uint32()
		}
		switch k := rng.IntN(10); {
		case k < 4: // same delta (type 2 or 3)
		case k < 7:
			l.delta = rng.Int64N(100)
		case k < 8:
			l.delta = -rng.Int64N(l.ts + 1) // backward: type 0
		case k < 9:
			l.delta = extendedTimestamp + rng.Int64N(1000)
		default:
			l.delta = 0
		}
		if l.ts+l.delta >= 1<<32 || l.ts+l.delta < 0 {
			l.delta = -l.ts
		}
		l.ts += l.delta
		switch k := rng.IntN(10); {
		case k < 4: // same length and type
		case k < 8:
			l.n = rng.IntN(300)
		default:
			l.n = rng.IntN(20000)
		}
		if rng.IntN(5) == 0 {
			l.typ = []uint8{8, 9, 15, 18, 20}[rng.IntN(5)]
		}
		body := make([]byte, l.n)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		out = append(out, &rawmessage.Message{
			ChunkStreamID: csid, Timestamp: time.Duration(l.ts) * time.Millisecond,
			Type: l.typ, MessageStreamID: msids[csid], Body: body,
		})
	}
	return out
}

// TestChunkReaderEquivalence: what gortmplib's writer writes, at several chunk sizes and
// with chunk size changes mid-stream, reads back as the same messages. (Its writer puts the
// message stream id big-endian on the wire, the reader decodes the spec's little-endian.)
func TestChunkReaderEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][]uint32{{128}, {1}, {1000}, {4096}, {65536}, {128, 4096, 77, 65536}} {
		msgs := randomMessages(rng, 400)
		rw := newRawWriter()
		var want []gotMessage
		for i, m := range msgs {
			if k := i * len(sizes) / len(msgs); i == k*len(msgs)/len(sizes) || i == 0 {
				rw.setChunkSize(t, sizes[k])
				want = append(want, gotMessage{1, 0, 0, 2, u32(sizes[k]), 0})
			}
			rw.write(t, m)
			want = append(want, gotMessage{
				typ: m.Type, ts: time.Duration(uint32(m.Timestamp/time.Millisecond)) * time.Millisecond,
				msid: bits.ReverseBytes32(m.MessageStreamID), csid: uint32(m.ChunkStreamID), body: m.Body,
			})
		}
		for _, bufSize := range []int{16, 4096, readBufSize} {
			got, err := readAll(newTestReader(rw.buf.Bytes(), bufSize), 0)
			require.NoError(t, err, "chunk sizes %v, buffer %d, after %d messages", sizes, bufSize, len(got))
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i], "chunk sizes %v, buffer %d, message %d", sizes, bufSize, i)
			}
		}
	}
}

// encodeMedia encodes an A/V-like message sequence (2 Mbit/s video at 30 fps with a keyframe
// every 2 s, AAC audio) at a chunk size; it returns the bytes and the number of messages.
func encodeMedia(t testing.TB, chunkSize uint32) ([]byte, int) {
	rw := newRawWriter()
	rw.setChunkSize(t, chunkSize)
	n := 1
	for i := range 120 {
		size := 6000 + i*37%4000
		if i%60 == 0 {
			size = 60000
		}
		rw.write(t, &rawmessage.Message{ChunkStreamID: 6, Type: 9, MessageStreamID: msidStream1,
			Timestamp: time.Duration(i*33) * time.Millisecond, Body: make([]byte, size)})
		rw.write(t, &rawmessage.Message{ChunkStreamID: 4, Type: 8, MessageStreamID: msidStream1,
			Timestamp: time.Duration(i*23) * time.Millisecond, Body: make([]byte, 370)})
		n += 2
	}
	return rw.buf.Bytes(), n
}

// FuzzChunkReader: arbitrary input never panics, and the reader's memory stays within its
// bounds whatever the input claims.
func FuzzChunkReader(f *testing.F) {
	for _, tc := range chunkCases() {
		f.Add(tc.in)
	}
	rw := newRawWriter()
	rw.setChunkSize(f, 200)
	for _, m := range randomMessages(rand.New(rand.NewPCG(3, 4)), 20) {
		m.Body = m.Body[:min(len(m.Body), 500)]
		rw.write(f, m)
	}
	f.Add(rw.buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newChunkReader(bufio.NewReaderSize(bytes.NewReader(data), 16), 0, func(uint32) error { return nil })
		r.SetWindowAckSize(64)
		for {
			m, err := r.Read()
			if err != nil {
				break
			}
			if len(m.Body) > maxMessageSize || len(r.wide) > maxWideChunkStreams {
				t.Fatalf("message of %d bytes, %d wide chunk streams", len(m.Body), len(r.wide))
			}
			held := 0
			for i := range r.narrow {
				held += cap(r.narrow[i].buf)
			}
			for _, cs := range r.wide {
				held += cap(cs.buf)
			}
			if held != r.held || held > maxPendingBytes {
				t.Fatalf("buffers hold %d bytes, counted %d", held, r.held)
			}
			if len(m.Body) >= 4 {
				v := binary.BigEndian.Uint32(m.Body)
				switch m.Type {
				case 1:
					_ = r.SetChunkSize(v) // the reader's own bounds, wider than conn's
				case 2:
					r.AbortChunkStream(v)
				}
			}
		}
	})
}
