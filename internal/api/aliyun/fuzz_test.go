package aliyun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// FuzzRPCSignature feeds arbitrary request parameters to the RPC signature (v1): the string to
// sign is exactly the one the SDK builds (canonicalize, written after the SDK's code), so what
// the SDK signs verifies and any other parameter value does not; popEncode decodes back to its
// input; readParams keeps one of the values sent for each name.
func FuzzRPCSignature(f *testing.F) {
	f.Add("Action=DescribeLiveRecordConfig&DomainName=a.com&SignatureNonce=1&Timestamp=2026-01-02T03%3A04%3A05Z", "secret", true)
	f.Add("a=%20+*~%7E&b=%E4%BD%A0&c=&c=&Signature=x", "", false)
	f.Fuzz(func(t *testing.T, rawQuery, secret string, post bool) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, "/", nil)
		r.URL.RawQuery = rawQuery
		q, err := readParams(httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			return
		}
		sent, err := url.ParseQuery(rawQuery)
		require.NoError(t, err)
		v := url.Values{}
		for k, val := range q {
			require.Contains(t, sent[k], val)
			v.Set(k, val)
			require.Equal(t, k, mustUnescape(t, popEncode(k)))
			require.Equal(t, val, mustUnescape(t, popEncode(val)))
		}
		toSign := stringToSign(method, q)
		require.Equal(t, testStringToSign(method, v), toSign)
		sig := testSign(secret, toSign)
		require.True(t, signatureMatches(sig, sign(secret, toSign)))
		for k := range q {
			if k == paramSignature {
				continue
			}
			tampered := maps(q)
			tampered[k] += "x"
			require.False(t, signatureMatches(sig, sign(secret, stringToSign(method, tampered))), "changing %q keeps the signature", k)
		}
	})
}

func mustUnescape(t *testing.T, s string) string {
	u, err := url.PathUnescape(s)
	require.NoError(t, err)
	return u
}

func maps(q params) params {
	c := make(params, len(q))
	for k, v := range q {
		c[k] = v
	}
	return c
}

// ruleSink is the service as the façade's rule actions see it: CreateRule normalises and
// validates as the service does (prepareRule) and keeps the rule. Nothing else is called.
type ruleSink struct {
	Service
	got *recording.Rule
}

func (s *ruleSink) CreateRule(_ context.Context, p service.Principal, r *recording.Rule) error {
	r.Project = p.Project
	r.Normalize()
	if err := r.Validate(); err != nil {
		return err
	}
	c := *r
	c.Formats = slices.Clone(r.Formats)
	s.got = &c
	return nil
}

// paramsOf writes a described rule back as AddLiveAppRecordConfig parameters.
func paramsOf(a liveAppRecord) params {
	q := params{"DomainName": a.DomainName, "AppName": a.AppName, "StreamName": a.StreamName, "OssEndpoint": a.OssEndpoint,
		"OssBucket": a.OssBucket, "OnDemand": strconv.Itoa(a.OnDemond), "DelayTime": strconv.Itoa(a.DelayTime),
		"StartTime": a.StartTime, "EndTime": a.EndTime}
	for i, f := range a.RecordFormatList.RecordFormat {
		n := "RecordFormat." + strconv.Itoa(i+1) + "."
		q[n+fieldFormat], q[n+fieldObject], q[n+fieldSliceObject] = f.Format, f.OssObjectPrefix, f.SliceOssObjectPrefix
		q[n+fieldCycle], q[n+fieldSlice] = strconv.Itoa(f.CycleDuration), strconv.Itoa(f.SliceDuration)
	}
	for k, v := range q {
		if v == "" {
			delete(q, k)
		}
	}
	return q
}

// FuzzRecordConfigParams feeds arbitrary AddLiveAppRecordConfig parameters through the façade
// and the service's validation: a refusal is an Alibaba client error (4xx, never a 500), and an
// accepted rule is valid, Alibaba's, and describes (DescribeLiveRecordConfig) into parameters
// that add the same rule again.
func FuzzRecordConfigParams(f *testing.F) {
	f.Add("DomainName=a.com&AppName=live&OssEndpoint=oss-cn-shanghai.aliyuncs.com&OssBucket=b&RecordFormat.1.Format=m3u8" +
		"&RecordFormat.1.OssObjectPrefix=record/{AppName}/{StreamName}/{StartTime}_{EndTime}" +
		"&RecordFormat.1.SliceOssObjectPrefix=record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}&RecordFormat.1.CycleDuration=900")
	f.Add("DomainName=A.com&AppName=live&StreamName=s&OssEndpoint=e&OssBucket=b&RecordFormat.2.Format=flv&RecordFormat.1.Format=MP4" +
		"&StartTime=2026-01-02T03:04:05Z&EndTime=2026-02-02T03:04:05Z&DelayTime=15&OnDemand=0")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = rawQuery
		q, err := readParams(httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			return
		}
		svc := &ruleSink{}
		h := NewHandler(svc, Config{}).(*handler)
		p := service.Principal{Project: "p1"}
		if _, err = h.addRecordConfig(t.Context(), p, q); err != nil {
			e, ok := toAPIError(err, errDomain)
			require.True(t, ok, "%T %v", err, err)
			require.GreaterOrEqual(t, e.status, 400)
			require.Less(t, e.status, 500)
			return
		}
		rule := svc.got
		require.NotNil(t, rule)
		require.Equal(t, recording.DialectAliyun, rule.Dialect)
		require.NoError(t, rule.Validate())
		for _, fc := range rule.Formats {
			require.Equal(t, rule.Formats[0].MergeWindowS, fc.MergeWindowS, "DelayTime applies to every format")
		}

		again := &ruleSink{}
		_, err = NewHandler(again, Config{}).(*handler).addRecordConfig(t.Context(), p, paramsOf(toLiveAppRecord(rule)))
		require.NoError(t, err, "described as %+v", toLiveAppRecord(rule))
		require.Equal(t, rule, again.got)
	})
}
