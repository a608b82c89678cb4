package blob

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
)

// Open streams bucket/key with one GET: the object is never buffered whole. The endpoint must
// answer within the endpoint's Timeout; reading the body is bounded by ctx only (a large
// object may take long), and closing the reader ends the request.
func (s *S3) Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	if err := s.check(bucket, key); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	// The timeout bounds the wait for the answer's head, not the body: AfterFunc cancels a
	// request still waiting; it is stopped once the body is ours.
	timer := time.AfterFunc(s.timeout, cancel)
	body, info, _, err := s.core.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if !timer.Stop() && err == nil {
		body.Close() // the timeout fired as the answer came: ctx is done, the body unusable
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		if codeOf(err) == minio.NoSuchKey {
			return nil, 0, fmt.Errorf("s3 get %s/%s: %w: %w", bucket, key, ErrNotFound, coded(err))
		}
		return nil, 0, fmt.Errorf("s3 get %s/%s: %w", bucket, key, coded(err))
	}
	return &cancelOnClose{ReadCloser: body, cancel: cancel}, info.Size, nil
}

// cancelOnClose releases the request's context with the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// Presigns tells whether the endpoint's URLs are presigned (no public URL): such URLs are
// valid for one object only, so a playlist's relative slice URIs do not work through them.
func (s *S3) Presigns() bool { return s.public == nil }
