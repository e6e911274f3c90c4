package s3

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ArtifactPrefix is where the seed's artifact keys (ion-console,
// chef-configuration, elasticsearch, ...) live in the artifact bucket, apart
// from the workload's objects; the cross-region Sync carries them like every
// other object.
const ArtifactPrefix = "roles/"

// ArtifactKey is the object key of an artifact key.
func ArtifactKey(key string) string { return ArtifactPrefix + key }

// PutArtifact stores version as the content of artifact key.
func (c *Client) PutArtifact(ctx context.Context, key, version string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	_, err := c.client().PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(c.opts.Bucket),
		Key:           aws.String(ArtifactKey(key)),
		Body:          strings.NewReader(version),
		ContentLength: aws.Int64(int64(len(version))),
	})
	if err != nil {
		return fmt.Errorf("put artifact %s@%s into %s: %w", key, version, c.opts.Bucket, err)
	}
	return nil
}

// GetArtifact fetches artifact key: its version, or found false when the
// bucket has no such key (NoSuchKey).
func (c *Client) GetArtifact(ctx context.Context, key string) (version string, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	got, err := c.client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(ArtifactKey(key))})
	if hasCode(err, "NoSuchKey", "NotFound") {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get artifact %s from %s: %w", key, c.opts.Bucket, err)
	}
	defer got.Body.Close()
	body, err := io.ReadAll(got.Body)
	if err != nil {
		return "", false, fmt.Errorf("get artifact %s from %s: %w", key, c.opts.Bucket, err)
	}
	return string(body), true, nil
}

// DeleteArtifact removes artifact key from the bucket.
func (c *Client) DeleteArtifact(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if _, err := c.client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(ArtifactKey(key))}); err != nil {
		return fmt.Errorf("delete artifact %s from %s: %w", key, c.opts.Bucket, err)
	}
	return nil
}
