package app

import (
	"context"
	"io"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// objects gives the service layer the storage endpoints' objects (indexes, clips, deletions,
// playable URLs), by endpoint name or alias.
type objects struct{ a *App }

var _ service.Objects = objects{}

func (o objects) PutBytes(ctx context.Context, endpoint, bucket, key string, data []byte) (string, error) {
	st, err := o.a.endpoint(endpoint)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	return st.PutBytes(ctx, bucket, key, data)
}

// PutFile has no deadline of its own: a clip may be large, and the request's context bounds it.
func (o objects) PutFile(ctx context.Context, endpoint, bucket, key, path string) (string, error) {
	st, err := o.a.endpoint(endpoint)
	if err != nil {
		return "", err
	}
	return st.Put(ctx, bucket, key, path)
}

func (o objects) Delete(ctx context.Context, endpoint, bucket, key string) error {
	st, err := o.a.endpoint(endpoint)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	return st.Delete(ctx, bucket, key)
}

func (o objects) Open(ctx context.Context, endpoint, bucket, key string) (io.ReadCloser, error) {
	st, err := o.a.endpoint(endpoint)
	if err != nil {
		return nil, err
	}
	rc, _, err := st.Open(ctx, bucket, key)
	return rc, err
}

func (o objects) URL(ctx context.Context, endpoint, bucket, key string) string {
	return o.a.downloadURL(ctx, endpoint, bucket, key)
}

func (o objects) Resolve(name string) (string, bool) { return o.a.endpointName(name) }

// clipStored hands a stored clip to the events component.
func (a *App) clipStored(ctx context.Context, rec *recording.Recording, f *recording.File) error {
	return a.events.ClipStored(ctx, rec, f)
}
