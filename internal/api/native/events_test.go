package native

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/service"
)

func TestCreateEvent(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)
	path := "/api/v1/streams/a.com/live/s/events"

	r := c.json("A", http.MethodPost, path, `{"pre_s":10,"post_s":5,"label":"goal"}`)
	v := decode[service.EventView](t, r, http.StatusAccepted)
	require.Equal(t, "rec_event", v.RecordingID)
	require.Equal(t, "/api/v1/recordings/rec_event", r.header.Get("Location"))
	require.Equal(t, service.EventRequest{Domain: "a.com", App: "live", Stream: "s", PreS: 10, PostS: 5, Label: "goal",
		Merge: true}, f.eventReq, "merge defaults to true")

	decode[service.EventView](t, c.json("A", http.MethodPost, path, `{"post_s":5,"merge":false}`), http.StatusAccepted)
	require.False(t, f.eventReq.Merge)

	c.json("A", http.MethodPost, path, `{"post_s":5,"pre":3}`).requireError(t, http.StatusBadRequest, codeInvalidArgument, "pre")
	c.json("B", http.MethodPost, path, `{"post_s":5}`).requireError(t, http.StatusNotFound, codeNotFound, "")
}
