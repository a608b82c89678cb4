package rtmp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Hand-made chunks (RTMP spec §5.3.1). Timestamps >= 0xffffff get an extended timestamp.

func basicHeader(f byte, csid uint32) []byte {
	switch {
	case csid < 64:
		return []byte{f<<6 | byte(csid)}
	case csid < 320:
		return []byte{f << 6, byte(csid - 64)}
	}
	return []byte{f<<6 | 1, byte(csid - 64), byte((csid - 64) >> 8)}
}

func be24Field(v uint32) []byte {
	v = min(v, extendedTimestamp)
	return []byte{byte(v >> 16), byte(v >> 8), byte(v)}
}

func extField(v uint32) []byte {
	if v < extendedTimestamp {
		return nil
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

func chunk0(csid, ts, length uint32, typ byte, msid uint32, body []byte) []byte {
	b := append(basicHeader(0, csid), be24Field(ts)...)
	b = append(append(b, be24Field(length)...), typ)
	b = binary.LittleEndian.AppendUint32(b, msid)
	return append(append(b, extField(ts)...), body...)
}

func chunk1(csid, delta, length uint32, typ byte, body []byte) []byte {
	b := append(append(basicHeader(1, csid), be24Field(delta)...), be24Field(length)...)
	return append(append(append(b, typ), extField(delta)...), body...)
}

func chunk2(csid, delta uint32, body []byte) []byte {
	b := append(basicHeader(2, csid), be24Field(delta)...)
	return append(append(b, extField(delta)...), body...)
}

// chunk3's ext is the repeated extended timestamp, when the chunk stream has one.
func chunk3(csid uint32, ext []byte, body []byte) []byte {
	return append(append(basicHeader(3, csid), ext...), body...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n)
	}
	return b
}

// gotMessage is a chunkMessage with its body copied.
type gotMessage struct {
	typ   uint8
	ts    time.Duration
	msid  uint32
	csid  uint32
	body  []byte
	bodyN int // instead of body, for long ones
}

// readAll reads messages until the input ends, applying the protocol control messages as
// conn.readMessage does.
func readAll(r *chunkReader, long int) ([]gotMessage, error) {
	var got []gotMessage
	for {
		m, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return got, err
		}
		g := gotMessage{typ: m.Type, ts: m.Timestamp, msid: m.StreamID, csid: m.CSID, body: bytes.Clone(m.Body)}
		if long > 0 && len(m.Body) >= long {
			g.body, g.bodyN = nil, len(m.Body)
		}
		got = append(got, g)
		if len(m.Body) < 4 {
			continue
		}
		v := binary.BigEndian.Uint32(m.Body)
		switch m.Type {
		case 1:
			if err := r.SetChunkSize(v & 0x7fffffff); err != nil {
				return got, err
			}
		case 2:
			r.AbortChunkStream(v)
		case 5:
			r.SetWindowAckSize(v)
		}
	}
}

func newTestReader(in []byte, bufSize int) *chunkReader {
	return newChunkReader(bufio.NewReaderSize(bytes.NewReader(in), bufSize), 0, func(uint32) error { return nil })
}

// chunkCase is hand-made input, read with readAll; the fuzz test seeds from these.
type chunkCase struct {
	name string
	in   []byte
	want []gotMessage
	err  string
}

