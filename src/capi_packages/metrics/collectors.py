"""Values read from the database at scrape time: job queues, failed jobs, package states, the pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from capi_packages.jobs.service import queue_counts
from capi_packages.packages.service import count_packages_by_state
from capi_packages.resource_pool.service import pool_size


class DatabaseCollector(Collector):
    def __init__(
        self, sessions: sessionmaker[Session], engine: Engine, queues: Callable[[], Iterable[str]], process_type: str
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.queues = queues
        self.process_type = process_type

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._connection_pool()
        up = GaugeMetricFamily("capi_database_up", "1 when the scrape could read the database, else 0")
        try:
            with self.sessions() as session:
                counts = queue_counts(session)
                states = count_packages_by_state(session)
                entries, pool_bytes = pool_size(session)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        known = set(self.queues()) | set(counts.length) | set(counts.load) | set(counts.failed)
        for name, doc, values in (
            ("cc_job_queues_length_total", "Jobs of each queue never yet picked up", counts.length),
            ("cc_job_queues_load_total", "Jobs of each queue ready to run now", counts.load),
            ("cc_failed_jobs_total", "Failed jobs of each queue", counts.failed),
        ):
            family = GaugeMetricFamily(name, doc, labels=["queue"])
            for queue in sorted(known):
                family.add_metric([queue], values.get(queue, 0))
            yield family
        packages = GaugeMetricFamily("capi_packages", "Packages by state", labels=["state"])
        for state, count in sorted(states.items()):
            packages.add_metric([state], count)
        yield packages
        yield GaugeMetricFamily("capi_resource_pool_entries", "Files held in the resource pool", value=entries)
        yield GaugeMetricFamily("capi_resource_pool_bytes", "Bytes held in the resource pool", value=pool_bytes)

    def _connection_pool(self) -> Iterator[GaugeMetricFamily]:
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return
        acquired = GaugeMetricFamily(
            "cc_acquired_db_connections_total", "Number of acquired DB connections", labels=["process_type"]
        )
        acquired.add_metric([self.process_type], pool.checkedout())
        yield acquired
        open_ = GaugeMetricFamily(
            "cc_open_db_connections_total",
            "Number of open DB connections (acquired + available)",
            labels=["process_type"],
        )
        open_.add_metric([self.process_type], pool.checkedout() + pool.checkedin())
        yield open_
