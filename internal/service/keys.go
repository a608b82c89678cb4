package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Key and token shapes. Ids look like the clouds' (Alibaba LTAI…, 24 characters), secrets
// are 30 characters of letters and digits, as Alibaba's are.
const (
	keyIDPrefix  = "LR"
	keyIDLen     = 24
	secretLen    = 30
	tokenBytes   = 32
	DefaultToken = 24 * time.Hour
	// MaxTokenTTL bounds how long a token may live.
	MaxTokenTTL = 30 * 24 * time.Hour
)

const alphanum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString is n characters of alphabet (at most 256), each equally likely: random bytes
// at or above the largest multiple of len(alphabet) are dropped rather than folded in.
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails; it crashes the program instead
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// CreateAccessKey makes a key for project (p's own unless p is admin) and returns its secret,
// which is never shown again.
func (s *Service) CreateAccessKey(ctx context.Context, p Principal, project string, admin bool, desc string) (*recording.AccessKey, string, error) {
	if project == "" {
		project = p.Project
	}
	if (project != p.Project || admin) && !p.Admin {
		return nil, "", fmt.Errorf("create access key: %w", recording.ErrForbidden)
	}
	id := keyIDPrefix + randomString(keyIDLen-len(keyIDPrefix), strings.ToUpper(alphanum[:26])+alphanum[52:])
	secret := randomString(secretLen, alphanum)
	return s.putAccessKey(ctx, id, secret, project, admin, desc)
}

// EnsureAccessKey creates or updates a key with a given id and secret (LIVEREC_ACCESS_KEY_ID
// and LIVEREC_ACCESS_KEY_SECRET at start), so that it works: a revoked or disabled key is
// brought back. A non-admin key is not made an admin: that is an error.
func (s *Service) EnsureAccessKey(ctx context.Context, id, secret, project string, admin bool) error {
	sealed, err := s.Sealer.Seal([]byte(secret))
	if err != nil {
		return fmt.Errorf("seal access key secret: %w", err)
	}
	k, err := s.Store.AccessKeyGet(ctx, id)
	switch {
	case err == nil && k.Project != project:
		return fmt.Errorf("access key %s belongs to project %s", id, k.Project)
	case err == nil && admin && !k.Admin:
		return fmt.Errorf("access key %s exists and is not an admin key: choose another id for the admin key", id)
	case err == nil:
		// The key given at start must work: a revoked key comes back (AccessKeyUpdateSecret)
		// and a disabled one is enabled, so it also recovers a locked-out admin.
		if err = s.Store.AccessKeyUpdateSecret(ctx, id, sealed); err != nil || !k.Disabled {
			return err
		}
		return s.Store.AccessKeySetDisabled(ctx, k.Project, id, false)
	case !errors.Is(err, recording.ErrNotFound):
		return fmt.Errorf("look up access key: %w", err)
	}
	_, _, err = s.putAccessKey(ctx, id, secret, project, admin, "from the environment")
	return err
}

func (s *Service) putAccessKey(ctx context.Context, id, secret, project string, admin bool, desc string) (*recording.AccessKey, string, error) {
	sealed, err := s.Sealer.Seal([]byte(secret))
	if err != nil {
		return nil, "", fmt.Errorf("seal access key secret: %w", err)
	}
	k := &recording.AccessKey{ID: id, Project: project, Admin: admin, Description: desc, SecretSealed: sealed,
		CreatedAt: s.now()}
	if err := s.Store.AccessKeyInsert(ctx, k); err != nil {
		return nil, "", fmt.Errorf("create access key: %w", err)
	}
	return k, secret, nil
}

// HasAccessKeys tells whether any key exists (a fresh data dir gets an admin key).
func (s *Service) HasAccessKeys(ctx context.Context) (bool, error) {
	ks, err := s.Store.AccessKeyList(ctx, "")
	return len(ks) > 0, err
}

// ListAccessKeys lists the keys (without secrets) of p's project, or for an admin of another
// project or, for project "*", of every project.
func (s *Service) ListAccessKeys(ctx context.Context, p Principal, project string) ([]recording.AccessKey, error) {
	project, err := listProject(p, project, "list access keys")
	if err != nil {
		return nil, err
	}
	return s.Store.AccessKeyList(ctx, project)
}

// listProject is the project a list reads: p's own when project is empty, another or (for
// "*") every project ("" to the store) only for an admin.
func listProject(p Principal, project, doing string) (string, error) {
	switch {
	case project == "":
		return p.Project, nil
	case project != p.Project && !p.Admin:
		return "", fmt.Errorf("%s: %w", doing, recording.ErrForbidden)
	case project == "*":
		return "", nil
	}
	return project, nil
}

