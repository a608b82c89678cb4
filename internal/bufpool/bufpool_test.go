package bufpool

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSizes: buffers come in power-of-two classes up to the largest pooled one; past
// that they have the size asked for and do not go back to the pool.
func TestSizes(t *testing.T) {
	for _, n := range []int{0, 1, 256, 257, 8000, 64000, 1 << MaxShift} {
		p := Get(n)
		require.Empty(t, p.B)
		require.GreaterOrEqual(t, cap(p.B), max(n, 1<<MinShift))
		require.Less(t, cap(p.B), max(2*n, 1<<MinShift+1), "size %d", n)
		Put(p)
	}
	big := Get(1<<MaxShift + 1)
	require.Equal(t, 1<<MaxShift+1, cap(big.B))
	Put(big)
	require.Equal(t, 1<<MaxShift, cap(Get(1<<MaxShift).B), "the oversized buffer was not pooled")
}
