package loadgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
	"github.com/stretchr/testify/require"
)

// TestAppendMessageDecodes: gortmplib's reader (the one liverec's ingest uses) reads back what
// appendMessage writes: bodies of one and several chunks, extended timestamps, interleaved
// chunk streams.
func TestAppendMessageDecodes(t *testing.T) {
	type msg struct {
		csid byte
		typ  uint8
		ts   uint32
		size int
	}
	msgs := []msg{
		{csidVideo, typeVideo, 0, 1},
		{csidAudio, typeAudio, 0, 300},
		{csidVideo, typeVideo, 33, chunkSize},
		{csidVideo, typeVideo, 66, chunkSize + 1},
		{csidAudio, typeAudio, 23, 5},
		{csidVideo, typeVideo, 100, 3*chunkSize + 17},
		{csidVideo, typeVideo, 0xFFFFFE, 10},
		{csidVideo, typeVideo, 0xFFFFFF, 2*chunkSize + 5},
		{csidAudio, typeAudio, 0x1000000, 7},
		{csidVideo, typeVideo, 0xFFFFFFFF, chunkSize + 3},
	}
	var b []byte
	for i, m := range msgs {
		body := bytes.Repeat([]byte{byte(i + 1)}, m.size)
		b = appendMessage(b, m.csid, m.typ, m.ts, streamID, body)
	}
	r := rawmessage.NewReader(bytes.NewReader(b), bytecounter.NewReader(bytes.NewReader(nil)), func(uint32) error { return nil })
	require.NoError(t, r.SetChunkSize(chunkSize))
	for i, m := range msgs {
		got, err := r.Read()
		require.NoError(t, err, "message %d", i)
		require.Equal(t, m.csid, got.ChunkStreamID, "message %d", i)
		require.Equal(t, m.typ, got.Type, "message %d", i)
		require.Equal(t, time.Duration(m.ts)*time.Millisecond, got.Timestamp, "message %d", i)
		require.Equal(t, uint32(0x1000000), got.MessageStreamID, "message %d: stream 1, little-endian on the wire", i)
		require.Equal(t, bytes.Repeat([]byte{byte(i + 1)}, m.size), got.Body, "message %d", i)
	}
}

func TestGoodbye(t *testing.T) {
	b := goodbye("s7")
	r := message.NewReader(bytes.NewReader(b), bytecounter.NewReader(bytes.NewReader(nil)), func(uint32) error { return nil })
	m, err := r.Read()
	require.NoError(t, err)
	require.Equal(t, &message.CommandAMF0{ChunkStreamID: csidCommand, Name: "FCUnpublish", CommandID: 6,
		Arguments: []any{nil, "s7"}}, m)
	m, err = r.Read()
	require.NoError(t, err)
	require.Equal(t, &message.CommandAMF0{ChunkStreamID: csidCommand, Name: "deleteStream", CommandID: 7,
		Arguments: []any{nil, float64(1)}}, m)
}

func TestAppendMessageNoAllocs(t *testing.T) {
	body := make([]byte, 3*chunkSize)
	buf := make([]byte, 0, 4*chunkSize)
	allocs := testing.AllocsPerRun(100, func() {
		buf = appendMessage(buf[:0], csidVideo, typeVideo, 0x1000000, streamID, body)
	})
	require.Zero(t, allocs)
}