// keyProject is the one project a change to a key acts in: p's own when project is empty,
// another only for an admin. "*" names no single project, so it is refused rather than
// matching nothing.
func keyProject(p Principal, project, doing string) (string, error) {
	if project == "*" && p.Admin { // for others listProject's refusal stands
		return "", &recording.ValidationError{Field: "project", Reason: "name the key's project, not every project (*)"}
	}
	return listProject(p, project, doing)
}

// RevokeAccessKey revokes a key of p's project (of project, for an admin), and with it every
// token it minted. Only an admin may revoke an admin key, and not the last enabled one.
func (s *Service) RevokeAccessKey(ctx context.Context, p Principal, project, id string) error {
	const doing = "revoke access key"
	project, err := keyProject(p, project, doing)
	if err != nil {
		return err
	}
	if err := s.checkKeyChange(ctx, p, project, id, doing, true); err != nil {
		return err
	}
	return s.Store.AccessKeyRevoke(ctx, project, id, s.now())
}

// SetAccessKeyDisabled disables (ending its tokens) or enables a key of p's project (of
// project, for an admin). A caller cannot disable the key it is using: that would lock it out
// mid-request. Only an admin may disable or enable an admin key, and not disable the last
// enabled one.
func (s *Service) SetAccessKeyDisabled(ctx context.Context, p Principal, project, id string, disabled bool) error {
	const doing = "update access key"
	project, err := keyProject(p, project, doing)
	if err != nil {
		return err
	}
	if disabled && id == p.AccessKeyID {
		return &recording.ValidationError{Field: "enabled", Reason: "a key cannot disable itself or the key of the token in use"}
	}
	if err := s.checkKeyChange(ctx, p, project, id, doing, disabled); err != nil {
		return err
	}
	return s.Store.AccessKeySetDisabled(ctx, project, id, disabled)
}

