package compat

import (
	"net/http"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/stretchr/testify/require"
)

// TestAliyunProjectIsolation: through the Alibaba façade, project B cannot list, read,
// change or delete project A's record and notify configs, and cannot learn that A's domain
// exists.
func TestAliyunProjectIsolation(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	a := aliyunClient(t, s, keyA, secretA, nil)
	_, err := a.AddLiveAppRecordConfig(addRecordConfig("a.example.com", "live",
		live.AddLiveAppRecordConfigRecordFormat{Format: "flv", CycleDuration: "3600"}))
	require.NoError(t, err)
	n := live.CreateAddLiveRecordNotifyConfigRequest()
	n.DomainName, n.NotifyUrl = "a.example.com", "http://127.0.0.1:9/hook"
	_, err = a.AddLiveRecordNotifyConfig(n)
	require.NoError(t, err)

	idB, secretB := newProjectKey(t, s, "1b2c3d4e5f6a4b5c8d9e0f1a2b3c4d5e")
	b := aliyunClient(t, s, idB, secretB, nil)
	const notFound = "InvalidDomain.NotFound"

	d := live.CreateDescribeLiveRecordConfigRequest()
	d.DomainName = "a.example.com"
	_, err = b.DescribeLiveRecordConfig(d)
	requireServerError(t, err, http.StatusNotFound, notFound)

	u := live.CreateUpdateLiveAppRecordConfigRequest()
	u.DomainName, u.AppName, u.OssEndpoint = "a.example.com", "live", "oss-cn-shanghai.aliyuncs.com"
	_, err = b.UpdateLiveAppRecordConfig(u)
	requireServerError(t, err, http.StatusNotFound, notFound)

	del := live.CreateDeleteLiveAppRecordConfigRequest()
	del.DomainName, del.AppName = "a.example.com", "live"
	_, err = b.DeleteLiveAppRecordConfig(del)
	requireServerError(t, err, http.StatusNotFound, notFound)

	_, err = b.AddLiveAppRecordConfig(addRecordConfig("a.example.com", "other",
		live.AddLiveAppRecordConfigRecordFormat{Format: "flv", CycleDuration: "3600"}))
	requireServerError(t, err, http.StatusNotFound, notFound)

	dn := live.CreateDescribeLiveRecordNotifyConfigRequest()
	dn.DomainName = "a.example.com"
	_, err = b.DescribeLiveRecordNotifyConfig(dn)
	requireServerError(t, err, http.StatusNotFound, notFound)

	un := live.CreateUpdateLiveRecordNotifyConfigRequest()
	un.DomainName, un.NotifyUrl = "a.example.com", "http://127.0.0.1:9/evil"
	_, err = b.UpdateLiveRecordNotifyConfig(un)
	requireServerError(t, err, http.StatusNotFound, notFound)

	dd := live.CreateDeleteLiveRecordNotifyConfigRequest()
	dd.DomainName = "a.example.com"
	_, err = b.DeleteLiveRecordNotifyConfig(dd)
	requireServerError(t, err, http.StatusNotFound, notFound)

	// The same answer as for a domain nobody has: B learns nothing.
	d.DomainName = "nobody.example.com"
	_, err = b.DescribeLiveRecordConfig(d)
	requireServerError(t, err, http.StatusNotFound, notFound)

	// A's configs are untouched.
	got := describeRecordConfigs(t, a, "a.example.com")
	require.Len(t, got.LiveAppRecordList.LiveAppRecord, 1)
	dn.DomainName = "a.example.com"
	nc, err := a.DescribeLiveRecordNotifyConfig(dn)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9/hook", nc.LiveRecordNotifyConfig.NotifyUrl)
}