func chunkCases() []chunkCase {
	ms := time.Millisecond
	ext := u32(0x01000000)
	b300, b200 := seq(300), seq(200)
	cases := []chunkCase{
		{"type 0", chunk0(3, 1000, 5, 20, 1, []byte("hello")),
			[]gotMessage{{20, 1000 * ms, 1, 3, []byte("hello"), 0}}, ""},
		{"empty body", chunk0(3, 7, 0, 18, 0, nil),
			[]gotMessage{{18, 7 * ms, 0, 3, []byte{}, 0}}, ""},
		{"stream id is little-endian", chunk0(4, 0, 1, 9, 0x01020304, []byte{1}),
			[]gotMessage{{9, 0, 0x01020304, 4, []byte{1}, 0}}, ""},
		{"split over type 3", append(chunk0(6, 40, 300, 9, 1, b300[:128]),
			append(chunk3(6, nil, b300[128:256]), chunk3(6, nil, b300[256:])...)...),
			[]gotMessage{{9, 40 * ms, 1, 6, b300, 0}}, ""},
		{"type 1 and 2 inherit", bytes.Join([][]byte{
			chunk0(4, 100, 2, 8, 1, []byte{1, 2}),
			chunk1(4, 20, 3, 9, []byte{3, 4, 5}),
			chunk2(4, 30, []byte{6, 7, 8}),
			chunk3(4, nil, []byte{9, 10, 11}), // a new message: the last delta again
		}, nil), []gotMessage{
			{8, 100 * ms, 1, 4, []byte{1, 2}, 0},
			{9, 120 * ms, 1, 4, []byte{3, 4, 5}, 0},
			{9, 150 * ms, 1, 4, []byte{6, 7, 8}, 0},
			{9, 180 * ms, 1, 4, []byte{9, 10, 11}, 0},
		}, ""},
		{"type 3 after type 0 adds nothing", append(chunk0(4, 100, 1, 8, 1, []byte{1}), chunk3(4, nil, []byte{2})...),
			[]gotMessage{{8, 100 * ms, 1, 4, []byte{1}, 0}, {8, 100 * ms, 1, 4, []byte{2}, 0}}, ""},
		{"extended timestamp", chunk0(3, 0x01000000, 1, 20, 0, []byte{1}),
			[]gotMessage{{20, 0x01000000 * ms, 0, 3, []byte{1}, 0}}, ""},
		{"extended timestamp repeated on type 3", append(chunk0(6, 0x01000000, 200, 9, 1, b200[:128]),
			chunk3(6, ext, b200[128:])...),
			[]gotMessage{{9, 0x01000000 * ms, 1, 6, b200, 0}}, ""},
		{"extended delta", bytes.Join([][]byte{
			chunk0(6, 5, 1, 9, 1, []byte{1}),
			chunk1(6, 0x01000000, 200, 9, b200[:128]),
			chunk3(6, ext, b200[128:]),
			chunk3(6, ext, b200[:128]), // a new message: the extended delta again
			chunk3(6, ext, b200[128:]),
		}, nil), []gotMessage{
			{9, 5 * ms, 1, 6, []byte{1}, 0},
			{9, (5 + 0x01000000) * ms, 1, 6, b200, 0},
			{9, (5 + 2*0x01000000) * ms, 1, 6, b200, 0},
		}, ""},
		{"timestamps wrap at 2^32 ms", append(chunk0(4, 0xfffffff0, 1, 9, 1, []byte{1}),
			chunk2(4, 0x20, []byte{2})...), []gotMessage{
			{9, 0xfffffff0 * ms, 1, 4, []byte{1}, 0},
			{9, 0x10 * ms, 1, 4, []byte{2}, 0},
		}, ""},
		{"interleaved chunk streams", bytes.Join([][]byte{
			chunk0(4, 10, 300, 9, 1, b300[:128]),
			chunk0(6, 20, 200, 8, 1, b200[:128]),
			chunk3(4, nil, b300[128:256]),
			chunk3(6, nil, b200[128:]),
			chunk3(4, nil, b300[256:]),
		}, nil), []gotMessage{{8, 20 * ms, 1, 6, b200, 0}, {9, 10 * ms, 1, 4, b300, 0}}, ""},
		{"wide chunk stream ids", bytes.Join([][]byte{
			chunk0(64, 1, 1, 9, 1, []byte{1}),
			chunk0(319, 2, 1, 9, 1, []byte{2}),
			chunk0(320, 3, 1, 9, 1, []byte{3}),
			chunk0(65599, 4, 1, 9, 1, []byte{4}),
			chunk2(64, 10, []byte{5}),
		}, nil), []gotMessage{
			{9, 1 * ms, 1, 64, []byte{1}, 0}, {9, 2 * ms, 1, 319, []byte{2}, 0},
			{9, 3 * ms, 1, 320, []byte{3}, 0}, {9, 4 * ms, 1, 65599, []byte{4}, 0},
			{9, 11 * ms, 1, 64, []byte{5}, 0},
		}, ""},
		{"chunk size change", bytes.Join([][]byte{
			chunk0(2, 0, 4, 1, 0, u32(256)),
			chunk0(6, 0, 300, 9, 1, b300[:256]),
			chunk3(6, nil, b300[256:]),
		}, nil), []gotMessage{{1, 0, 0, 2, u32(256), 0}, {9, 0, 1, 6, b300, 0}}, ""},
		{"abort", bytes.Join([][]byte{
			chunk0(6, 0, 300, 9, 1, b300[:128]),
			chunk0(2, 0, 4, 2, 0, u32(6)),
			chunk0(6, 50, 2, 8, 1, []byte{1, 2}),
		}, nil), []gotMessage{{2, 0, 0, 2, u32(6), 0}, {8, 50 * ms, 1, 6, []byte{1, 2}, 0}}, ""},
		{"abort of another stream", bytes.Join([][]byte{
			chunk0(6, 0, 200, 9, 1, b200[:128]),
			chunk0(2, 0, 4, 2, 0, u32(7)),
			chunk3(6, nil, b200[128:]),
		}, nil), []gotMessage{{2, 0, 0, 2, u32(7), 0}, {9, 0, 1, 6, b200, 0}}, ""},

		{"type 0 inside a message", append(chunk0(6, 0, 300, 9, 1, b300[:128]), chunk0(6, 0, 1, 9, 1, []byte{1})...),
			nil, "chunk stream 6: type 0 chunk in the middle of a message"},
		{"type 1 first", chunk1(5, 0, 1, 9, []byte{1}), nil, "chunk stream 5: type 1 chunk without a preceding type 0 chunk"},
		{"type 2 first", chunk2(5, 0, []byte{1}), nil, "type 2 chunk without a preceding type 0 chunk"},
		{"type 3 first", chunk3(5, nil, []byte{1}), nil, "type 3 chunk without a preceding type 0 chunk"},
		{"body size", chunk0(7, 0, 0xfffffe, 9, 1, nil), nil, "body size (16777214) exceeds maximum (10485760)"},
		{"body size of type 1", append(chunk0(7, 0, 1, 9, 1, []byte{1}), chunk1(7, 0, maxMessageSize+1, 9, nil)...),
			nil, "body size (10485761) exceeds maximum"},
		{"chunk size 0", chunk0(2, 0, 4, 1, 0, u32(0)), nil, "chunk size (0) outside"},
		{"truncated header", chunk0(3, 0, 5, 20, 1, nil)[:6], nil, io.ErrUnexpectedEOF.Error()},
		{"truncated body", chunk0(3, 0, 5, 20, 1, []byte{1, 2}), nil, io.ErrUnexpectedEOF.Error()},
		{"truncated extended timestamp", chunk0(3, 0x01000000, 5, 20, 1, nil)[:14], nil, io.ErrUnexpectedEOF.Error()},
		{"truncated basic header", []byte{1, 0x10}, nil, io.ErrUnexpectedEOF.Error()},
	}
	var wide []byte
	for i := range maxWideChunkStreams + 1 {
		wide = append(wide, chunk0(uint32(64+i), 0, 0, 9, 1, nil)...)
	}
	return append(cases, chunkCase{"too many wide chunk streams", wide, nil, "more than 64 chunk streams"})
}

