package rtmp

import (
	"errors"
	"fmt"

	"github.com/bluenviron/gortmplib/pkg/amf0"
)

// Bounds on AMF0 input. gortmplib's decoder recurses without a depth limit: a 10 MiB body of
// nested objects would need a stack of hundreds of MiB, and overflowing Go's stack limit kills
// the process (it cannot be recovered). Commands and metadata are small and flat.
const (
	maxAMFSize  = 256 << 10
	maxAMFDepth = 16
)

var errAMF = errors.New("malformed AMF0")

// decodeAMF0 validates the nesting depth of an AMF0 body, then decodes it with gortmplib.
func decodeAMF0(b []byte) (amf0.Data, error) {
	if len(b) > maxAMFSize {
		return nil, fmt.Errorf("%w: %d bytes", errAMF, len(b))
	}
	for rest := b; len(rest) > 0; {
		var err error
		if rest, err = skipAMF0(rest, 0); err != nil {
			return nil, err
		}
	}
	d, err := amf0.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errAMF, err)
	}
	return d, nil
}

// skipAMF0 walks one value the way gortmplib's decoder does, refusing deep nesting.
func skipAMF0(b []byte, depth int) ([]byte, error) {
	if depth > maxAMFDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errAMF, maxAMFDepth)
	}
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: truncated", errAMF)
	}
	marker, b := b[0], b[1:]
	need := func(n int) ([]byte, error) {
		if len(b) < n {
			return nil, fmt.Errorf("%w: truncated", errAMF)
		}
		return b[n:], nil
	}
	switch marker {
	case 0x00: // number
		return need(8)
	case 0x01: // boolean
		return need(1)
	case 0x02: // string
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: truncated", errAMF)
		}
		return need(2 + (int(b[0])<<8 | int(b[1])))
	case 0x05, 0x06: // null, undefined
		return b, nil
	case 0x08, 0x03: // ECMA array (with a count to ignore), object
		if marker == 0x08 {
			var err error
			if b, err = need(4); err != nil {
				return nil, err
			}
		}
		for {
			if len(b) < 2 {
				return nil, fmt.Errorf("%w: truncated", errAMF)
			}
			n := int(b[0])<<8 | int(b[1])
			b = b[2:]
			if n == 0 {
				break
			}
			if len(b) < n {
				return nil, fmt.Errorf("%w: truncated", errAMF)
			}
			var err error
			if b, err = skipAMF0(b[n:], depth+1); err != nil {
				return nil, err
			}
		}
		if len(b) < 1 || b[0] != 0x09 {
			return nil, fmt.Errorf("%w: object end not found", errAMF)
		}
		return b[1:], nil
	case 0x0a: // strict array
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated", errAMF)
		}
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		b = b[4:]
		for i := uint32(0); i < n; i++ {
			var err error
			if b, err = skipAMF0(b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: unsupported marker 0x%02x", errAMF, marker)
}

// amfObject returns a lookup over an AMF0 object or ECMA array.
func amfObject(v any) (func(string) (any, bool), bool) {
	switch o := v.(type) {
	case amf0.Object:
		return o.Get, true
	case amf0.ECMAArray:
		return amf0.Object(o).Get, true
	}
	return nil, false
}
