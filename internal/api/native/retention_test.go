package native

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func TestLockAndRetentionPreview(t *testing.T) {
	t.Parallel()
	c := serveCatalog(t, catalogWithRecordings())
	before := decode[retentionPreview](t, c.json("A", http.MethodGet, "/api/v1/retention/preview", ""), http.StatusOK)

	rec := decode[recording.Recording](t, c.json("A", http.MethodPost, "/api/v1/recordings/rc_a1/lock", ""), http.StatusOK)
	require.True(t, rec.Locked)
	require.Equal(t, "rc_a1", rec.ID)
	locked := decode[retentionPreview](t, c.json("A", http.MethodGet, "/api/v1/retention/preview", ""), http.StatusOK)
	for _, d := range locked.Files {
		require.NotEqual(t, "rc_a1", d.RecordingID, "a locked recording is not due")
	}

	rec = decode[recording.Recording](t, c.json("A", http.MethodDelete, "/api/v1/recordings/rc_a1/lock", ""), http.StatusOK)
	require.False(t, rec.Locked)
	after := decode[retentionPreview](t, c.json("A", http.MethodGet, "/api/v1/retention/preview", ""), http.StatusOK)
	require.Equal(t, before, after)

	c.json("B", http.MethodPost, "/api/v1/recordings/rc_a1/lock", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodPut, "/api/v1/recordings/rc_a1/lock", "").requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
	require.Contains(t, string(c.json("B", http.MethodGet, "/api/v1/retention/preview", "").body), `"files":[]`)
}
