"""A small Dask cluster for the tests: 2 worker processes, 1 thread each.

Import ``dask_client`` into a test module (after
``pytest.importorskip("distributed")``) to get a module-scoped client,
closed with its cluster at the end of the module.
"""
import pytest


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def scheduler_task_count(client):
    """Number of tasks the scheduler currently knows."""
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
