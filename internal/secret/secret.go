// Package secret seals the secrets liverec must keep in plain form to check and make
// signatures (access key secrets, callback keys): they are stored encrypted with a master key
// kept outside the database.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the master key length: AES-256.
const KeySize = 32

// version prefixes sealed values so the scheme can change later.
const version byte = 1

// Box seals and opens secrets with AES-256-GCM under the master key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte master key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; the result holds a version byte and a random nonce.
func (b *Box) Seal(plain []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return b.aead.Seal(out, out[1:], plain, nil), nil
}

// ErrCorrupt is returned for a sealed value that does not open with this master key.
var ErrCorrupt = errors.New("sealed secret does not open with this master key")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrCorrupt
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], nil)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// LoadMasterKey returns the master key from env (LIVEREC_MASTER_KEY: 64 hex digits or
// base64 of 32 bytes) or from path, creating path with a new random key (mode 0600) when
// neither exists.
func LoadMasterKey(env, path string) ([]byte, error) {
	if env != "" {
		return decodeKey(env)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err = rand.Read(key); err != nil {
		return nil, fmt.Errorf("make master key: %w", err)
	}
	if err = os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	return key, nil
}

func decodeKey(s string) ([]byte, error) {
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("master key must be %d bytes as hex or base64", KeySize)
}
