package blob

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
)

// SidecarSuffix names the file next to a source that lets a Put resume after a crash.
const SidecarSuffix = ".upload"

// tokenMeta is the user metadata (x-amz-meta-liverec-put) carrying the sidecar's token: after
// a crash it tells an object this Put completed from anyone else's.
const tokenMeta = "Liverec-Put"

// sidecar is the JSON at src+SidecarSuffix, written atomically before any byte of src is
// sent, and removed once the object is complete, just after src.
type sidecar struct {
	Version  int    `json:"version"`             // 1
	Endpoint string `json:"endpoint"`            // S3Config.URL: a sidecar of another endpoint is dropped
	Bucket   string `json:"bucket"`              //
	Key      string `json:"key"`                 // the key asked for
	Object   string `json:"object"`              // the key chosen (maybe key_N)
	Token    string `json:"token"`               // random; also the object's x-amz-meta-liverec-put
	Size     int64  `json:"size"`                // src's size: a different size starts over
	UploadID string `json:"upload_id,omitempty"` // multipart upload id; empty: one PUT
	PartSize int64  `json:"part_size,omitempty"` // the upload's part size

	resumed bool // read back from disk rather than made by this call
}

// Put uploads the file at src as bucket/key (key_1, key_2, … when taken) and removes src
// once the object is complete. Files of PartSize or more go up in parts; a sidecar file
// (src + ".upload") records the chosen key and upload id, so a Put of the same src after a
// crash uploads only the parts the endpoint does not have.
func (s *S3) Put(ctx context.Context, bucket, key, src string) (string, error) {
	if err := s.check(bucket, key); err != nil {
		return "", err
	}
	used, err := s.put(ctx, bucket, key, src)
	if err != nil {
		return "", fmt.Errorf("s3 put %s/%s: %w", bucket, key, err)
	}
	return used, nil
}

func (s *S3) put(ctx context.Context, bucket, key, src string) (string, error) {
	defer s.lockSrc(src)()
	scPath := src + SidecarSuffix
	f, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		// A crash between the removal of src and of its sidecar: done if the object is ours.
		if sc, _ := readSidecar(scPath); sc != nil && sc.Endpoint == s.cfg.URL && sc.Bucket == bucket && sc.Key == key {
			done, cerr := s.completedBy(ctx, sc)
			if cerr != nil && !errors.Is(cerr, errKeyTaken) {
				return "", cerr
			}
			if done {
				os.Remove(scPath)
				return sc.Object, nil
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("open spool file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat spool file: %w", err)
	}
	size := fi.Size()

	sc, err := readSidecar(scPath)
	if err != nil {
		return "", err
	}
	if sc != nil && (sc.Version != 1 || sc.Endpoint != s.cfg.URL || sc.Bucket != bucket || sc.Key != key ||
		sc.Size != size || sc.Object == "" || sc.Token == "") {
		s.drop(ctx, sc, scPath) // another target or another file: that upload is of no use
		sc = nil
	}
	for attempt := 0; ; attempt++ {
		if sc == nil {
			if sc, err = s.begin(ctx, bucket, key, size, scPath); err != nil {
				return "", err
			}
		} else if !s.reserve(bucket, sc.Object) {
			// A Put of this process is landing the same key for another file (picked after a
			// restart, while this one's upload was pending): let it have the key.
			s.drop(ctx, sc, scPath)
			sc = nil
			continue
		}
		err = s.upload(ctx, f, sc)
		s.release(bucket, sc.Object)
		switch {
		case err == nil:
			// The source goes first, then the sidecar: whichever step a crash (or a failed
			// removal) interrupts, the sidecar is still there for the next Put of src to
			// recognise its object by the token, and nothing is uploaded twice. The removals
			// are not synced for the same reason.
			if err = os.Remove(src); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("remove spool file: %w", err)
			}
			if err = os.Remove(scPath); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("remove sidecar: %w", err)
			}
			return sc.Object, nil
		case (errors.Is(err, errKeyTaken) || errors.Is(err, errUploadGone)) && attempt < keyRetries:
			// Someone else landed our key, or the endpoint forgot the upload: start over.
			s.drop(ctx, sc, scPath)
			sc = nil
		default:
			return "", err // the sidecar stays: the next Put resumes
		}
	}
}

