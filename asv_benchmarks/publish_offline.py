"""``asv publish``, then point the HTML at local copies of its JavaScript and CSS.

asv's report loads jQuery, flot, bootstrap, stupidtable and blueimp-md5 from
CDNs, so it is blank on a machine without internet. This script runs
``asv publish`` (extra arguments are passed on), fetches those libraries
(MIT licensed) once from the npm registry with ``npm pack`` into
``.vendor-cache/`` (not part of the repository; their licenses go to
``vendor/licenses/`` of the report), copies them into the output folder and
rewrites every CDN ``<script>``/``<link>`` to the local copy (dropping the
``integrity`` hashes, which name the CDN builds). It fails when a script or
stylesheet would still come from the network.

Usage, in ``asv_benchmarks/`` (needs ``npm`` the first time)::

    python publish_offline.py            # then: python -m http.server -d html
"""
import json
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".vendor-cache")

#: file in the report's ``vendor/`` -> (npm package spec, path inside the package)
NPM_FILES = {
    "jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "jquery.flot.js": ("flot@0.8.3", "jquery.flot.js"),
    "jquery.flot.time.js": ("flot@0.8.3", "jquery.flot.time.js"),
    "jquery.flot.selection.js": ("flot@0.8.3", "jquery.flot.selection.js"),
    "jquery.flot.categories.js": ("flot@0.8.3", "jquery.flot.categories.js"),
    "jquery.flot.orderBars.js": ("flot-orderbars@1.0.0", "js/jquery.flot.orderBars.js"),
    "stupidtable.min.js": ("stupid-table-plugin@1.1.3", "stupidtable.min.js"),
    "md5.min.js": ("blueimp-md5@2.19.0", "js/md5.min.js"),
    "bootstrap.min.js": ("bootstrap@3.1.1", "dist/js/bootstrap.min.js"),
    "css/bootstrap.min.css": ("bootstrap@3.1.1", "dist/css/bootstrap.min.css"),
    **{f"fonts/glyphicons-halflings-regular.{ext}": (
        "bootstrap@3.1.1", f"dist/fonts/glyphicons-halflings-regular.{ext}")
       for ext in ("eot", "svg", "ttf", "woff")},
}

#: CDN file name -> local file (relative to the output folder).
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


def fetch_vendor(dest):
    """Write the files of :data:`NPM_FILES` (and each package's license) under ``dest``."""
    os.makedirs(CACHE, exist_ok=True)
    tarballs = {}
    for spec in sorted({spec for spec, _ in NPM_FILES.values()}):
        name, version = spec.rsplit("@", 1)
        tgz = os.path.join(CACHE, f"{name}-{version}.tgz")
        if not os.path.exists(tgz):
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", CACHE, spec],
                           check=True, stdout=subprocess.DEVNULL)
        tarballs[spec] = tgz
    for local, (spec, inner) in NPM_FILES.items():
        with tarfile.open(tarballs[spec]) as tar:
            data = tar.extractfile(f"package/{inner}").read()
        path = os.path.join(dest, local)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    os.makedirs(os.path.join(dest, "licenses"), exist_ok=True)
    for spec, tgz in tarballs.items():
        with tarfile.open(tgz) as tar:
            lic = [m for m in tar.getnames()
                   if re.fullmatch(r"package/LICEN[CS]E(\.\w+)?", m, re.I)]
            # flot-orderbars ships no license file: its MIT notice is in the script header
            text = (tar.extractfile(lic[0]).read() if lic else
                    f"{spec}: license notice in the header of its file\n".encode())
        with open(os.path.join(dest, "licenses", spec.rsplit("@", 1)[0] + ".txt"), "wb") as fh:
            fh.write(text)


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
    fetch_vendor(os.path.join(out, "vendor"))
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
