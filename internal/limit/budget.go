package limit

import "sync/atomic"

// Budget is a number of bytes shared by many holders (the RTMP connections' unfinished
// messages): a holder acquires before it allocates and releases what it frees, so the holders
// together never exceed the budget. A nil *Budget is unlimited.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) *Budget { return &Budget{max: size} }

// Acquire takes n bytes, or nothing and false when they would exceed the budget.
func (b *Budget) Acquire(n int64) bool {
	if b == nil {
		return true
	}
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with Acquire.
func (b *Budget) Release(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// Used returns the bytes taken now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Max returns the budget's size.
func (b *Budget) Max() int64 {
	if b == nil {
		return 0
	}
	return b.max
}
