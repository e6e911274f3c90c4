package docker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Every primitive returns the time Docker itself recorded for what it did
// (the container's exit, start, freeze or thaw), read from the container's
// state or from the daemon's events: that is when the fault took effect,
// however long the API call around it took on a loaded machine.

// Kill sends SIGKILL to node and returns once the container has exited (its
// connections are reset and its host port is gone), with the time Docker
// recorded the exit.
func (e *Engine) Kill(ctx context.Context, node string) (time.Time, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("kill: %w", err)
	}
	if _, err := e.docker.ContainerKill(ctx, found.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return time.Time{}, fmt.Errorf("%w: kill %s: %v", platform.ErrEnvironment, node, err)
	}
	if err := e.waitExited(ctx, found.ID); err != nil {
		return time.Time{}, fmt.Errorf("%w: kill %s: %v", platform.ErrEnvironment, node, err)
	}
	e.network.release(node)
	return e.stateTime(ctx, node, found.ID, func(s *container.State) string { return s.FinishedAt })
}

// Stop shuts node down gracefully (SIGTERM, then SIGKILL after
// stopGracePeriodSeconds) and returns once it has exited, with the time
// Docker recorded the exit.
func (e *Engine) Stop(ctx context.Context, node string) (time.Time, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("stop: %w", err)
	}
	grace := stopGracePeriodSeconds
	if _, err := e.docker.ContainerStop(ctx, found.ID, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return time.Time{}, fmt.Errorf("%w: stop %s: %v", platform.ErrEnvironment, node, err)
	}
	e.network.release(node)
	return e.stateTime(ctx, node, found.ID, func(s *container.State) string { return s.FinishedAt })
}

// Start starts a killed or stopped node again, with its data, at the same
// alias, and returns the time Docker recorded the start. It does not wait
// for readiness (see WaitReady): the harness measures that itself. The
// network state (cuts, added latency, link latencies) is applied again to
// the node, since its network namespace is new, and to the peers whose
// rules name it if its address changed.
func (e *Engine) Start(ctx context.Context, node string) (time.Time, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("start: %w", err)
	}
	if _, err := e.docker.ContainerStart(ctx, found.ID, client.ContainerStartOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("%w: start %s: %v", platform.ErrEnvironment, node, err)
	}
	started, err := e.stateTime(ctx, node, found.ID, func(s *container.State) string { return s.StartedAt })
	if err != nil {
		return time.Time{}, err
	}
	if err := e.reapplyNetworkFaults(ctx, node); err != nil {
		return started, fmt.Errorf("start %s: %w", node, err)
	}
	return started, nil
}

// Pause freezes every process of node (cgroup freezer): its connections
// stay open and nothing answers. It returns the time of Docker's pause event.
func (e *Engine) Pause(ctx context.Context, node string) (time.Time, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("pause: %w", err)
	}
	called := time.Now()
	if _, err := e.docker.ContainerPause(ctx, found.ID, client.ContainerPauseOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("%w: pause %s: %v", platform.ErrEnvironment, node, err)
	}
	return e.eventTime(ctx, node, found.ID, events.ActionPause, called)
}

// Resume thaws a paused node. It returns the time of Docker's unpause event.
func (e *Engine) Resume(ctx context.Context, node string) (time.Time, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("resume: %w", err)
	}
	called := time.Now()
	if _, err := e.docker.ContainerUnpause(ctx, found.ID, client.ContainerUnpauseOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("%w: resume %s: %v", platform.ErrEnvironment, node, err)
	}
	return e.eventTime(ctx, node, found.ID, events.ActionUnPause, called)
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

// stateTime reads one of the container's recorded times (RFC 3339 with
// nanoseconds, https://docs.docker.com/reference/api/engine/version/v1.43/#tag/Container/operation/ContainerInspect).
func (e *Engine) stateTime(ctx context.Context, node, id string, field func(*container.State) string) (time.Time, error) {
	inspected, err := e.docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: inspect %s: %v", platform.ErrEnvironment, node, err)
	}
	if inspected.Container.State == nil {
		return time.Time{}, fmt.Errorf("%w: inspect %s: no state", platform.ErrEnvironment, node)
	}
	at, err := time.Parse(time.RFC3339Nano, field(inspected.Container.State))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: inspect %s: %v", platform.ErrEnvironment, node, err)
	}
	return at, nil
}

// eventLookBack is how far before the API call the event search starts:
// the daemon stamps the event itself, on this host's clock, so the event
// is after the call began; a margin covers clock reads on either side.
const eventLookBack = time.Second

// eventTime finds the time the daemon stamped on the container's last
// action event since called (https://docs.docker.com/reference/api/engine/version/v1.43/#tag/System/operation/SystemEvents).
// The daemon logs the event before it answers the call, so it is in its
// event buffer by now.
func (e *Engine) eventTime(ctx context.Context, node, id string, action events.Action, called time.Time) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	until := time.Now()
	result := e.docker.Events(ctx, client.EventsListOptions{
		Since: unixTimestamp(called.Add(-eventLookBack)),
		Until: unixTimestamp(until),
		Filters: make(client.Filters).
			Add("type", string(events.ContainerEventType)).
			Add("container", id).
			Add("event", string(action)),
	})
	var last time.Time
	for {
		select {
		case m := <-result.Messages:
			if at := time.Unix(0, m.TimeNano); m.Action == action && !at.Before(called.Add(-eventLookBack)) {
				last = at
			}
		case err := <-result.Err:
			// The stream ends with io.EOF once it reached until.
			if last.IsZero() {
				return time.Time{}, fmt.Errorf("%w: %s %s: Docker reported no %s event (%v)", platform.ErrEnvironment, action, node, action, err)
			}
			return last, nil
		}
	}
}

// unixTimestamp writes t as the events API's since/until: seconds since the
// epoch, with nanoseconds after the dot.
func unixTimestamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + "." + fmt.Sprintf("%09d", t.Nanosecond())
}
