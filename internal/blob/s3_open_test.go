package blob_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
)

// TestS3OpenTimesOutOnASilentEndpoint: an endpoint that takes the request and never answers
// fails Open after the endpoint's Timeout, not never.
func TestS3OpenTimesOutOnASilentEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, acceptErr := ln.Accept()
			if acceptErr != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	s, err := blob.NewS3(blob.S3Config{Name: "silent", URL: "http://" + ln.Addr().String(), Region: "us-east-1",
		AccessKey: "a", SecretKey: "b", PathStyle: true, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	start := time.Now()
	rc, _, err := s.Open(t.Context(), "bucket", "a.ts")
	require.Error(t, err)
	require.Nil(t, rc)
	require.NotErrorIs(t, err, blob.ErrNotFound)
	require.Less(t, time.Since(start), 5*time.Second)
	require.True(t, s.Presigns(), "no public URL: URLs are presigned")
	pub, err := blob.NewS3(blob.S3Config{Name: "public", URL: "http://" + ln.Addr().String(), Region: "us-east-1",
		AccessKey: "a", SecretKey: "b", PathStyle: true, PublicURL: "https://media.example"})
	require.NoError(t, err)
	require.False(t, pub.Presigns())
}