func TestChunkReader(t *testing.T) {
	for _, tc := range chunkCases() {
		for _, size := range []int{16, 4096} { // 16: every Peek makes bufio read again
			got, err := readAll(newTestReader(tc.in, size), 0)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err, tc.name)
				continue
			}
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, got, "%s (buffer %d)", tc.name, size)
		}
	}
}

// TestChunkReaderAck: an Acknowledgement of the bytes read whenever more than a window has
// passed since the last, checked once per chunk, the next window starting a window after
// the last (gortmplib's accounting, counting from the handshake's bytes).
func TestChunkReaderAck(t *testing.T) {
	var in []byte
	for range 5 {
		in = append(in, chunk0(3, 0, 88, 9, 1, seq(88))...) // 100 bytes a chunk
	}
	var acks []uint32
	r := newChunkReader(bufio.NewReader(bytes.NewReader(in)), 150, func(n uint32) error {
		acks = append(acks, n)
		return nil
	})
	r.SetWindowAckSize(120)
	got, err := readAll(r, 0)
	require.NoError(t, err)
	require.Len(t, got, 5)
	// 250-0 > 120: ack, next from 120; 350-120 > 120: ack, from 240; 450-240; 550-360; 650-480.
	require.Equal(t, []uint32{250, 350, 450, 550, 650}, acks)

	acks = acks[:0]
	r = newChunkReader(bufio.NewReader(bytes.NewReader(in)), 0, func(n uint32) error {
		acks = append(acks, n)
		return nil
	})
	r.SetWindowAckSize(190)
	_, err = readAll(r, 0)
	require.NoError(t, err)
	// 200-0 > 190: ack, next from 190; 400-190 > 190: ack, from 380; 500-380 is not.
	require.Equal(t, []uint32{200, 400}, acks, "acks only after a window")

	fail := errors.New("write failed")
	r = newChunkReader(bufio.NewReader(bytes.NewReader(in)), 0, func(uint32) error { return fail })
	r.SetWindowAckSize(50)
	_, err = r.Read()
	require.ErrorIs(t, err, fail)
}

