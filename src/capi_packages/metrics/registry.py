"""One registry per app or worker process, with every metric the service records.

Each process has its own endpoint (API processes at /metrics, worker processes on
CAPI_WORKER_METRICS_PORT): per-process counters are never merged across processes, as Prometheus
scrapes every target and sums them itself. The values read from the database at scrape time
(queues, failed jobs, package states, the resource pool) are the deployment's, the same from every
process: aggregate those with max(), not sum().
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# A `_created` series beside every counter doubles the scrape for nothing a dashboard uses.
disable_created_metrics()  # type: ignore[no-untyped-call]

# CC's buckets for its delayed-job histograms (lib/cloud_controller/metrics/prometheus_updater.rb).
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests_outstanding = Gauge("cc_requests_outstanding_total", "Requests outstanding", registry=r)
        self.requests_completed = Counter("cc_requests_completed_total", "Requests completed", registry=r)
        self.requests = Counter(
            "capi_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_duration = Histogram(
            "capi_http_request_duration_seconds",
            "HTTP request durations by method, route template and status",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.job_duration = Histogram(
            "cc_job_duration_seconds",
            "Job processing time (start to finish)",
            ["queue", "worker"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.job_pickup_delay = Histogram(
            "cc_job_pickup_delay_seconds",
            "Job pickup time (from enqueue to start)",
            ["queue", "worker"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.jobs_finished = Counter(
            "capi_jobs_finished_total", "Jobs run by this process, by queue and outcome", ["queue", "state"], registry=r
        )
        self.upload_bytes = Counter(
            "capi_package_upload_bytes_total", "Bytes of package bits received in uploads", registry=r
        )
