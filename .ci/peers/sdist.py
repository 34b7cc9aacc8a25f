"""Fetch a peer's test files from its source distribution, at the installed version.

Nothing fetched here is stored in the repository: the files go to a temporary
folder and are deleted after the run. ``pip download`` (the ordinary client)
fetches the sdist of exactly the installed version; only the requested members
are extracted.
"""
import os
import socket
import subprocess
import sys
import tarfile
from importlib.metadata import version


class FetchError(RuntimeError):
    """The sdist could not be downloaded or does not hold the requested files."""


def installed_version(dist):
    """Version string of the installed distribution ``dist``."""
    return version(dist)


def network_available(host="pypi.org", port=443, timeout=5.0):
    """True when a TCP connection to the package index opens."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def fetch_members(dist, prefixes, dest):
    """Extract the members of ``dist``'s sdist under ``prefixes`` into ``dest``.

    ``prefixes`` are paths relative to the sdist's top folder (``"test/"``).
    Returns the folder the members were extracted under (``dest/<top>``).
    """
    ver = installed_version(dist)
    dl = os.path.join(dest, "_sdist")
    os.makedirs(dl, exist_ok=True)
    # --no-binary for this one distribution only: build requirements of the
    # metadata step may still come as wheels
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", dist,
           "--disable-pip-version-check", "-q", "-d", dl, f"{dist}=={ver}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    archives = [f for f in os.listdir(dl) if f.endswith((".tar.gz", ".zip"))]
    if not archives:
        raise FetchError(f"`pip download` of the {dist}=={ver} sdist failed "
                         f"(exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    path = os.path.join(dl, archives[0])
    with tarfile.open(path) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        want = [n for n in names
                if any(n.startswith(f"{top}/{p}") for p in prefixes)]
        if not want:
            raise FetchError(f"{archives[0]} holds nothing under {prefixes}")
        for name in want:
            tar.extract(name, dest, filter="data")
    return os.path.join(dest, top)
