package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The stand-in image: the static server in ./standin, imported with
// `docker import` from a tarball built here, tagged with the hash of the
// binary so that a second build of the same source reuses the image.
const (
	StandinRepository = "chaosdrill-standin"
	// LabelStandin marks stand-in images (value: the binary's hash). They
	// carry no run label, so Cleanup leaves them for the next run;
	// RemoveStandinImages removes them.
	LabelStandin = "chaosdrill.standin"
	// StandinEchoPort answers every line with "pong <node>"; EchoProbe
	// speaks to it.
	StandinEchoPort = "7000/tcp"
	// StandinControlPort serves GET / (readiness) and GET /dial.
	StandinControlPort = "8080/tcp"
	// standinReadyTimeout bounds the wait for a stand-in's HTTP readiness:
	// the binary listens within milliseconds of starting, so this only
	// absorbs a slow Docker host.
	standinReadyTimeout = 30 * time.Second
	// standinReadyPollInterval is how often readiness is polled; the
	// testcontainers default (100 ms) would add up to that much to every
	// bring-up measurement.
	standinReadyPollInterval = 20 * time.Millisecond
)

// BuildStandinImage compiles the stand-in server (CGO_ENABLED=0, for the
// Docker host's architecture) and imports it as an image, unless an image
// of the same binary exists already. It needs the Go toolchain and this
// module's source, so it is for tests.
func BuildStandinImage(ctx context.Context) (string, error) {
	return buildImage(ctx, "standin", StandinRepository, "chaosdrill stand-in", []string{
		`CMD ["/standin"]`,
		"EXPOSE " + StandinEchoPort + " " + StandinControlPort,
	})
}

// The S3 stand-in image: ./standins3, gofakes3 behind LocalStack's port and
// health endpoint (see its package documentation).
const (
	S3StandinRepository = "chaosdrill/standin-s3"
	// S3StandinDevImage is the name `make standins` gives it, for
	// --image s3=chaosdrill/standin-s3:dev.
	S3StandinDevImage = S3StandinRepository + ":dev"
	// S3StandinPort is LocalStack's edge port, which the stand-in serves.
	S3StandinPort = "4566/tcp"
)

// BuildS3StandinImage compiles the S3 stand-in and imports it as
// chaosdrill/standin-s3:<hash of the binary> (reused when it exists), then
// gives it each of alsoTag (e.g. S3StandinDevImage). It returns the hashed
// name, which no other build of other source can move.
func BuildS3StandinImage(ctx context.Context, alsoTag ...string) (string, error) {
	image, err := buildImage(ctx, "standins3", S3StandinRepository, "chaosdrill S3 stand-in (gofakes3)", []string{
		`CMD ["/standin"]`,
		"EXPOSE " + S3StandinPort,
	})
	if err != nil {
		return "", err
	}
	if len(alsoTag) == 0 {
		return image, nil
	}
	docker, err := connect(ctx)
	if err != nil {
		return "", err
	}
	defer docker.Close()
	for _, tag := range alsoTag {
		if _, err := docker.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: tag}); err != nil {
			return "", fmt.Errorf("%w: tag %s as %s: %v", platform.ErrEnvironment, image, tag, err)
		}
	}
	return image, nil
}

// buildImage compiles the main package in ./source (next to this file) and
// imports it as repository:<hash of the binary>, the binary at /standin,
// with changes (Dockerfile instructions) and LabelStandin, unless an image
// of that name exists already.
func buildImage(ctx context.Context, source, repository, message string, changes []string) (string, error) {
	_, thisFile, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("build %s image: cannot locate the stand-in source", repository)
	}
	binary, err := buildStandinBinary(ctx, filepath.Join(filepath.Dir(thisFile), source))
	if err != nil {
		return "", fmt.Errorf("build %s image: %w", repository, err)
	}
	sum := sha256.Sum256(binary)
	hash := hex.EncodeToString(sum[:])[:16]
	image := repository + ":" + hash

	docker, err := connect(ctx)
	if err != nil {
		return "", err
	}
	defer docker.Close()
	if _, err := docker.ImageInspect(ctx, image); err == nil {
		return image, nil
	}
	archive, err := standinArchive(binary)
	if err != nil {
		return "", fmt.Errorf("build %s image: %w", repository, err)
	}
	imported, err := docker.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(archive), SourceName: "-"}, image, client.ImageImportOptions{
		Message: message,
		Changes: append(append([]string(nil), changes...), "LABEL "+LabelStandin+"="+hash),
	})
	if err != nil {
		return "", fmt.Errorf("%w: import image %s: %v", platform.ErrEnvironment, image, err)
	}
	defer imported.Close()
	if _, err := io.Copy(io.Discard, imported); err != nil {
		return "", fmt.Errorf("%w: import image %s: %v", platform.ErrEnvironment, image, err)
	}
	if _, err := docker.ImageInspect(ctx, image); err != nil {
		return "", fmt.Errorf("%w: image %s missing after import: %v", platform.ErrEnvironment, image, err)
	}
	return image, nil
}

func buildStandinBinary(ctx context.Context, source string) ([]byte, error) {
	output, err := os.MkdirTemp("", "chaosdrill-standin-")
	if err != nil {
		return nil, fmt.Errorf("make build folder: %w", err)
	}
	defer os.RemoveAll(output)
	target := filepath.Join(output, "standin")
	command := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", target, ".")
	command.Dir = source
	command.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if log, err := command.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w: %s", source, err, log)
	}
	return os.ReadFile(target)
}

