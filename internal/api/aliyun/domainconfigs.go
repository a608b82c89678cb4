package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Domain configs: of the cloud's domain functions only aliauth (URL signing of publishes)
// is supported. It is liverec's one publish authentication per domain, so a domain set up with
// the Huawei API's method A reads here as aliauth type_a; other methods (Huawei B and D, the
// webhook) have no aliauth form and read as no aliauth at all.

// PublishAuthService is what the domain-config actions need from *service.Service.
type PublishAuthService interface {
	SetPublishAuth(ctx context.Context, p service.Principal, domains []string, c pubauth.Config) ([]*service.PublishAuth, error)
	GetPublishAuth(ctx context.Context, p service.Principal, domain string) (*service.PublishAuth, error)
	DeletePublishAuth(ctx context.Context, p service.Principal, domain string) error
	CheckPublishURL(ctx context.Context, p service.Principal, domain, rawURL string) (*service.URLCheck, error)
}

// Limits of the domain-config actions.
const (
	functionAliauth = "aliauth"
	// maxFunctionsLen bounds the Functions JSON; maxDomains the DomainNames of one call.
	maxFunctionsLen = 64 << 10
	maxDomains      = 100
)

// Alibaba's aliauth auth_type values.
const (
	authNone  = "no_auth"
	authTypeA = "type_a"
)

type function struct {
	FunctionName string        `json:"functionName"`
	FunctionArgs []functionArg `json:"functionArgs"`
	ConfigID     *int64        `json:"configId"`
}

type functionArg struct {
	ArgName  string `json:"argName"`
	ArgValue string `json:"argValue"`
}

func (h *handler) batchSetDomainConfigs(ctx context.Context, p service.Principal, q params) (response, error) {
	domains, err := domainList(q)
	if err != nil {
		return nil, err
	}
	raw, err := q.required("Functions")
	if err != nil {
		return nil, err
	}
	f, err := parseFunctions(raw)
	if err != nil {
		return nil, err
	}
	cfg, err := aliauthConfig(f.FunctionArgs)
	if err != nil {
		return nil, err
	}
	if f.ConfigID != nil {
		for _, d := range domains {
			cur, err := h.svc.GetPublishAuth(ctx, p, d)
			if err != nil {
				return nil, domainConfigError(err, errConfigMissing)
			}
			if cur.ConfigID != *f.ConfigID {
				return nil, errConfigMissing
			}
		}
	}
	if _, err := h.svc.SetPublishAuth(ctx, p, domains, cfg); err != nil {
		return nil, domainConfigError(err, errDomain)
	}
	return &base{}, nil
}

// parseFunctions reads Functions: a JSON array with exactly one aliauth function.
func parseFunctions(raw string) (*function, error) {
	if len(raw) > maxFunctionsLen {
		return nil, errInvalid("Functions", "at most 64 KiB")
	}
	var fs []function
	if err := json.Unmarshal([]byte(raw), &fs); err != nil {
		return nil, errInvalid("Functions", "must be a JSON array of {functionName, functionArgs: [{argName, argValue}]}")
	}
	if len(fs) != 1 {
		return nil, errInvalid("Functions", "must hold exactly one function (aliauth)")
	}
	if fs[0].FunctionName != functionAliauth {
		return nil, errInvalid("Functions", "only the aliauth function is supported")
	}
	return &fs[0], nil
}

// aliauthConfig maps aliauth's arguments to a publish authentication. Keys given with no_auth
// are dropped: they are unused, and only keys in use are kept (sealed).
func aliauthConfig(args []functionArg) (pubauth.Config, error) {
	var c pubauth.Config
	seen := map[string]bool{}
	var authType, key1, key2, delta string
	for _, a := range args {
		if seen[a.ArgName] {
			return c, errInvalid("Functions", a.ArgName+" is given twice")
		}
		seen[a.ArgName] = true
		switch a.ArgName {
		case "auth_type":
			authType = a.ArgValue
		case "auth_key1":
			key1 = a.ArgValue
		case "auth_key2":
			key2 = a.ArgValue
		case "ali_auth_delta":
			delta = a.ArgValue
		default:
			c.Args = append(c.Args, pubauth.Arg{Name: a.ArgName, Value: a.ArgValue})
		}
	}
	switch authType {
	case authNone:
		c.Method = pubauth.MethodNone
		return c, nil
	case authTypeA:
		c.Method = pubauth.MethodAliyunA
	case "type_b", "type_c", "type_f":
		return c, errInvalid("Functions", "auth_type "+authType+" is a CDN signing type; live ingest uses type_a")
	case "":
		return c, errInvalid("Functions", "auth_type is required")
	default:
		return c, errInvalid("Functions", "auth_type must be no_auth or type_a")
	}
	c.Key, c.BackupKey = key1, key2
	if delta != "" {
		n, err := strconv.Atoi(delta)
		if err != nil || n <= 0 {
			return c, errInvalid("Functions", "ali_auth_delta must be a positive number of seconds")
		}
		c.Validity = time.Duration(n) * time.Second
	}
	return c, nil
}

func (h *handler) describeDomainConfigs(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	if _, err = functionNames(q, false); err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, domainConfigError(err, errDomain)
	}
	resp := &describeDomainConfigsResponse{}
	resp.DomainConfigs.DomainConfig = []domainConfig{}
	a, err := h.svc.GetPublishAuth(ctx, p, domain)
	if errors.Is(err, recording.ErrNotFound) {
		return resp, nil
	}
	if err != nil {
		return nil, domainConfigError(err, errDomain)
	}
	if args := aliauthArgs(a); args != nil {
		resp.DomainConfigs.DomainConfig = append(resp.DomainConfigs.DomainConfig, domainConfig{
			ConfigID: strconv.FormatInt(a.ConfigID, 10), Status: "success", FunctionName: functionAliauth,
			FunctionArgs: functionArgs{FunctionArg: args}})
	}
	return resp, nil
}

