package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func exercisePublishAuth(t *testing.T, newStore func(t *testing.T) store.PublishAuthStore) {
	t.Run("PutGetRoundTrips", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		_, err := s.PublishAuthGet(ctx, "a.com")
		require.ErrorIs(t, err, recording.ErrNotFound)

		a := &store.PublishAuth{Domain: "A.com", Project: "p1", Method: pubauth.MethodAliyunA,
			KeySealed: []byte{1, 2, 3}, BackupKeySealed: []byte{4, 5}, Validity: 1800 * time.Second,
			Args: []pubauth.Arg{{Name: "z_last", Value: "1"}, {Name: "a_first", Value: ""}}}
		require.NoError(t, s.PublishAuthPut(ctx, a))
		require.Equal(t, "a.com", a.Domain, "domains are stored lower-case")
		require.Positive(t, a.ConfigID)
		require.False(t, a.CreatedAt.IsZero())
		require.Equal(t, a.CreatedAt, a.UpdatedAt)

		got, err := s.PublishAuthGet(ctx, "A.COM")
		require.NoError(t, err)
		require.Equal(t, a, got, "what Put leaves in a is what Get returns; args keep their order")

		w := &store.PublishAuth{Domain: "*", Project: "admin", Method: pubauth.MethodWebhook,
			WebhookURL: "https://auth.example.com/publish", WebhookTimeout: 1500 * time.Millisecond}
		require.NoError(t, s.PublishAuthPut(ctx, w))
		require.NotEqual(t, a.ConfigID, w.ConfigID)
		got, err = s.PublishAuthGet(ctx, "*")
		require.NoError(t, err)
		require.Equal(t, w, got)
		require.Nil(t, got.KeySealed, "no key reads back as nil")
		require.Nil(t, got.Args, "no args read back as nil")
	})

	t.Run("PutReplacesAndKeepsTheConfigID", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		first := &store.PublishAuth{Domain: "a.com", Project: "p1", Method: pubauth.MethodAliyunA,
			KeySealed: []byte("k1"), BackupKeySealed: []byte("k2"), Validity: time.Hour,
			Args: []pubauth.Arg{{Name: "x", Value: "y"}}}
		require.NoError(t, s.PublishAuthPut(ctx, first))
		second := &store.PublishAuth{Domain: "a.com", Project: "p2", Method: pubauth.MethodHuaweiD,
			KeySealed: []byte("k3"), Validity: 60 * time.Second}
		require.NoError(t, s.PublishAuthPut(ctx, second))
		require.Equal(t, first.ConfigID, second.ConfigID)
		require.Equal(t, first.CreatedAt, second.CreatedAt)
		require.False(t, second.UpdatedAt.Before(first.UpdatedAt))

		got, err := s.PublishAuthGet(ctx, "a.com")
		require.NoError(t, err)
		require.Equal(t, second, got)
		require.Nil(t, got.BackupKeySealed, "a replaced configuration keeps nothing of the old one")
		require.Nil(t, got.Args)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.ErrorIs(t, s.PublishAuthDelete(ctx, "a.com"), recording.ErrNotFound)
		a := &store.PublishAuth{Domain: "a.com", Project: "p1", Method: pubauth.MethodNone}
		require.NoError(t, s.PublishAuthPut(ctx, a))
		b := &store.PublishAuth{Domain: "b.com", Project: "p1", Method: pubauth.MethodNone}
		require.NoError(t, s.PublishAuthPut(ctx, b))

		require.NoError(t, s.PublishAuthDelete(ctx, "A.COM"))
		_, err := s.PublishAuthGet(ctx, "a.com")
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.PublishAuthGet(ctx, "b.com")
		require.NoError(t, err, "other domains stay")
		require.ErrorIs(t, s.PublishAuthDelete(ctx, "a.com"), recording.ErrNotFound)

		again := &store.PublishAuth{Domain: "a.com", Project: "p1", Method: pubauth.MethodNone}
		require.NoError(t, s.PublishAuthPut(ctx, again))
		require.NotEqual(t, a.ConfigID, again.ConfigID, "a deleted configuration's id is not reused")
	})
}
