package containers

import "time"

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

// Images are the container images the platform runs.
type Images struct {
	Mongo      string
	Elastic    string
	LocalStack string
}

// DefaultImages returns the images used when no option overrides them.
func DefaultImages() Images {
	return Images{Mongo: DefaultMongoImage, Elastic: DefaultElasticImage, LocalStack: DefaultLocalStackImage}
}

// List returns the images in the order mongo, elasticsearch, localstack.
func (i Images) List() []string { return []string{i.Mongo, i.Elastic, i.LocalStack} }

// Option changes how the platform is built.
type Option func(*options)

type options struct {
	images           Images
	containerTimeout time.Duration
	serviceTimeout   time.Duration
	standin          string // image; "" = the real images
	noPull           bool
	linkLatency      bool // apply the topology's link latencies at bring-up
}

func defaultOptions() options {
	return options{images: DefaultImages(), containerTimeout: DefaultContainerTimeout, serviceTimeout: DefaultServiceTimeout, linkLatency: true}
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
