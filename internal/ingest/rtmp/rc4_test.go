package rtmp

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/handshake"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// TestEncryptedSession: after an RTMPE handshake the publisher's chunk stream is decrypted
// before the chunk reader parses it, and the server's replies are encrypted.
func TestEncryptedSession(t *testing.T) {
	small := testutil.RefOptions{Seconds: 1, Width: 64, Height: 64, FPS: 5, Bitrate: "50k", SampleHz: 8000}
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), small))
	prefix, body := encodeSession(t, tracks, units)
	e := startServer(t, nil)

	nc, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	keyIn, keyOut, err := handshake.DoClient(nc, true, false)
	require.NoError(t, err)
	rc, err := newRC4(nc, keyIn, keyOut)
	require.NoError(t, err)

	replies := make(chan []string, 1)
	go func() {
		var codes []string
		defer func() { replies <- codes }()
		mr := message.NewReader(rc, bytecounter.NewReader(rc), nil)
		for {
			m, rerr := mr.Read()
			if rerr != nil {
				return
			}
			if c, ok := m.(*message.CommandAMF0); ok && len(c.Arguments) > 0 {
				if get, ok := amfObject(c.Arguments[len(c.Arguments)-1]); ok {
					code, _ := get("code")
					codes = append(codes, c.Name+" "+code.(string))
				}
			}
		}
	}()
	_, err = rc.Write(bytes.Clone(append(prefix, body...))) // Write encrypts in place
	require.NoError(t, err)
	require.NoError(t, nc.(*net.TCPConn).CloseWrite())

	s := e.nextSink(t, 5*time.Second)
	s.waitEnd(t, 5*time.Second)
	require.Equal(t, len(units), s.count())
	require.Equal(t, []string{"_result NetConnection.Connect.Success", "onStatus NetStream.Publish.Start"}, <-replies)
}
