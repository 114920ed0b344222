#!/usr/bin/env python3
"""Records the go-command matrix (tests/matrix/README.md). Run through tests/matrix/record.sh.

usage: matrix.py [--out DIR] [--gmw BIN] [--list] [--via-run] [--keep-going] [FILTER...]
A FILTER is a glob (fnmatch) or a substring of case names; no FILTER records every case.
"""
import argparse, fnmatch, os, shutil, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import infra  # noqa: E402
from cases import cases  # noqa: E402
from scenario import Recording  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(infra.REPO, 'captures', 'matrix'))
    ap.add_argument('--gmw', default=os.environ.get('GMW_BIN', os.path.join(infra.REPO, 'target', 'release', 'gomodwatch')))
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--via-run', action='store_true',
                    help='run every selected case through `gomodwatch run` (the live test does)')
    ap.add_argument('--keep-going', action='store_true', help='go on after a case fails to record')
    ap.add_argument('filters', nargs='*')
    o = ap.parse_args()
    every = cases()
    names = {c['name'] for c in every}

    def wanted(n):  # a case's exact name selects only it; else a glob, else a substring
        return any(n == f if f in names else (fnmatch.fnmatch(n, f) or f in n) for f in o.filters)
    sel = [c for c in every if not o.filters or wanted(c['name'])]
    if o.via_run:
        for c in sel:
            c['via'] = 'run'
            c['filter'] = 'tcp portrange 3000-3009 or tcp port 3128 or tcp port 443'
    if o.list:
        for c in sel:
            print(c['name'])
        return
    if any(c.get('via') == 'run' for c in sel) and not os.access(o.gmw, os.X_OK):
        infra.log('no gomodwatch binary at %s (cargo build --release, or --gmw BIN): skipping the run-* cases' % o.gmw)
        sel = [c for c in sel if c.get('via') != 'run']
    if os.geteuid() != 0:
        infra.die('run as root: it creates network namespaces and captures packets')
    os.makedirs(o.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix='gmwmx.')
    failed = []
    t0 = time.time()
    try:
        infra.cleanup_all()
        kit = infra.Kit(work)
        for i, c in enumerate(sel):
            infra.log('== [%d/%d] %s' % (i + 1, len(sel), c['name']))
            try:
                Recording(kit, c, o.out, gmw=os.path.abspath(o.gmw)).run()
            except SystemExit as e:
                infra.cleanup_all()
                if not o.keep_going:
                    raise
                failed.append((c['name'], str(e)))
                infra.log('   FAILED: %s' % e)
    finally:
        infra.cleanup_all()
        shutil.rmtree(work, ignore_errors=True)
    infra.log('recorded %d of %d cases into %s in %.0fs' % (len(sel) - len(failed), len(sel), o.out, time.time() - t0))
    for n, e in failed:
        infra.log('failed: %s: %s' % (n, e))
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    main()
