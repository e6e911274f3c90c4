package containers

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// EventLinkLatency reports, once at bring-up, the round trip measured
// between two nodes in different regions (or zones) with the topology's
// link latencies in force; Detail gives the configured and the measured
// values. It is stamped at scenario time 0.
const EventLinkLatency = "link-latency"

// linkLatency is the one-way latency the live platform applies between two
// placements: the topology's inter-region latency between regions, its
// inter-zone latency between zones of a region (an S3 endpoint has no zone,
// so it is another zone to every node). Nodes in one zone get none: the
// Docker bridge's own round trip (about 0.05 ms) stands for the intra-zone
// latency.
func (p *Platform) linkLatency(fromRegion, fromZone, toRegion, toZone string) time.Duration {
	l := p.cfg.Topology.EffectiveLatency()
	switch {
	case fromRegion != toRegion:
		return l.InterRegion.D()
	case fromZone != toZone || fromZone == "":
		return l.InterZone.D()
	}
	return 0
}

// appliesLinkLatency reports whether the run has links to delay: the
// option is on and two of its nodes are in different zones or regions.
func (p *Platform) appliesLinkLatency() bool {
	if !p.opts.linkLatency {
		return false
	}
	for i, a := range p.nodes {
		for _, b := range p.nodes[i+1:] {
			if p.linkLatency(a.Node.Region, a.Node.Zone, b.Node.Region, b.Node.Zone) > 0 {
				return true
			}
		}
	}
	return false
}

// linkPair is two nodes whose link the platform measures at bring-up.
type linkPair struct {
	from, to plannedNode
	what     string // "us-east-1 -> us-west-1"
}

// measuredLinks picks the links to measure: between the first node of each
// pair of regions, and between the first two nodes in different zones of
// each region.
func measuredLinks(nodes []plannedNode, regions []platform.Region) []linkPair {
	first := map[string]plannedNode{}
	for _, n := range nodes {
		if _, seen := first[n.Node.Region]; !seen {
			first[n.Node.Region] = n
		}
	}
	var pairs []linkPair
	for i, a := range regions {
		for _, b := range regions[i+1:] {
			from, okFrom := first[a.Name]
			to, okTo := first[b.Name]
			if okFrom && okTo {
				pairs = append(pairs, linkPair{from: from, to: to, what: a.Name + " -> " + b.Name})
			}
		}
	}
	for _, r := range regions {
		var inZone []plannedNode
		for _, n := range nodes {
			if n.Node.Region == r.Name && n.Node.Zone != "" && (len(inZone) == 0 || n.Node.Zone != inZone[0].Node.Zone) {
				inZone = append(inZone, n)
			}
		}
		if len(inZone) >= 2 {
			pairs = append(pairs, linkPair{from: inZone[0], to: inZone[1], what: inZone[0].Node.Zone + " -> " + inZone[1].Node.Zone})
		}
	}
	return pairs
}

// linkFloor is how much of the configured round trip a measurement must
// reach for the latency to count as in force: the delayer holds packets for
// the full time, so only timer granularity can take anything off.
const linkFloor = 0.9

// applyLinkLatency puts the topology's geography on the run's network and
// measures it: each link's round trip is reported, and one far below the
// configured latency fails the bring-up, since every finding about
// replication lag would rest on it.
func (p *Platform) applyLinkLatency(ctx context.Context, engine *docker.Engine) error {
	if err := engine.SetLinkLatency(ctx, p.linkLatency); err != nil {
		return err
	}
	for _, link := range measuredLinks(p.nodes, p.cfg.Topology.Regions) {
		oneWay := p.linkLatency(link.from.Node.Region, link.from.Node.Zone, link.to.Node.Region, link.to.Node.Zone)
		measured, err := engine.RoundTrip(ctx, link.from.Node.Name, link.to.Node.Name, link.to.Port)
		if err != nil {
			return fmt.Errorf("measure the link %s: %w", link.what, err)
		}
		detail := fmt.Sprintf("%s (%s -> %s): configured %v one way, %v round trip; measured round trip %v",
			link.what, link.from.Node.Name, link.to.Node.Name, oneWay, 2*oneWay, measured.Round(10*time.Microsecond))
		p.emitAt(platform.Event{What: EventLinkLatency, Node: link.from.Node.Name, Detail: detail}, 0)
		if float64(measured) < linkFloor*float64(2*oneWay) {
			return fmt.Errorf("%w: link latency is not in force: %s", platform.ErrEnvironment, detail)
		}
	}
	return nil
}

// LinkLatencyVariable, set to "off", runs without the topology's link
// latencies (see WithoutLinkLatency); the CLI reads it.
const LinkLatencyVariable = "CHAOSDRILL_LINK_LATENCY"
