package rtmp

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// netIO serves the chunk reader as bufio.Reader does, whatever the read rounds cut: media
// written in random pieces with random gaps over a real socket parses to the same messages.
// Between rounds the connection holds no read buffer, only the bytes of a chunk header.
func TestNetIOParsesAsBufioAndHoldsNoBufferWhilePausing(t *testing.T) {
	for _, chunkSize := range []uint32{128, 4096, 65536} {
		in, _ := encodeMedia(t, chunkSize)
		want, err := readAll(newChunkReader(bufio.NewReaderSize(bytes.NewReader(in), readBufSize), 0, func(uint32) error { return nil }), 0)
		require.NoError(t, err)

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			c, derr := net.Dial("tcp", ln.Addr().String())
			if derr != nil {
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(chunkSize), 7))
			for rest := in; len(rest) > 0; {
				k := min(len(rest), 1+rng.IntN(30000))
				if _, werr := c.Write(rest[:k]); werr != nil {
					return
				}
				rest = rest[k:]
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			}
		}()
		sc, err := ln.Accept()
		require.NoError(t, err)
		n := newNetIO(sc, nil, 0)
		var pauses, held, maxCarry int
		n.sleep = func(d time.Duration) {
			pauses++
			if n.buf != nil {
				held++
			}
			maxCarry = max(maxCarry, n.w-n.r)
			n.sleepToPhase(d, 0)
		}
		require.NoError(t, n.startPublishing(5*time.Second, 2*time.Millisecond))
		got, err := readAll(newChunkReader(n, 0, func(uint32) error { return nil }), 0)
		require.NoError(t, err)
		require.Equal(t, want, got, "chunk size %d", chunkSize)
		n.release()
		sc.Close()
		t.Logf("chunk size %d: %d bytes, %d pauses, largest carry %d", chunkSize, len(in), pauses, maxCarry)
		require.Greater(t, pauses, 5, "the writer's gaps must make read rounds")
		require.Zero(t, held, "a read buffer was held through a pause")
		require.LessOrEqual(t, maxCarry, 3+11+4, "more than an unfinished chunk header was kept")
	}
}
