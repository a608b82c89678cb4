package native

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// failingService authenticates every token as the project it names ("down" fails like a dead
// database) and fails every other call with an error the API must not show.
type failingService struct{}

var errSecret = errors.New("disk I/O error at /secret/path")

func (failingService) Authenticate(_ context.Context, token string) (service.Principal, error) {
	if token == "down" {
		return service.Principal{}, errSecret
	}
	return service.Principal{Project: token}, nil
}

func (failingService) KeySecret(context.Context, string) (*recording.AccessKey, string, error) {
	return nil, "", errSecret
}

func (failingService) CreateRule(context.Context, service.Principal, *recording.Rule) error {
	return errSecret
}

func (failingService) UpdateRule(context.Context, service.Principal, *recording.Rule) error {
	return errSecret
}
func (failingService) DeleteRule(context.Context, service.Principal, string) error { return errSecret }
func (failingService) GetRule(context.Context, service.Principal, string) (*recording.Rule, error) {
	return nil, errSecret
}

func (failingService) ListRules(context.Context, service.Principal, store.RuleFilter) ([]recording.Rule, int, error) {
	return nil, 0, errSecret
}

func (failingService) CreateCallback(context.Context, service.Principal, *recording.CallbackConfig) error {
	return errSecret
}

func (failingService) UpdateCallback(context.Context, service.Principal, *recording.CallbackConfig) error {
	return errSecret
}

func (failingService) DeleteCallback(context.Context, service.Principal, string) error {
	return errSecret
}

func (failingService) GetCallback(context.Context, service.Principal, string) (*recording.CallbackConfig, error) {
	return nil, errSecret
}

func (failingService) ListCallbacks(context.Context, service.Principal, store.CallbackFilter) ([]recording.CallbackConfig, int, error) {
	return nil, 0, errSecret
}

func (failingService) CreateAccessKey(context.Context, service.Principal, string, bool, string) (*recording.AccessKey, string, error) {
	return nil, "", errSecret
}

func (failingService) ListAccessKeys(context.Context, service.Principal, string) ([]recording.AccessKey, error) {
	return nil, errSecret
}

func (failingService) RevokeAccessKey(context.Context, service.Principal, string, string) error {
	return errSecret
}

func (failingService) CreateToken(context.Context, service.Principal, time.Duration) (string, *recording.Token, error) {
	return "", nil, errSecret
}
func (failingService) DeleteToken(context.Context, service.Principal, string, string) error {
	return errSecret
}

func (failingService) ListTokens(context.Context, service.Principal, string) ([]recording.Token, error) {
	return nil, errSecret
}

func (failingService) SetAccessKeyDisabled(context.Context, service.Principal, string, string, bool) error {
	return errSecret
}
func (failingService) ListDomains(context.Context, service.Principal) ([]recording.DomainClaim, error) {
	return nil, errSecret
}

func (failingService) AssignDomain(context.Context, service.Principal, string, string) error {
	return errSecret
}

func (failingService) ListDeliveries(context.Context, service.Principal, store.DeliveryFilter) ([]recording.Delivery, int, error) {
	return nil, 0, errSecret
}

func (failingService) GetDelivery(context.Context, service.Principal, string) (*recording.Delivery, error) {
	return nil, errSecret
}

func (failingService) DeliveryAttempts(context.Context, service.Principal, string) ([]recording.Attempt, error) {
	return nil, errSecret
}
func (failingService) Redeliver(context.Context, service.Principal, string) error { return errSecret }

func (failingService) ListNodes(context.Context, service.Principal) ([]store.Node, error) {
	return nil, errSecret
}

func (failingService) ListLiveStreams(context.Context, service.Principal, service.LiveFilter) ([]recording.LiveStream, error) {
	return nil, errSecret
}

func (failingService) StreamState(context.Context, service.Principal, string, string, string) (*recording.LiveStream, error) {
	return nil, errSecret
}

func (failingService) KickStream(context.Context, service.Principal, string, string, string) error {
	return errSecret
}

func (failingService) ListPublishes(context.Context, service.Principal, store.PublishFilter) ([]recording.Publish, int, error) {
	return nil, 0, errSecret
}

func (failingService) ForbidStream(context.Context, service.Principal, recording.StreamBlock) (bool, error) {
	return false, errSecret
}

func (failingService) ResumeStream(context.Context, service.Principal, string, string, string) error {
	return errSecret
}

func (failingService) GetBlock(context.Context, service.Principal, string, string, string) (*recording.StreamBlock, error) {
	return nil, errSecret
}

func (failingService) ListBlocks(context.Context, service.Principal, store.BlockFilter) ([]recording.StreamBlock, int, error) {
	return nil, 0, errSecret
}

func (failingService) ListRecordings(context.Context, service.Principal, store.RecordingFilter) ([]recording.Recording, int, string, error) {
	return nil, 0, "", errSecret
}

