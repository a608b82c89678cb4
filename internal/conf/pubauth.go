package conf

import (
	"time"
)

// PublishAuth holds the publish authentication settings that are not per domain; each
// domain's method and keys are configured through the APIs.
type PublishAuth struct {
	// AliyunExpiry is how an Alibaba auth_key timestamp is read, since Alibaba's documents
	// disagree: "delta" (default) refuses once now > timestamp + ali_auth_delta; "strict" reads
	// the timestamp as the expiry and refuses once now > timestamp.
	AliyunExpiry string `yaml:"aliyun_expiry"`
	// StartSkew is how long before its start time a Huawei URL (methods A and D) is already
	// accepted, for signers whose clock runs ahead. Default 5m.
	StartSkew Duration `yaml:"start_skew"`
}

func (p *PublishAuth) setDefaults() {
	if p.AliyunExpiry == "" {
		p.AliyunExpiry = "delta"
	}
	if p.StartSkew == 0 {
		p.StartSkew = Duration(5 * time.Minute)
	}
}

func (p *PublishAuth) validate() []error {
	var errs []error
	if p.AliyunExpiry != "delta" && p.AliyunExpiry != "strict" {
		errs = append(errs, keyErr("publish_auth.aliyun_expiry", "must be delta or strict"))
	}
	if p.StartSkew < 0 {
		errs = append(errs, keyErr("publish_auth.start_skew", "must not be negative"))
	}
	return errs
}
