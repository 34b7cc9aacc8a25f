"""``asv publish``, then point the HTML at local copies of its JavaScript and CSS.

asv's report loads jQuery, flot, bootstrap, stupidtable and blueimp-md5 from
CDNs, so it is blank on a machine without internet. This script runs
``asv publish`` (extra arguments are passed on), copies ``vendor/`` (those
libraries, MIT licensed, licenses in ``vendor/licenses/``) into the output
folder and rewrites every CDN ``<script>``/``<link>`` to the local copy
(dropping the ``integrity`` hashes, which name the CDN builds). It fails when
a script or stylesheet would still come from the network.

Usage, in ``asv_benchmarks/``::

    python publish_offline.py            # then: python -m http.server -d html
"""
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENDOR = os.path.join(HERE, "vendor")

#: CDN file name -> vendored file (relative to the output folder).
LOCAL = {
    "jquery-3.3.1.min.js": "vendor/jquery-3.3.1.min.js",
    "jquery.flot.min.js": "vendor/jquery.flot.js",
    "jquery.flot.time.min.js": "vendor/jquery.flot.time.js",
    "jquery.flot.selection.min.js": "vendor/jquery.flot.selection.js",
    "jquery.flot.categories.min.js": "vendor/jquery.flot.categories.js",
    "jquery.flot.orderBars.js": "vendor/jquery.flot.orderBars.js",
    "stupidtable.min.js": "vendor/stupidtable.min.js",
    "md5.min.js": "vendor/md5.min.js",
    "bootstrap.min.js": "vendor/bootstrap.min.js",
    "bootstrap.min.css": "vendor/css/bootstrap.min.css",
}
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_URL = re.compile(r'\b(src|href)="((?:https?:)?//[^"]+)"')
#: Subresource-integrity hashes name the CDN builds; the vendored files are other builds.
_SRI = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')


def localize(html):
    """Return ``html`` with CDN scripts/stylesheets replaced, and the URLs left unmapped."""
    missing = []

    def tag(m):
        text = m.group(0)
        url = _URL.search(text)
        if url is None:
            return text
        name = url.group(2).rsplit("/", 1)[-1]
        if name not in LOCAL:
            missing.append(url.group(2))
            return text
        text = text.replace(url.group(0), f'{url.group(1)}="{LOCAL[name]}"')
        return _SRI.sub("", text)
    return _TAG.sub(tag, html), missing


def html_dir():
    with open(os.path.join(HERE, "asv.conf.json")) as fh:
        conf = json.load(fh)
    return os.path.join(HERE, conf.get("html_dir", "html"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    subprocess.run(["asv", "publish", *argv], cwd=HERE, check=True)
    out = html_dir()
    shutil.copytree(VENDOR, os.path.join(out, "vendor"), dirs_exist_ok=True)
    missing = []
    for root, _, files in os.walk(out):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as fh:
                text, miss = localize(fh.read())
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            missing += [f"{os.path.relpath(path, out)}: {u}" for u in miss]
    if missing:
        print("still loaded from the network:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    print(f"offline report in {out} (serve it: python -m http.server -d {os.path.relpath(out)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
