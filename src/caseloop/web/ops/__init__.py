"""Operating the desk: `/healthz` (is it up and can it serve), `/metrics` (Prometheus) and the
middleware that times every request and gives it an id for the logs."""
