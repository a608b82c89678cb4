package aliyun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// catalogActions are the content, index and live-stream actions, fuzzed together.
var catalogActions = []string{"DescribeLiveStreamRecordContent", "CreateLiveStreamRecordIndexFiles",
	"DescribeLiveStreamRecordIndexFiles", "DescribeLiveStreamRecordIndexFile", "DeleteLiveStreamRecordIndexFiles",
	"DescribeLiveStreamsOnlineList", "DescribeLiveStreamsPublishList", "DescribeLiveStreamState", "ForbidLiveStream",
	"ResumeLiveStream", "DescribeLiveStreamsBlockList"}

// nopCatalog owns every domain and has one of everything.
type nopCatalog struct{ Service }

func (nopCatalog) CheckDomain(context.Context, service.Principal, string) error { return nil }

func (nopCatalog) RecordContents(context.Context, service.Principal, service.ContentQuery) ([]service.FileView, int, error) {
	return []service.FileView{{File: recording.File{ObjectKey: "k"}}}, 1, nil
}

func (nopCatalog) CreateIndex(_ context.Context, _ service.Principal, r service.IndexRequest) (*service.IndexView, error) {
	return &service.IndexView{RecordIndex: recording.RecordIndex{ID: "idx_1", Domain: r.Domain, StartedAt: r.From, EndedAt: r.To}}, nil
}

func (nopCatalog) ListIndexes(context.Context, service.Principal, service.IndexQuery) ([]service.IndexView, int, error) {
	return []service.IndexView{{}}, 1, nil
}

func (nopCatalog) GetIndex(context.Context, service.Principal, string, string, string, string) (*service.IndexView, error) {
	return &service.IndexView{}, nil
}

func (nopCatalog) DeleteIndex(context.Context, service.Principal, string, string, string, string, bool) error {
	return recording.ErrConflict
}

func (nopCatalog) ListLiveStreams(context.Context, service.Principal, service.LiveFilter) ([]recording.LiveStream, error) {
	return []recording.LiveStream{{Domain: "d", App: "a", Stream: "s", ClientAddr: "x"}}, nil
}

func (nopCatalog) StreamState(context.Context, service.Principal, string, string, string) (*recording.LiveStream, error) {
	return nil, recording.ErrNotLive
}

func (nopCatalog) ListPublishes(context.Context, service.Principal, store.PublishFilter) ([]recording.Publish, int, error) {
	return []recording.Publish{{Stream: "s"}}, 1, nil
}

func (nopCatalog) KickStream(context.Context, service.Principal, string, string, string) error {
	return recording.ErrNotLive
}

func (nopCatalog) ForbidStream(context.Context, service.Principal, recording.StreamBlock) (bool, error) {
	return false, nil
}

func (nopCatalog) ResumeStream(context.Context, service.Principal, string, string, string) error {
	return recording.ErrNotFound
}

func (nopCatalog) ListBlocks(context.Context, service.Principal, store.BlockFilter) ([]recording.StreamBlock, int, error) {
	return []recording.StreamBlock{{}}, 1, nil
}

// FuzzCatalogParams feeds arbitrary parameters to every content, index and live-stream action:
// each answers a document or an Alibaba client error (4xx), never a 5xx nor a panic.
func FuzzCatalogParams(f *testing.F) {
	f.Add(uint8(0), "DomainName=a.com&AppName=live&StreamName=s&StartTime=2026-01-02T03:04:05Z&EndTime=2026-01-02T04:04:05Z")
	f.Add(uint8(1), "DomainName=a.com&AppName=live&StreamName=s&OssEndpoint=e&OssBucket=b&OssObject={AppName}.m3u8"+
		"&StartTime=2026-01-02T03:04:05Z&EndTime=2026-01-02T03:04:25Z&EndTimeIncluded=true")
	f.Add(uint8(4), "DomainName=a.com&AppName=live&StreamName=s&RecordId.1=idx_1&RecordId.2=f_2&RemoveFile=false")
	f.Add(uint8(5), "DomainName=a.com&StreamName=s&QueryType=strict&PageSize=1&PageNum=9&OnlyStream=yes")
	f.Add(uint8(8), "DomainName=a.com&AppName=live&StreamName=s&LiveStreamType=publisher&Oneshot=yes")
	f.Fuzz(func(t *testing.T, action uint8, rawQuery string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = rawQuery
		q, err := readParams(httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			return
		}
		h := NewHandler(nopCatalog{}, Config{}).(*handler)
		act := h.actions[catalogActions[int(action)%len(catalogActions)]]
		resp, err := act(t.Context(), service.Principal{Project: "p1"}, q)
		if err != nil {
			e, ok := toAPIError(err, errDomain)
			require.True(t, ok, "%T %v", err, err)
			require.GreaterOrEqual(t, e.status, 400)
			require.Less(t, e.status, 500, "%v", e)
			return
		}
		require.NotNil(t, resp)
	})
}