// checkKeyChange refuses a change to key id of project that p may not make: a non-admin
// acting on an admin key (it could otherwise lock the admins out), or, when the change ends
// the key (ends true), leaving no enabled admin key at all. A key that is not in project is
// let through: the store answers it with ErrNotFound, as for any other project's object.
func (s *Service) checkKeyChange(ctx context.Context, p Principal, project, id, doing string, ends bool) error {
	k, err := s.Store.AccessKeyGet(ctx, id)
	switch {
	case errors.Is(err, recording.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("%s: look up access key: %w", doing, err)
	case k.Project != project || !k.Admin:
		return nil
	case !p.Admin:
		return fmt.Errorf("%s: only an admin key may change an admin key: %w", doing, recording.ErrForbidden)
	case !ends || k.Disabled || k.RevokedAt != nil:
		return nil // the number of enabled admin keys does not change
	}
	return s.requireAnotherAdminKey(ctx, k.ID, doing)
}

// requireAnotherAdminKey refuses to end the last enabled admin key (of any project: an admin
// key acts on every project). Without one nobody could make admin keys or reach other
// projects again, short of restarting liverec with LIVEREC_ACCESS_KEY_ID and
// LIVEREC_ACCESS_KEY_SECRET. Two concurrent requests ending the last two admin keys can both
// pass; the check is for the operator's slip, not a race.
func (s *Service) requireAnotherAdminKey(ctx context.Context, id, doing string) error {
	ks, err := s.Store.AccessKeyList(ctx, "")
	if err != nil {
		return fmt.Errorf("%s: list access keys: %w", doing, err)
	}
	for _, k := range ks {
		if k.ID != id && k.Admin && !k.Disabled && k.RevokedAt == nil {
			return nil
		}
	}
	return &StateError{Reason: fmt.Sprintf("%s %s: it is the last enabled admin key; create another admin key first", doing, id)}
}

// ErrUnknownKey is returned by KeySecret for an unknown, revoked or disabled access key.
var ErrUnknownKey = fmt.Errorf("unknown, revoked or disabled access key: %w", recording.ErrUnauthenticated)

// KeySecret returns an active key and its secret, for a façade to check a signature.
func (s *Service) KeySecret(ctx context.Context, id string) (*recording.AccessKey, string, error) {
	k, err := s.Store.AccessKeyGet(ctx, id)
	if errors.Is(err, recording.ErrNotFound) || (err == nil && (k.RevokedAt != nil || k.Disabled)) {
		return nil, "", ErrUnknownKey
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up access key: %w", err)
	}
	secret, err := s.Sealer.Open(k.SecretSealed)
	if err != nil {
		return nil, "", fmt.Errorf("open access key secret: %w", err)
	}
	return k, string(secret), nil
}

// PrincipalOf returns the principal an access key acts as.
func PrincipalOf(k *recording.AccessKey) Principal {
	return Principal{Project: k.Project, Admin: k.Admin, KeyID: k.ID, AccessKeyID: k.ID}
}

// ErrReplay is returned by UseNonce for a nonce seen before.
var ErrReplay = fmt.Errorf("signature nonce already used: %w", recording.ErrUnauthenticated)

// UseNonce accepts a request nonce of a key once within ttl.
func (s *Service) UseNonce(ctx context.Context, keyID, nonce string, ttl time.Duration) error {
	now := s.now()
	err := s.Store.NonceUse(ctx, keyID, nonce, now.Add(ttl), now)
	if errors.Is(err, recording.ErrConflict) {
		return ErrReplay
	}
	return err
}

// CreateToken issues a bearer token for p's project; the token is shown once. It descends from
// p's access key, and a token minted with a token expires no later than that one.
func (s *Service) CreateToken(ctx context.Context, p Principal, ttl time.Duration) (string, *recording.Token, error) {
	if p.AccessKeyID == "" {
		return "", nil, fmt.Errorf("create token: no access key behind the caller: %w", recording.ErrForbidden)
	}
	// The key may have gone since the request authenticated; the store's join would kill the
	// new token anyway, but the caller deserves to hear it now.
	if k, err := s.Store.AccessKeyGet(ctx, p.AccessKeyID); err != nil || k.RevokedAt != nil || k.Disabled {
		if err != nil && !errors.Is(err, recording.ErrNotFound) {
			return "", nil, fmt.Errorf("create token: look up access key: %w", err)
		}
		return "", nil, fmt.Errorf("create token: %w", ErrUnknownKey)
	}
	if ttl <= 0 {
		ttl = DefaultToken
	}
	if ttl > MaxTokenTTL {
		return "", nil, &recording.ValidationError{Field: "ttl", Reason: "at most 30 days"}
	}
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	token := "lrt_" + base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(token))
	now := s.now()
	expires := now.Add(ttl)
	if !p.Expires.IsZero() && expires.After(p.Expires) {
		expires = p.Expires
	}
	t := &recording.Token{Project: p.Project, Admin: p.Admin, KeyID: p.AccessKeyID, Hash: h[:], CreatedAt: now,
		ExpiresAt: expires}
	if err := s.Store.TokenInsert(ctx, t); err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return token, t, nil
}

// Authenticate resolves a bearer token; it fails once the token expired or its access key was
// revoked or disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	h := sha256.Sum256([]byte(token))
	t, err := s.Store.TokenByHash(ctx, h[:], s.now())
	if errors.Is(err, recording.ErrNotFound) {
		return Principal{}, fmt.Errorf("invalid or expired token: %w", recording.ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	return Principal{Project: t.Project, Admin: t.Admin, KeyID: t.ID, AccessKeyID: t.KeyID, Expires: t.ExpiresAt}, nil
}

// ListTokens lists the live tokens of p's project, or of every project for an admin who asks
// for project "*", or of another project for an admin.
func (s *Service) ListTokens(ctx context.Context, p Principal, project string) ([]recording.Token, error) {
	project, err := listProject(p, project, "list tokens")
	if err != nil {
		return nil, err
	}
	return s.Store.TokenList(ctx, project, s.now())
}

// DeleteToken revokes a token of p's project (of project, for an admin). Only an admin may
// revoke an admin's token: a non-admin could otherwise sign the admins out.
func (s *Service) DeleteToken(ctx context.Context, p Principal, project, id string) error {
	if project == "" {
		project = p.Project
	}
	if project != p.Project && !p.Admin {
		return fmt.Errorf("delete token: %w", recording.ErrForbidden)
	}
	if !p.Admin {
		// The store has no lookup by id; a project's live tokens are few. An expired admin
		// token is not listed, and deleting it takes nothing from anyone.
		ts, err := s.Store.TokenList(ctx, project, s.now())
		if err != nil {
			return fmt.Errorf("delete token: list tokens: %w", err)
		}
		for _, t := range ts {
			if t.ID == id && t.Admin {
				return fmt.Errorf("delete token: only an admin key may revoke an admin's token: %w", recording.ErrForbidden)
			}
		}
	}
	return s.Store.TokenDelete(ctx, project, id)
}
