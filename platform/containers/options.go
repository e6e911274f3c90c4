package containers

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Default images. LocalStack is pinned: images after 4.14.0 need an auth
// token (https://github.com/localstack/localstack/pull/13645).
const (
	DefaultMongoImage      = "mongo:8.0"
	DefaultElasticImage    = "docker.elastic.co/elasticsearch/elasticsearch:8.19.7"
	DefaultLocalStackImage = "localstack/localstack:4.14.0"
)

// Startup timeouts. A cold Elasticsearch node takes 20-60 s on a CI runner;
// LocalStack's testcontainers module waits 120 s for its health endpoint
// (testcontainers/testcontainers-go:modules/localstack/localstack.go).
const (
	DefaultContainerTimeout = 2 * time.Minute // one container running and listening
	DefaultServiceTimeout   = 3 * time.Minute // a service ready: primary elected, cluster healthy, buckets made
)

// Images are the container images the platform runs, one per service kind.
type Images struct {
	Mongo      string // kind mongo
	Elastic    string // kind elasticsearch
	LocalStack string // kind s3
}

// DefaultImages returns the images used when no option overrides them.
func DefaultImages() Images {
	return Images{Mongo: DefaultMongoImage, Elastic: DefaultElasticImage, LocalStack: DefaultLocalStackImage}
}

// List returns the images in the order mongo, elasticsearch, localstack.
func (i Images) List() []string { return []string{i.Mongo, i.Elastic, i.LocalStack} }

// ImageKinds are the service kinds an image is given for, in the order
// List uses.
var ImageKinds = []string{platform.KindMongo, platform.KindElastic, platform.KindS3}

// For returns the image of a service kind ("" for an unknown kind).
func (i Images) For(kind string) string {
	switch kind {
	case platform.KindMongo:
		return i.Mongo
	case platform.KindElastic:
		return i.Elastic
	case platform.KindS3:
		return i.LocalStack
	}
	return ""
}

// Set gives kind (mongo, elasticsearch or s3) the image reference ref, from
// any registry (e.g. registry.example:5000/mirror/mongo:8.0).
func (i *Images) Set(kind, ref string) error {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return fmt.Errorf("image for %s: want an image reference such as %s", kind, DefaultImages().For(kind))
	}
	switch kind {
	case platform.KindMongo:
		i.Mongo = ref
	case platform.KindElastic:
		i.Elastic = ref
	case platform.KindS3:
		i.LocalStack = ref
	default:
		return fmt.Errorf("no service kind %q: want %s", kind, strings.Join(ImageKinds, ", "))
	}
	return nil
}

// ParseImages reads image overrides written KIND=REF (the --image flag),
// later ones winning, e.g. ["mongo=registry.example/mongo:8.0"].
func ParseImages(overrides []string) (Images, error) {
	var out Images
	for _, o := range overrides {
		kind, ref, ok := strings.Cut(o, "=")
		if !ok {
			return Images{}, fmt.Errorf("image %q: want KIND=REF, e.g. mongo=registry.example/mongo:8.0 (kinds: %s)", o, strings.Join(ImageKinds, ", "))
		}
		if err := out.Set(strings.TrimSpace(kind), ref); err != nil {
			return Images{}, fmt.Errorf("image %q: %w", o, err)
		}
	}
	return out, nil
}

// ImagesVariable holds image overrides for every run, comma-separated
// KIND=REF pairs, e.g. CHAOSDRILL_IMAGES=mongo=mirror.example/mongo:8.0,s3=mirror.example/localstack:4.14.0.
// The scenario's images: block gives way to it, and it to --image.
const ImagesVariable = "CHAOSDRILL_IMAGES"

// ImagesFromEnvironment reads ImagesVariable.
func ImagesFromEnvironment() (Images, error) {
	text := strings.TrimSpace(os.Getenv(ImagesVariable))
	if text == "" {
		return Images{}, nil
	}
	images, err := ParseImages(strings.Split(text, ","))
	if err != nil {
		return Images{}, fmt.Errorf("%s: %w", ImagesVariable, err)
	}
	return images, nil
}

// Option changes how the platform is built.
type Option func(*options)

type options struct {
	images           Images
	containerTimeout time.Duration
	serviceTimeout   time.Duration
	standin          string // image; "" = the real images
	noPull           bool
	linkLatency      bool // apply the topology's link latencies at bring-up
	memory           MemoryProfile
}

func defaultOptions() options {
	return options{images: DefaultImages(), containerTimeout: DefaultContainerTimeout, serviceTimeout: DefaultServiceTimeout, linkLatency: true, memory: StandardMemory}
}

// WithMemoryProfile sizes the containers (StandardMemory by default).
func WithMemoryProfile(profile MemoryProfile) Option {
	return func(o *options) { o.memory = profile }
}

// WithoutLinkLatency leaves the run's network as Docker makes it: no delay
// between regions or zones. Replication lag and cross-region write latency
// are then those of one host (a few milliseconds), which changes what a
// region-loss scenario can show; use it only where the network faults
// cannot be applied (not root).
func WithoutLinkLatency() Option {
	return func(o *options) { o.linkLatency = false }
}

// WithImages overrides the images; empty fields keep their defaults.
func WithImages(images Images) Option {
	return func(o *options) {
		if images.Mongo != "" {
			o.images.Mongo = images.Mongo
		}
		if images.Elastic != "" {
			o.images.Elastic = images.Elastic
		}
		if images.LocalStack != "" {
			o.images.LocalStack = images.LocalStack
		}
	}
}

// WithStartupTimeouts bounds how long one container may take to run and
// listen, and how long a service may take to become ready after its
// containers run. Zero keeps the default.
func WithStartupTimeouts(container, service time.Duration) Option {
	return func(o *options) {
		if container > 0 {
			o.containerTimeout = container
		}
		if service > 0 {
			o.serviceTimeout = service
		}
	}
}

// WithoutPull makes a missing image an environment error at once instead of
// a pull from a registry.
func WithoutPull() Option {
	return func(o *options) { o.noPull = true }
}

// WithStandinImage runs every node on a stand-in image (docker.StandinSpec,
// built by docker.BuildStandinImage) instead of the real ones, to test the
// bring-up and fault path where the real images cannot be pulled. The
// services are then not set up: Start only starts the containers, and
// Client and StartAction refuse. For tests only.
func WithStandinImage(image string) Option {
	return func(o *options) { o.standin = image }
}