// aliauthArgs is a's aliauth form (as the cloud shows it, keys included), nil when a has none.
func aliauthArgs(a *service.PublishAuth) []describedArg {
	var out []describedArg
	add := func(name, value string) { out = append(out, describedArg{ArgName: name, ArgValue: value}) }
	switch a.Method {
	case pubauth.MethodNone:
		add("auth_type", authNone)
	case pubauth.MethodAliyunA, pubauth.MethodHuaweiA:
		add("auth_type", authTypeA)
		add("auth_key1", a.Key)
		if a.BackupKey != "" {
			add("auth_key2", a.BackupKey)
		}
		add("ali_auth_delta", strconv.Itoa(int(a.Validity/time.Second)))
	default:
		return nil
	}
	for _, arg := range a.Args {
		add(arg.Name, arg.Value)
	}
	return out
}

func (h *handler) batchDeleteDomainConfigs(ctx context.Context, p service.Principal, q params) (response, error) {
	if _, err := functionNames(q, true); err != nil {
		return nil, err
	}
	domains, err := domainList(q)
	if err != nil {
		return nil, err
	}
	for _, d := range domains {
		if err := h.svc.CheckDomain(ctx, p, d); err != nil {
			return nil, domainConfigError(err, errDomain)
		}
	}
	for _, d := range domains {
		a, err := h.svc.GetPublishAuth(ctx, p, d)
		if errors.Is(err, recording.ErrNotFound) || err == nil && aliauthArgs(a) == nil {
			continue // no aliauth on this domain: nothing to delete
		}
		if err == nil {
			err = h.svc.DeletePublishAuth(ctx, p, d)
		}
		if err != nil && !errors.Is(err, recording.ErrNotFound) {
			return nil, domainConfigError(err, errDomain)
		}
	}
	return &base{}, nil
}

func (h *handler) describeStreamAuthChecking(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	if err = checkDomain(domain); err != nil {
		return nil, err
	}
	rawURL, err := q.required("Url")
	if err != nil {
		return nil, err
	}
	if len(rawURL) > pubauth.MaxURL {
		return nil, errInvalid("Url", "at most 4096 characters")
	}
	check, err := h.svc.CheckPublishURL(ctx, p, domain, rawURL)
	if err != nil {
		return nil, domainConfigError(err, errDomain)
	}
	resp := &authCheckingResponse{Status: "pass"}
	switch check.Verdict {
	case service.VerdictRefused:
		resp.Status, resp.Description = "false", pubauth.AliyunDescription(check.Reason)
	case service.VerdictUnchecked:
		resp.Status, resp.Description = "false", pubauth.AliyunDescription("")
	}
	return resp, nil
}

// domainList reads DomainNames: a comma-separated list of host names.
func domainList(q params) ([]string, error) {
	raw, err := q.required("DomainNames")
	if err != nil {
		return nil, err
	}
	var out []string
	for d := range strings.SplitSeq(raw, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if err := checkDomain(d); err != nil {
			return nil, errInvalid("DomainNames", "must be comma-separated host names")
		}
		out = append(out, d)
	}
	switch {
	case len(out) == 0:
		return nil, errMissingAction("DomainNames")
	case len(out) > maxDomains:
		return nil, errInvalid("DomainNames", "at most 100 domains")
	}
	return out, nil
}

// functionNames reads FunctionNames, where only aliauth is supported.
func functionNames(q params, required bool) ([]string, error) {
	raw := q["FunctionNames"]
	if raw == "" {
		if required {
			return nil, errMissingAction("FunctionNames")
		}
		return []string{functionAliauth}, nil
	}
	var out []string
	for name := range strings.SplitSeq(raw, ",") {
		name = strings.TrimSpace(name)
		if name != functionAliauth {
			return nil, errInvalid("FunctionNames", "only the aliauth function is supported")
		}
		out = append(out, name)
	}
	return out, nil
}

// domainConfigError maps the service's errors; an invalid field is named by its aliauth
// argument inside Functions.
func domainConfigError(err error, notFound *apiError) error {
	var ve *recording.ValidationError
	if errors.As(err, &ve) {
		arg := map[string]string{"key": "auth_key1", "backup_key": "auth_key2", "validity_s": "ali_auth_delta",
			"method": "auth_type", "args": "function arguments"}[ve.Field]
		if ve.Field == "domain" {
			return errInvalid("DomainNames", ve.Reason)
		}
		if arg != "" {
			return errInvalid("Functions", arg+" "+ve.Reason)
		}
	}
	if e, ok := toAPIError(err, notFound); ok {
		return e
	}
	return err
}

type describedArg struct {
	ArgName  string `json:"ArgName"`
	ArgValue string `json:"ArgValue"`
}

type functionArgs struct {
	FunctionArg []describedArg `json:"FunctionArg"`
}

type domainConfig struct {
	ConfigID     string       `json:"ConfigId"`
	Status       string       `json:"Status"`
	FunctionName string       `json:"FunctionName"`
	FunctionArgs functionArgs `json:"FunctionArgs"`
}

type describeDomainConfigsResponse struct {
	base
	DomainConfigs struct {
		DomainConfig []domainConfig `json:"DomainConfig"`
	} `json:"DomainConfigs"`
}

type authCheckingResponse struct {
	base
	Status      string `json:"Status"`
	Description string `json:"Description"`
}
