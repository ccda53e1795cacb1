"""What the cf CLI reads and changes on an app beyond create/list: rename, lifecycle, labels, env,
and the runtime resources this service never produces (droplets, builds, routes, deployments)."""
