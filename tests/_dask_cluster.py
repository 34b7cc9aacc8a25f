"""A small Dask cluster for the tests: 2 worker processes, 1 thread each.

Import ``dask_client`` into a test module (after
``pytest.importorskip("distributed")``) to get a module-scoped client,
closed with its cluster at the end of the module.
"""
import importlib
import os

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


# Fault injection, run on every worker with ``client.run`` (this module is light to import:
# the workers import it to unpickle these functions).

def inject_failure(target, mode, marker):
    """Replace ``module.name`` (``target``) on this worker by a failing wrapper.

    ``'once'``: the first call in the whole cluster raises (``marker`` is a
    file created atomically); ``'kill'``: that call ends its worker process;
    ``'always'``: every call raises.
    """
    module_name, name = target
    mod = importlib.import_module(module_name)
    orig = mod.__dict__.setdefault("_orig_" + name, getattr(mod, name))

    def failing(*args, **kwargs):
        if mode == "always":
            raise RuntimeError("injected failure")
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return orig(*args, **kwargs)
        os.close(fd)
        if mode == "kill":
            os._exit(1)
        raise RuntimeError("injected failure (once)")

    setattr(mod, name, failing)


def restore(target):
    """Undo :func:`inject_failure` on this worker."""
    module_name, name = target
    mod = importlib.import_module(module_name)
    if "_orig_" + name in mod.__dict__:
        setattr(mod, name, mod.__dict__.pop("_orig_" + name))
