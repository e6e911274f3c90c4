// Command buildstandins builds the stand-in images from this module's own
// source, pulling nothing (`make standins`): a static Go binary imported
// with `docker import`. It makes chaosdrill/standin-s3:dev, the S3 stand-in
// (gofakes3 behind LocalStack's port and health endpoint) that
// `chaosdrill run --platform containers --image s3=chaosdrill/standin-s3:dev`
// runs in place of LocalStack. It needs the Go toolchain and a local Docker
// engine; exit code 3 when Docker or the build fails.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := docker.IsReachable(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "make standins:", err)
		os.Exit(3)
	}
	image, err := docker.BuildS3StandinImage(ctx, docker.S3StandinDevImage)
	if err != nil {
		fmt.Fprintln(os.Stderr, "make standins:", err)
		os.Exit(3)
	}
	fmt.Printf("%s (= %s): S3 stand-in; use --image s3=%s\n", docker.S3StandinDevImage, image, docker.S3StandinDevImage)
}