// TestChunkReaderMemory: buffers are bounded across chunk streams, and idle ones are freed
// rather than refusing a publisher that used many chunk streams one after another.
func TestChunkReaderMemory(t *testing.T) {
	big := seq(3 << 20)
	var in []byte
	for csid := uint32(3); csid < 13; csid++ { // 30 MiB of complete messages, one per stream
		in = append(in, chunk0(csid, 0, uint32(len(big)), 9, 1, big[:1<<20])...)
		for p := 1 << 20; p < len(big); p += 1 << 20 {
			in = append(in, chunk3(csid, nil, big[p:p+1<<20])...)
		}
	}
	r := newTestReader(chunk0(2, 0, 4, 1, 0, u32(1<<20)), 4096)
	_, err := readAll(r, 0)
	require.NoError(t, err)
	r.br.(*bufio.Reader).Reset(bytes.NewReader(in))
	got, err := readAll(r, 1)
	require.NoError(t, err)
	require.Len(t, got, 10)
	require.Equal(t, len(big), got[9].bodyN)
	require.LessOrEqual(t, r.held, maxPendingBytes)

	// Interleaved partial messages of 4 MiB on many streams: refused at the bound.
	in = in[:0]
	part := seq(4 << 20)
	for csid := uint32(3); csid < 12; csid++ {
		in = append(in, chunk0(csid, 0, 8<<20, 9, 1, part)...)
	}
	r = newTestReader(chunk0(2, 0, 4, 1, 0, u32(4<<20)), 4096)
	_, err = readAll(r, 0)
	require.NoError(t, err)
	r.br.(*bufio.Reader).Reset(bytes.NewReader(in))
	_, err = readAll(r, 1)
	require.ErrorIs(t, err, errTooMuchPending)
	require.LessOrEqual(t, r.held, maxPendingBytes)
}

// TestChunkReaderAllocs: no allocation per message once the buffers have grown, for
// messages in one chunk (a view into bufio's buffer) and spanning chunks.
func TestChunkReaderAllocs(t *testing.T) {
	for _, chunkSize := range []uint32{128, 4096, 65536} {
		in, n := encodeMedia(t, chunkSize)
		src := bytes.NewReader(in)
		r := newChunkReader(bufio.NewReaderSize(src, readBufSize), 0, func(uint32) error { return nil })
		r.SetWindowAckSize(1 << 20)
		replay := func() {
			src.Reset(in)
			r.br.(*bufio.Reader).Reset(src)
			for range n {
				m, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				if m.Type == 1 {
					_ = r.SetChunkSize(binary.BigEndian.Uint32(m.Body))
				}
			}
		}
		replay()
		require.Zero(t, testing.AllocsPerRun(20, replay), "chunk size %d", chunkSize)
	}
}

// BenchmarkChunkReader measures the reader alone on media messages (one op = one message).
func BenchmarkChunkReader(b *testing.B) {
	for _, chunkSize := range []uint32{128, 4096, 65536} {
		in, n := encodeMedia(b, chunkSize)
		b.Run("chunk"+strconv.Itoa(int(chunkSize)), func(b *testing.B) {
			src := bytes.NewReader(in)
			r := newChunkReader(bufio.NewReaderSize(src, readBufSize), 0, func(uint32) error { return nil })
			b.ReportAllocs()
			b.SetBytes(int64(len(in) / n))
			for i := 0; b.Loop(); i++ {
				if i%n == 0 {
					src.Reset(in)
					r.br.(*bufio.Reader).Reset(src)
				}
				m, err := r.Read()
				if err != nil {
					b.Fatal(err)
				}
				if m.Type == 1 {
					_ = r.SetChunkSize(binary.BigEndian.Uint32(m.Body))
				}
			}
		})
	}
}