func (failingService) GetRecording(context.Context, service.Principal, string) (*service.RecordingDetail, error) {
	return nil, errSecret
}

func (failingService) ListFiles(context.Context, service.Principal, store.FileFilter) ([]service.FileView, int, string, error) {
	return nil, 0, "", errSecret
}

func (failingService) DeleteRecordingFiles(context.Context, service.Principal, string) (int, error) {
	return 0, errSecret
}

func (failingService) LockRecording(context.Context, service.Principal, string, bool) (*recording.Recording, error) {
	return nil, errSecret
}

func (failingService) RetentionPreview(context.Context, service.Principal) ([]retention.Due, error) {
	return nil, errSecret
}

func (failingService) CreateIndex(context.Context, service.Principal, service.IndexRequest) (*service.IndexView, error) {
	return nil, errSecret
}

func (failingService) ListIndexes(context.Context, service.Principal, service.IndexQuery) ([]service.IndexView, int, error) {
	return nil, 0, errSecret
}

func (failingService) GetIndex(context.Context, service.Principal, string, string, string, string) (*service.IndexView, error) {
	return nil, errSecret
}

func (failingService) DeleteIndex(context.Context, service.Principal, string, string, string, string, bool) error {
	return errSecret
}

func (failingService) CreateClip(context.Context, service.Principal, service.ClipRequest) (*service.FileView, error) {
	return nil, errSecret
}
func (failingService) CreateEvent(context.Context, service.Principal, service.EventRequest) (*service.EventView, error) {
	return nil, errSecret
}

func (failingService) CreatePlanTask(context.Context, service.Principal, *recording.PlanTask) error {
	return errSecret
}

func (failingService) ListPlanTasks(context.Context, service.Principal, store.TaskFilter) ([]recording.PlanTask, int, error) {
	return nil, 0, errSecret
}

func (failingService) StopPlanTask(context.Context, service.Principal, string) error {
	return errSecret
}

// validBodies are bodies each write route accepts, so a request reaches the service.
func validBody(pattern string) string {
	switch {
	case strings.HasSuffix(pattern, "/publish-auth"):
		return `{"method":"none"}`
	case pattern == "/api/v1/publish-auth/check":
		return `{"domain":"a.com","url":"rtmp://a.com/live/s"}`
	case pattern == "/api/v1/publish-auth/sign":
		return `{"domain":"a.com","app":"live","stream":"s"}`
	case strings.HasSuffix(pattern, "/events"):
		return `{"post_s":5}`
	case strings.HasSuffix(pattern, "/test"):
		return `{"event":"file_completed"}`
	case strings.HasPrefix(pattern, "/api/v1/rules"):
		return minimalRule
	case strings.HasPrefix(pattern, "/api/v1/callbacks"):
		return `{"domain":"a.com","url":"https://hooks.example/liverec"}`
	case strings.HasPrefix(pattern, "/api/v1/domains"):
		return `{"project":"p2"}`
	case strings.HasPrefix(pattern, "/api/v1/access-keys/"):
		return `{"enabled":false}`
	case pattern == "/api/v1/indexes", pattern == "/api/v1/clips":
		return `{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:10:00Z"}`
	case pattern == "/api/v1/plan-tasks":
		return `{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T13:00:00Z"}`
	}
	return ""
}

// concrete fills a route pattern's wildcards, and the query parameters a route requires.
func concrete(pattern string) string {
	if pattern == "/api/v1/publishes" {
		return pattern + "?domain=a.com"
	}
	return strings.NewReplacer("{id}", "x_1", "{domain}", "a.com", "{app}", "live", "{stream}", "s").Replace(pattern)
}

func TestEveryRouteHidesServiceFailures(t *testing.T) {
	t.Parallel()
	c := serve(t, failingService{}, &clock{}, func(p service.Principal) string { return p.Project })
	for _, rt := range routes() {
		name := rt.method + " " + rt.pattern
		// whoami answers from the credentials alone, a preview only renders and a callback key
		// is only generated: none can fail in the service.
		if rt.open != nil || name == "GET /api/v1/whoami" || name == "POST /api/v1/rules/preview" ||
			name == "POST /api/v1/callback-keys" {
			continue
		}
		r := c.json("p1", rt.method, concrete(rt.pattern), validBody(rt.pattern))
		r.requireError(t, http.StatusInternalServerError, codeInternal, "")
		require.NotContains(t, string(r.body), "secret", name)
	}
	// A failing credential lookup is the server's fault, not a 401.
	c.send(bearer("down"), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusInternalServerError, codeInternal, "")
	c.send(basicAuth("LRKEY", "s"), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusInternalServerError, codeInternal, "")
	require.Contains(t, c.logs.String(), "disk I/O error", "internal errors are logged")
	require.Contains(t, c.logs.String(), "elapsed=")
}