// errUploadGone: the endpoint no longer knows the multipart upload (NoSuchUpload) and the
// object was not completed by it.
var errUploadGone = errors.New("multipart upload gone")

// begin reserves a free key, creates the multipart upload for a large file, and writes the
// sidecar. The key stays reserved (release after the upload).
func (s *S3) begin(ctx context.Context, bucket, key string, size int64, scPath string) (*sidecar, error) {
	obj, err := s.reserveFree(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	sc := &sidecar{Version: 1, Endpoint: s.cfg.URL, Bucket: bucket, Key: key, Object: obj,
		Token: randomToken(), Size: size}
	if size >= s.partSize {
		sc.PartSize = partSizeFor(size, s.partSize)
		sctx, cancel := s.short(ctx)
		sc.UploadID, err = s.core.NewMultipartUpload(sctx, bucket, obj, s.putOptions(obj, sc.Token))
		cancel()
		if err != nil {
			s.release(bucket, obj)
			return nil, fmt.Errorf("create multipart upload of %s: %w", obj, coded(err))
		}
	}
	if err := writeSidecar(scPath, sc); err != nil {
		s.abort(ctx, sc)
		s.release(bucket, obj)
		return nil, err
	}
	return sc, nil
}

// upload sends what the endpoint lacks of f as sc.Object.
func (s *S3) upload(ctx context.Context, f *os.File, sc *sidecar) error {
	if sc.resumed {
		// The crash may have come after the object was complete, or someone else may have
		// landed the key since: find out before sending anything.
		if done, err := s.completedBy(ctx, sc); err != nil || done {
			return err
		}
	}
	if sc.UploadID == "" {
		return s.putObject(ctx, sc.Bucket, sc.Object, io.NewSectionReader(f, 0, sc.Size), sc.Size, sc.Token, true)
	}

	have, err := s.listParts(ctx, sc)
	if codeOf(err) == "NoSuchUpload" {
		return s.uploadGone(ctx, sc)
	}
	if err != nil {
		return err
	}
	n := int((sc.Size + sc.PartSize - 1) / sc.PartSize)
	parts := make([]minio.CompletePart, 0, n)
	for i := 1; i <= n; i++ {
		off := int64(i-1) * sc.PartSize
		length := min(sc.PartSize, sc.Size-off)
		section := io.NewSectionReader(f, off, length)
		if p, ok := have[i]; ok && p.Size == length {
			same, readErr := sameContent(section, p.ETag)
			if readErr != nil {
				return fmt.Errorf("read spool file: %w", readErr)
			}
			if same {
				parts = append(parts, minio.CompletePart{PartNumber: i, ETag: p.ETag})
				continue
			}
		}
		body := &limitedReader{ctx: ctx, r: io.NewSectionReader(f, off, length), l: s.lim, sent: &s.sent}
		p, partErr := s.core.PutObjectPart(ctx, sc.Bucket, sc.Object, sc.UploadID, i, body, length, minio.PutObjectPartOptions{})
		if codeOf(partErr) == "NoSuchUpload" {
			return s.uploadGone(ctx, sc)
		}
		if partErr != nil {
			return fmt.Errorf("upload part %d of %s: %w", i, sc.Object, coded(partErr))
		}
		parts = append(parts, minio.CompletePart{PartNumber: i, ETag: p.ETag})
	}

	var opts minio.PutObjectOptions
	cond := !s.noCond.Load()
	if cond {
		opts.SetMatchETagExcept("*")
	}
	sctx, cancel := s.short(ctx)
	defer cancel()
	_, err = s.core.CompleteMultipartUpload(sctx, sc.Bucket, sc.Object, sc.UploadID, parts, opts)
	if cond && isNotImplemented(err) {
		s.noCond.Store(true)
		_, err = s.core.CompleteMultipartUpload(sctx, sc.Bucket, sc.Object, sc.UploadID, parts, minio.PutObjectOptions{})
	}
	switch {
	case err == nil:
		return nil
	case isKeyTaken(err):
		return fmt.Errorf("complete upload of %s: %w: %w", sc.Object, errKeyTaken, coded(err))
	case codeOf(err) == "NoSuchUpload":
		return s.uploadGone(ctx, sc)
	default:
		return fmt.Errorf("complete upload of %s: %w", sc.Object, coded(err))
	}
}

// uploadGone handles a NoSuchUpload: done when the object is there with our token (the crash
// came after the completion), else errUploadGone.
func (s *S3) uploadGone(ctx context.Context, sc *sidecar) error {
	done, err := s.completedBy(ctx, sc)
	if err != nil || done {
		return err
	}
	return fmt.Errorf("upload %s of %s: %w", sc.UploadID, sc.Object, errUploadGone)
}

// completedBy tells whether sc.Object exists and was written by sc's Put. errKeyTaken when
// another object holds the key.
func (s *S3) completedBy(ctx context.Context, sc *sidecar) (bool, error) {
	info, err := s.stat(ctx, sc.Bucket, sc.Object)
	if codeOf(err) == minio.NoSuchKey {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", sc.Object, err)
	}
	for k, v := range info.UserMetadata {
		if strings.EqualFold(k, tokenMeta) && v == sc.Token && info.Size == sc.Size {
			return true, nil
		}
	}
	return false, fmt.Errorf("%s: %w", sc.Object, errKeyTaken)
}

// listParts returns the parts the endpoint holds for sc's upload, by number.
func (s *S3) listParts(ctx context.Context, sc *sidecar) (map[int]minio.ObjectPart, error) {
	have := map[int]minio.ObjectPart{}
	marker := 0
	for {
		sctx, cancel := s.short(ctx)
		res, err := s.core.ListObjectParts(sctx, sc.Bucket, sc.Object, sc.UploadID, marker, 1000)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list parts of %s: %w", sc.Object, coded(err))
		}
		for _, p := range res.ObjectParts {
			have[p.PartNumber] = p
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return have, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// sameContent tells whether a part the endpoint holds is this section of the file: its ETag
// is the MD5 of the part on S3 without SSE-KMS. An ETag of another form is trusted on its
// size alone (the caller checked it).
func sameContent(section io.Reader, etag string) (bool, error) {
	etag = strings.Trim(etag, `"`)
	if len(etag) != 2*md5.Size {
		return true, nil
	}
	if _, err := hex.DecodeString(etag); err != nil {
		return true, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, section); err != nil {
		return false, err
	}
	return strings.EqualFold(hex.EncodeToString(h.Sum(nil)), etag), nil
}

// drop forgets sc: aborts its upload (best effort) and removes the sidecar.
func (s *S3) drop(ctx context.Context, sc *sidecar, scPath string) {
	if sc.Endpoint == s.cfg.URL {
		s.abort(ctx, sc)
	}
	os.Remove(scPath)
}

func (s *S3) abort(ctx context.Context, sc *sidecar) {
	if sc.UploadID == "" {
		return
	}
	sctx, cancel := s.short(ctx)
	defer cancel()
	// An upload left behind only costs space until the bucket's lifecycle rule removes it.
	_ = s.core.AbortMultipartUpload(sctx, sc.Bucket, sc.Object, sc.UploadID)
}

// partSizeFor raises the part size, in whole MiB, when size would need more than 10000 parts.
func partSizeFor(size, partSize int64) int64 {
	if (size+partSize-1)/partSize <= maxParts {
		return partSize
	}
	ps := (size + maxParts - 1) / maxParts
	return (ps + 1<<20 - 1) / (1 << 20) * (1 << 20)
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// readSidecar reads the sidecar at p: nil when there is none, or when it cannot be parsed
// (it is written atomically, so that is not a sidecar of ours).
func readSidecar(p string) (*sidecar, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sidecar: %w", err)
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		os.Remove(p)
		return nil, nil
	}
	sc.resumed = true
	return &sc, nil
}

// writeSidecar writes sc at p atomically: temp file, fsync, rename, fsync of the folder.
func writeSidecar(p string, sc *sidecar) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write sidecar: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write sidecar: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write sidecar: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write sidecar: %w", err)
	}
	return syncDir(filepath.Dir(p))
}
