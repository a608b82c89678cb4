package rtmp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
)

// partialReader returns a reader on the budget that has read the start of an 8 MiB message on
// each of the chunk streams csids: part bytes of each, never finished.
func partialReader(t *testing.T, b *limit.Budget, part int, csids ...uint32) (*chunkReader, error) {
	t.Helper()
	in := chunk0(2, 0, 4, 1, 0, u32(uint32(part))) // Set Chunk Size: one chunk per part
	for _, csid := range csids {
		in = append(in, chunk0(csid, 0, 8<<20, 9, 1, seq(part))...)
	}
	r := newTestReader(in, 4096)
	r.budget = b
	_, err := readAll(r, 1)
	return r, err
}

// TestChunkReaderBudget: a reader's first freePendingBytes are free; beyond, the shared budget
// pays, and a reader that would exceed it fails with errPendingBudget while the others keep
// what they hold. Ending a connection gives its share back.
func TestChunkReaderBudget(t *testing.T) {
	b := limit.NewBudget(16 << 20)

	small, err := partialReader(t, b, 512<<10, 3) // an ordinary frame in flight
	require.NoError(t, err)
	require.Zero(t, b.Used(), "within the free allowance nothing is charged")
	require.Equal(t, 512<<10, small.held)

	// Buffers grow by doubling: 3 MiB received of a message is 4 MiB held.
	big, err := partialReader(t, b, 3<<20, 3, 4) // 8 MiB held: 7 MiB charged
	require.NoError(t, err)
	require.Equal(t, 8<<20, big.held)
	require.Equal(t, int64(big.held-freePendingBytes), b.Used())

	// Another reader holding 12 MiB would be charged 11 MiB: only 9 are left, so it fails
	// part-way, and the others keep what they hold.
	over, err := partialReader(t, b, 3<<20, 3, 4, 5)
	require.ErrorIs(t, err, errPendingBudget)
	require.LessOrEqual(t, b.Used(), int64(16<<20))
	over.releaseBudget() // its connection ends
	require.Equal(t, int64(8<<20-freePendingBytes), b.Used())

	big.releaseBudget()
	require.Zero(t, b.Used())
	r, err := partialReader(t, b, 3<<20, 3, 4, 5) // now it fits: 12 MiB held, 11 charged
	require.NoError(t, err)
	require.Equal(t, int64(r.held-freePendingBytes), b.Used())
	r.releaseBudget()
	small.releaseBudget()
	require.Zero(t, b.Used())
}

// TestChunkReaderBudgetRelease: completed large messages give their share back, so a publisher
// sending big messages one after the other is charged for one at a time.
func TestChunkReaderBudgetRelease(t *testing.T) {
	b := limit.NewBudget(10 << 20)
	big := seq(6 << 20) // over maxKeptMessageBuf: its buffer is dropped once complete
	in := chunk0(2, 0, 4, 1, 0, u32(1<<20))
	for range 4 { // 24 MiB in all, more than the budget; each message alone fits
		in = append(in, chunk0(3, 0, uint32(len(big)), 9, 1, big[:1<<20])...)
		for p := 1 << 20; p < len(big); p += 1 << 20 {
			in = append(in, chunk3(3, nil, big[p:p+1<<20])...)
		}
	}
	r := newTestReader(in, 4096)
	r.budget = b
	got, err := readAll(r, 1)
	require.NoError(t, err)
	require.Len(t, got, 5)
	require.Equal(t, len(big), got[4].bodyN)
	require.Zero(t, b.Used(), "nothing is held between the messages")
}

// TestChunkReaderBudgetAllocs: with a budget the steady state still allocates nothing.
func TestChunkReaderBudgetAllocs(t *testing.T) {
	b := limit.NewBudget(64 << 20)
	for _, chunkSize := range []uint32{128, 65536} {
		in, n := encodeMedia(t, chunkSize)
		src := bytes.NewReader(in)
		r := newChunkReader(bufio.NewReaderSize(src, readBufSize), 0, func(uint32) error { return nil })
		r.budget = b
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
		require.Zero(t, b.Used(), "ordinary media is within the free allowance")
		r.releaseBudget()
	}
}