// standinArchive is the image's whole file system: the binary and the few
// /etc files that name resolution and user lookup read. Docker mounts its
// own /etc/hosts, /etc/resolv.conf and /etc/hostname over the empty ones.
func standinArchive(binary []byte) ([]byte, error) {
	var archive bytes.Buffer
	writer := tar.NewWriter(&archive)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"etc/", "tmp/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		if err := writer.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: mode, ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("write %s: %w", dir, err)
		}
	}
	files := []struct {
		name string
		mode int64
		body []byte
	}{
		{"standin", 0o755, binary},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/:/standin\nnobody:x:65534:65534:nobody:/:/standin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")},
		{"etc/nsswitch.conf", 0o644, []byte("hosts: files dns\n")},
		{"etc/hosts", 0o644, []byte("127.0.0.1 localhost\n")},
		{"etc/resolv.conf", 0o644, nil},
		{"etc/hostname", 0o644, nil},
	}
	for _, file := range files {
		if err := writer.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: file.name, Mode: file.mode, Size: int64(len(file.body)), ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("write %s: %w", file.name, err)
		}
		if _, err := writer.Write(file.body); err != nil {
			return nil, fmt.Errorf("write %s: %w", file.name, err)
		}
	}
	if err := writer.Close(); err != nil {
		return nil, fmt.Errorf("close archive: %w", err)
	}
	return archive.Bytes(), nil
}

// RemoveStandinImages removes every stand-in image and says how many.
func RemoveStandinImages(ctx context.Context) (int, error) {
	docker, err := connect(ctx)
	if err != nil {
		return 0, err
	}
	defer docker.Close()
	images, err := docker.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelStandin)})
	if err != nil {
		return 0, fmt.Errorf("list stand-in images: %w", err)
	}
	removed := 0
	for _, image := range images.Items {
		if _, err := docker.ImageRemove(ctx, image.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
			return removed, fmt.Errorf("remove stand-in image %s: %w", image.ID, err)
		}
		removed++
	}
	return removed, nil
}

// StandinSpec is a stand-in node: it reports name, and is ready when its
// control port answers.
func StandinSpec(image, name, region, zone string) NodeSpec {
	return NodeSpec{
		Name:         name,
		Region:       region,
		Zone:         zone,
		Image:        image,
		Env:          map[string]string{"NODE_NAME": name},
		ExposedPorts: []string{StandinEchoPort, StandinControlPort},
		WaitingFor: wait.ForHTTP("/").WithPort(StandinControlPort).
			WithStartupTimeout(standinReadyTimeout).WithPollInterval(standinReadyPollInterval),
	}
}

// DialResult is what a stand-in saw when it dialled a peer from inside the
// Docker network.
type DialResult struct {
	From        string `json:"from"`
	Address     string `json:"address"`
	Reachable   bool   `json:"reachable"`
	Reply       string `json:"reply,omitempty"`
	ConnectNs   int64  `json:"connect_ns,omitempty"`
	RoundTripNs int64  `json:"round_trip_ns,omitempty"`
	Error       string `json:"error,omitempty"`
}

// RoundTrip is the fastest ping/pong the stand-in measured.
func (r DialResult) RoundTrip() time.Duration { return time.Duration(r.RoundTripNs) }

// StandinDial asks stand-in from to connect to stand-in to by its alias and
// exchange rounds pings, within timeout. An unreachable peer is a result
// (Reachable false), not an error; errors are about reaching from.
func StandinDial(ctx context.Context, engine *Engine, from, to string, timeout time.Duration, rounds int) (DialResult, error) {
	control, err := engine.HostAddress(ctx, from, StandinControlPort)
	if err != nil {
		return DialResult{}, err
	}
	echoPort := strings.TrimSuffix(StandinEchoPort, "/tcp")
	query := url.Values{
		"addr":    {engine.Alias(to) + ":" + echoPort},
		"timeout": {timeout.String()},
		"rounds":  {fmt.Sprint(rounds)},
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+control+"/dial?"+query.Encode(), nil)
	if err != nil {
		return DialResult{}, fmt.Errorf("dial %s from %s: %w", to, from, err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return DialResult{}, fmt.Errorf("dial %s from %s: %w", to, from, err)
	}
	defer response.Body.Close()
	var result DialResult
	if err := json.NewDecoder(response.Body).Decode(&result); err != nil {
		return DialResult{}, fmt.Errorf("dial %s from %s: decode answer: %w", to, from, err)
	}
	return result, nil
}

// DiskResult is what a stand-in saw when it appended to a file of its data
// volume and fsynced it (GET /disk).
type DiskResult struct {
	Path        string  `json:"path"`
	Written     int     `json:"written"`
	TookNs      int64   `json:"took_ns"`
	Error       string  `json:"error,omitempty"`
	UsedPercent float64 `json:"used_percent"`
}

// Took is how long the write and fsync took inside the container.
func (r DiskResult) Took() time.Duration { return time.Duration(r.TookNs) }

// StandinDiskWrite asks stand-in node to append bytes to path and fsync it.
// A write that failed is a result (Error set), not an error.
func StandinDiskWrite(ctx context.Context, engine *Engine, node, path string, bytes int) (DiskResult, error) {
	control, err := engine.HostAddress(ctx, node, StandinControlPort)
	if err != nil {
		return DiskResult{}, err
	}
	query := url.Values{"path": {path}, "bytes": {fmt.Sprint(bytes)}}
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+control+"/disk?"+query.Encode(), nil)
	if err != nil {
		return DiskResult{}, fmt.Errorf("disk write on %s: %w", node, err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return DiskResult{}, fmt.Errorf("disk write on %s: %w", node, err)
	}
	defer response.Body.Close()
	var result DiskResult
	if err := json.NewDecoder(response.Body).Decode(&result); err != nil {
		return DiskResult{}, fmt.Errorf("disk write on %s: decode answer: %w", node, err)
	}
	return result, nil
}
