package docker

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Kill sends SIGKILL to node and returns once the container has exited: its
// connections are reset and its host port is gone.
func (e *Engine) Kill(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return fmt.Errorf("kill: %w", err)
	}
	if _, err := e.docker.ContainerKill(ctx, found.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("%w: kill %s: %v", platform.ErrEnvironment, node, err)
	}
	if err := e.waitExited(ctx, found.ID); err != nil {
		return fmt.Errorf("%w: kill %s: %v", platform.ErrEnvironment, node, err)
	}
	e.network.release(node)
	return nil
}

// Stop shuts node down gracefully (SIGTERM, then SIGKILL after
// stopGracePeriodSeconds) and returns once it has exited.
func (e *Engine) Stop(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	grace := stopGracePeriodSeconds
	if _, err := e.docker.ContainerStop(ctx, found.ID, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return fmt.Errorf("%w: stop %s: %v", platform.ErrEnvironment, node, err)
	}
	e.network.release(node)
	return nil
}

// Start starts a killed or stopped node again, with its data, at the same
// alias. It does not wait for readiness (see WaitReady): the harness
// measures that itself. The network faults in force that involve node are
// applied again, since its network namespace (and maybe its address) is new.
func (e *Engine) Start(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if _, err := e.docker.ContainerStart(ctx, found.ID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("%w: start %s: %v", platform.ErrEnvironment, node, err)
	}
	if err := e.reapplyNetworkFaults(ctx, node); err != nil {
		return fmt.Errorf("start %s: %w", node, err)
	}
	return nil
}

// Pause freezes every process of node (cgroup freezer): its connections stay
// open and nothing answers.
func (e *Engine) Pause(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	if _, err := e.docker.ContainerPause(ctx, found.ID, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("%w: pause %s: %v", platform.ErrEnvironment, node, err)
	}
	return nil
}

// Resume thaws a paused node.
func (e *Engine) Resume(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if _, err := e.docker.ContainerUnpause(ctx, found.ID, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("%w: resume %s: %v", platform.ErrEnvironment, node, err)
	}
	return nil
}

func (e *Engine) waitExited(ctx context.Context, id string) error {
	waited := e.docker.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-waited.Result:
		return nil
	case err := <-waited.Error:
		return fmt.Errorf("wait for exit: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}
