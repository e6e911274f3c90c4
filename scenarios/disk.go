package scenarios

import (
	"github.com/chaosdrill/chaosdrill/platform"
)

// checkDiskFault checks the fields of disk faults: a disk-slow fault slows
// the volume by a latency, a throughput cap or both; throughput_mb is for
// disk-slow only.
func (c *checker) checkDiskFault(f *Fault, p string) {
	switch {
	case f.Kind == FaultDiskSlow && f.Latency <= 0 && f.ThroughputMB <= 0:
		c.add(p, "a disk-slow fault needs latency (added to every I/O, e.g. 50ms), throughput_mb (a cap, e.g. 1) or both")
	case f.ThroughputMB < 0:
		c.add(p+".throughput_mb", "throughput_mb must not be negative, got %v", f.ThroughputMB)
	case f.Kind != FaultDiskSlow && c.doc.has(p+".throughput_mb"):
		c.add(p+".throughput_mb", "throughput_mb is for disk-slow faults, not %s", f.Kind)
	}
}

// checkArtifactParam checks an artifact key or a role named by a step of
// an artifacts.* or roles.* action against the s3 service's artifacts and
// roles.
func (c *checker) checkArtifactParam(svc *platform.ServiceSpec, action, name, value, path string) {
	switch name {
	case "key":
		if _, ok := svc.Artifact(value); !ok {
			var keys []string
			for _, a := range svc.Artifacts {
				keys = append(keys, a.Key)
			}
			c.add(path, "s3 service %q has no artifact key %q%s", svc.Name, value, suggestion(value, keys, "keys"))
		}
	case "role":
		r, ok := svc.Role(value)
		if !ok {
			var roles []string
			for _, r := range svc.Roles {
				roles = append(roles, r.Name)
			}
			c.add(path, "s3 service %q has no role %q%s", svc.Name, value, suggestion(value, roles, "roles"))
			return
		}
		if action == platform.ActionRolesUpgrade && r.Service == "" {
			c.add(path, "role %q names no service whose nodes play it, so roles.upgrade has no node to restart; give the role a service", value)
		}
	}
}
