"""Records one case of the matrix: topology, servers, capture, the go command, the oracle's files.

Topologies (all in namespaces of their own, prefix gmwmx):
  lo    one namespace; servers, the go command and the capture on its lo. /etc/hosts names
        goproxy.test, cdn.test, sum.test, git.test, b.test 127.0.0.1; resolv.conf points at
        127.0.0.1:53 where nothing answers (a name not in hosts fails as DNS, locally).
  line  two namespaces joined by delayline.py (tun0 each side; client 10.77.0.1 and
        2001:db8:77::1, server .2): one-way delay, loss, or a dead IPv6 route. goproxy.test
        is named in the client's hosts (AAAA first, then A: Happy Eyeballs). Captured on the
        client's tun0 (LINKTYPE_RAW).
  squid lo plus squid on 127.0.0.1:3128 (HTTPS_PROXY / HTTP_PROXY); only the client's leg
        (port 3128) is captured, as on the user's machine.
"""
import glob, json, os, re, shutil, signal, subprocess, time

from infra import (MODS, REPO, GO119, escape_path, listening, log, die, ns_create, ns_delete, sh,
                   spawn, stop, wait_until)

DELAYLINE = os.environ.get('DELAYLINE', os.path.join(REPO, '..', 'shared', 'tools', 'delayline.py'))
SQUID = '/usr/sbin/squid'
NCSA = '/usr/lib/squid/basic_ncsa_auth'
HOSTS_LO = '127.0.0.1 goproxy.test cdn.test sum.test git.test b.test\n'
NS_LO, NS_C, NS_S = 'gmwmx-lo', 'gmwmx-c', 'gmwmx-s'


class Recording:
    def __init__(self, kit, case, out, gmw=None):
        self.kit, self.c, self.out, self.gmw = kit, case, out, gmw
        self.name = case['name']
        self.sc = os.path.join(kit.work, 'sc', self.name)
        shutil.rmtree(self.sc, ignore_errors=True)
        os.makedirs(os.path.join(self.sc, 'm'))
        os.makedirs(os.path.join(self.sc, 'home'))
        self.procs, self.caps, self.servers, self.sumkeys = [], [], [], {}
        self.keylog = os.path.join(self.sc, 'keylog')
        self.squid_log = None

    # -------------------------------------------------------------- topology
    def topology(self):
        topo = self.c.get('topo', 'lo')
        if topo in ('lo', 'squid'):
            ns_create(NS_LO, HOSTS_LO)
            self.ns_go = self.ns_srv = NS_LO
            self.srv_host = '127.0.0.1'
            self.cap = (NS_LO, 'lo')
        elif topo == 'line':
            ln = self.c['line']
            dual = ln.get('dual', True)
            hosts = ('2001:db8:77::2 goproxy.test\n' if dual else '') + '10.77.0.2 goproxy.test\n'
            ns_create(NS_C, hosts)
            ns_create(NS_S, '')
            args = ['python3', DELAYLINE, NS_C, NS_S]
            for k, flag in (('delay', '--delay-ab'), ('delay', '--delay-ba'), ('loss', '--loss-ab'),
                            ('loss', '--loss-ba')):
                if ln.get(k):
                    args += [flag, str(ln[k])]
            if ln.get('drop_v6'):
                args.append('--drop-v6')
            if ln.get('blackhole'):
                args += ['--loss-ab', '1.0']
            p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            from infra import ALL_PIDS
            ALL_PIDS.append(p)
            self.procs.append(p)
            if p.stdout.readline().strip() != 'ready':
                die('delayline did not start')
            for ns, n in ((NS_C, 1), (NS_S, 2)):
                sh(['ip', '-n', ns, 'addr', 'add', '10.77.0.%d/24' % n, 'dev', 'tun0'])
                sh(['ip', '-n', ns, 'addr', 'add', '2001:db8:77::%d/64' % n, 'dev', 'tun0', 'nodad'])
                sh(['ip', '-n', ns, 'link', 'set', 'tun0', 'up'])
            self.ns_go, self.ns_srv, self.srv_host = NS_C, NS_S, ''
            self.cap = (NS_C, 'tun0')
        else:
            die('unknown topology ' + topo)

    # -------------------------------------------------------------- servers
    def start_goproxyd(self, s):
        port = s['port']
        addr = '%s:%d' % (self.srv_host, port)
        args = [self.kit.goproxyd, '-addr', addr, '-log', os.path.join(self.sc, 'srv-%s.jsonl' % s['role'])]
        args += ['-root', self.kit.tree_bad if s.get('tampered') else self.kit.tree_badmod if s.get('badmod') else self.kit.tree]
        if s.get('sumdb'):
            keyf = os.path.join(self.sc, 'sumkey-%s' % s['role'])
            args += ['-sumdb', 'sum.test', '-sumkey', keyf]
        if s.get('tls'):
            pki = self.kit.pki
            pfx = 'corp-server' if s.get('corp') else 'server'
            args += ['-cert', '%s/%s.pem' % (pki, pfx), '-key', '%s/%s.key' % (pki, pfx), '-keylog', self.keylog]
        args += s.get('args', [])
        p = spawn(args, out=os.path.join(self.sc, 'srv-%s.out' % s['role']), ns=self.ns_srv)
        self.procs.append(p)
        if not wait_until(10, lambda: listening(self.ns_srv, port)):
            die('goproxyd %s did not start: %s' % (addr, open(os.path.join(self.sc, 'srv-%s.out' % s['role'])).read()))
        if s.get('sumdb'):
            if not wait_until(5, lambda: os.path.getsize(keyf) > 0 if os.path.exists(keyf) else False):
                die('no sumdb key')
            self.sumkeys[s['role']] = open(keyf).read().strip()
        shown = [a.replace(self.sc + '/', '').replace(self.kit.work + '/', '') for a in args[1:]]
        self.servers.append({'role': s['role'], 'kind': 'goproxyd', 'addr': addr, 'netns': self.ns_srv,
                             'flags': shown, 'note': s.get('note', '')})

    def start_vcsd(self):
        addr = '%s:443' % (self.srv_host or '0.0.0.0')
        args = [os.path.join(self.kit.bin, 'vcsd'), '-addr', addr, '-log', os.path.join(self.sc, 'srv-git.jsonl'),
                '-repos', self.kit.repos, '-cert', self.kit.pki + '/server.pem', '-key', self.kit.pki + '/server.key',
                '-keylog', self.keylog, '-meta', 'git.test/homedir=git.test/homedir git https://git.test/homedir.git']
        p = spawn(args, out=os.path.join(self.sc, 'srv-git.out'), ns=self.ns_srv)
        self.procs.append(p)
        if not wait_until(10, lambda: listening(self.ns_srv, 443)):
            die('vcsd did not start')
        self.servers.append({'role': 'git', 'kind': 'vcsd', 'addr': addr, 'netns': self.ns_srv,
                             'flags': ['-meta', 'git.test/homedir=git.test/homedir git https://git.test/homedir.git']})

    def start_squid(self, mode):
        sq = os.path.join(self.sc, 'squid')
        os.makedirs(sq)
        conf = ['http_port 127.0.0.1:3128', 'visible_hostname corp-proxy.test', 'dns_nameservers 127.0.0.1',
                'hosts_file /etc/hosts', 'pid_filename none', 'cache_log stdio:%s/cache.log' % sq,
                'access_log stdio:%s/access.log squid' % sq, 'cache deny all', 'coredump_dir ' + sq,
                'shutdown_lifetime 0 seconds', 'icp_port 0', 'htcp_port 0', 'netdb_filename none',
                'pinger_enable off', 'acl CONNECT method CONNECT', 'acl goproxy_port port 3000-3002',
                'http_access deny !goproxy_port']
        if mode == 'allow':
            conf += ['http_access allow all']
        elif mode == 'deny':
            conf += ['acl goproxy dstdomain goproxy.test', 'http_access deny goproxy', 'http_access allow all']
        elif mode == 'auth':
            pw = self.c['squid_password']
            h = sh(['openssl', 'passwd', '-apr1', pw]).strip()
            with open(sq + '/passwd', 'w') as f:
                f.write('corpuser:%s\n' % h)
            conf += ['auth_param basic program %s %s/passwd' % (NCSA, sq), 'auth_param basic children 1 startup=1 idle=1',
                     'auth_param basic realm corp', 'acl authed proxy_auth REQUIRED', 'http_access allow authed']
        conf.append('http_access deny all')
        with open(sq + '/squid.conf', 'w') as f:
            f.write('\n'.join(conf) + '\n')
        os.chmod(self.kit.work, 0o755)
        for d in (os.path.join(self.kit.work, 'sc'), self.sc):
            os.chmod(d, 0o755)
        sh(['chown', '-R', 'proxy:proxy', sq])
        p = spawn([SQUID, '-N', '-f', sq + '/squid.conf'], out=sq + '/squid.out', ns=self.ns_srv)
        self.procs.append(p)
        if not wait_until(20, lambda: listening(self.ns_srv, 3128)):
            die('squid did not start: %s' % open(sq + '/squid.out').read()[-500:])
        self.squid_log = sq + '/access.log'
        self.servers.append({'role': 'squid', 'kind': 'squid', 'addr': '127.0.0.1:3128', 'mode': mode,
                             'config': [c.replace(sq, '<squid dir>') for c in conf]})

    # -------------------------------------------------------------- the go command
    def go_env(self):
        go = self.kit.go127 if self.c['go'] == '127' else GO119
        home = os.path.join(self.sc, 'home')
        env = {'PATH': '%s:/usr/local/bin:/usr/bin:/bin' % os.path.dirname(go), 'HOME': home,
               'GOPATH': os.path.join(self.sc, 'gopath'), 'GOMODCACHE': os.path.join(self.sc, 'gopath', 'pkg', 'mod'),
               'GOCACHE': os.path.join(self.sc, 'gocache'), 'GO111MODULE': 'on', 'GOFLAGS': '-mod=mod',
               'GOTOOLCHAIN': 'local', 'GOSUMDB': 'off', 'GONOSUMDB': '', 'GOPRIVATE': '', 'GONOPROXY': '',
               'GOINSECURE': '', 'GIT_TERMINAL_PROMPT': '0', 'GIT_CONFIG_NOSYSTEM': '1',
               'SSL_CERT_FILE': self.kit.ca, 'GIT_SSL_CAINFO': self.kit.ca}
        for k, v in self.c.get('env', {}).items():
            for role, key in self.sumkeys.items():
                v = v.replace('{SUMKEY:%s}' % role, key)
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        for k in self.c.get('unset', []):
            env.pop(k, None)
        if self.c.get('netrc'):
            with open(os.path.join(home, '.netrc'), 'w') as f:
                f.write(self.c['netrc'])
            os.chmod(os.path.join(home, '.netrc'), 0o600)
        with open(os.path.join(self.sc, 'm', 'go.mod'), 'w') as f:
            f.write('module example.com/m\n\ngo 1.19\n')
        return go, env

    def run(self):
        c = self.c
        self.topology()
        for s in c.get('servers', []):
            self.start_goproxyd(s)
        if c.get('vcsd'):
            self.start_vcsd()
        if c.get('squid'):
            self.start_squid(c['squid'])
        go, env = self.go_env()
        mods = c.get('mods') or ['%s@%s' % mv for mv in MODS]
        argv = ['get', '-x'] + mods
        ns, iface = self.cap
        filt = c.get('filter', 'tcp or udp or icmp or icmp6')
        capf = os.path.join(self.sc, 'cap.pcap')
        cerr = os.path.join(self.sc, 'cap.err')
        tcpd = spawn(['tcpdump', '-Z', 'root', '--immediate-mode', '-B', '16384', '-U', '-s', '0', '-i', iface,
                      '-w', capf, filt], out=cerr, ns=ns)
        if not wait_until(10, lambda: 'listening on' in open(cerr).read()):
            die('tcpdump did not start: ' + open(cerr).read())
        # `go env -json` under the same environment, in the same namespace
        r = subprocess.run(['ip', 'netns', 'exec', self.ns_go, 'env', '-i'] + ['%s=%s' % kv for kv in env.items()] +
                           [go, 'env', '-json'], cwd=os.path.join(self.sc, 'm'), capture_output=True, text=True)
        goenv = r.stdout
        pre = []
        timeout = c.get('timeout', 60)
        if c.get('via') == 'run':
            keyl = os.path.join(self.sc, 'gmw-keylog')
            pre = [self.gmw, 'run', '--json', '--upstream-ca', self.kit.ca, '--keylog', keyl, '--']
            if c.get('untrusted_upstream'):
                pre = [self.gmw, 'run', '--json', '--keylog', keyl, '--']
        cmd = ['ip', 'netns', 'exec', self.ns_go, 'env', '-i'] + ['%s=%s' % kv for kv in env.items()] + \
              ['/usr/bin/timeout', '-s', 'INT', str(timeout)] + pre + [go] + argv
        t0 = time.time()
        with open(os.path.join(self.sc, 'stdout'), 'wb') as so, open(os.path.join(self.sc, 'xlog'), 'wb') as se:
            st = subprocess.run(cmd, cwd=os.path.join(self.sc, 'm'), stdout=so, stderr=se).returncode
        took = time.time() - t0
        time.sleep(0.5)
        stop(tcpd, signal.SIGINT)
        for p in reversed(self.procs):
            stop(p)
        capstats = open(cerr).read()
        if not re.search(r'(^|\s)0 packets dropped by kernel', capstats):
            die('%s: capture lost packets: %s' % (self.name, capstats))
        got = self.modcache(env['GOMODCACHE'])
        self.write(st, took, go, env, argv, pre, goenv, got, capf)
        for ns in (NS_LO, NS_C, NS_S):
            ns_delete(ns)
        log('   %s: go exited %d in %.1fs; got %s' % (self.name, st, took,
            ','.join(k.split('/')[-1] for k, v in got.items() if v['extracted']) or '-'))
        return st

    def modcache(self, mc):
        got = {}
        for m, v in [tuple(x.split('@')) for x in (self.c.get('mods') or ['%s@%s' % mv for mv in MODS])]:
            d = os.path.join(mc, 'cache', 'download', escape_path(m), '@v')
            got['%s@%s' % (m, v)] = {
                'info': os.path.exists(os.path.join(d, v + '.info')),
                'mod': os.path.exists(os.path.join(d, v + '.mod')),
                'zip': os.path.exists(os.path.join(d, v + '.zip')),
                'extracted': os.path.isdir(os.path.join(mc, escape_path(m) + '@' + v)),
            }
        return got

    # -------------------------------------------------------------- outputs
    def write(self, st, took, go, env, argv, pre, goenv, got, capf):
        o, n = self.out, self.name
        for f in glob.glob(os.path.join(o, n + '.*')):
            os.remove(f)
        shutil.copy(capf, os.path.join(o, n + '.pcap'))
        shutil.copy(os.path.join(self.sc, 'xlog'), os.path.join(o, n + '.xlog'))
        with open(os.path.join(o, n + '.exit'), 'w') as f:
            f.write('%d\n' % st)
        with open(os.path.join(o, n + '.env.json'), 'w') as f:
            f.write(goenv)
        lines = []
        for s in glob.glob(os.path.join(self.sc, 'srv-*.jsonl')):
            role = os.path.basename(s)[4:-6]
            for l in open(s):
                if l.strip():
                    d = json.loads(l)
                    d['server'] = role
                    lines.append(d)
        lines.sort(key=lambda d: d.get('ts', 0))
        with open(os.path.join(o, n + '.server.jsonl'), 'w') as f:
            for d in lines:
                f.write(json.dumps(d, sort_keys=True) + '\n')
        replay = []
        if os.path.exists(self.keylog) and os.path.getsize(self.keylog) > 0:
            shutil.copy(self.keylog, os.path.join(o, n + '.keylog'))
            replay += ['--tls-keylog', n + '.keylog']
        gk = os.path.join(self.sc, 'gmw-keylog')
        if os.path.exists(gk) and os.path.getsize(gk) > 0:
            with open(os.path.join(o, n + '.keylog'), 'a') as f:
                f.write(open(gk).read())
            if not replay:
                replay += ['--tls-keylog', n + '.keylog']
        if self.squid_log and os.path.exists(self.squid_log):
            shutil.copy(self.squid_log, os.path.join(o, n + '.squid.log'))
        if self.c.get('via') == 'run':
            shutil.copy(os.path.join(self.sc, 'stdout'), os.path.join(o, n + '.run.ndjson'))
        gosum = os.path.join(self.sc, 'm', 'go.sum')
        if os.path.exists(gosum) and os.path.getsize(gosum) > 0:
            shutil.copy(gosum, os.path.join(o, n + '.go.sum'))
        gv = subprocess.run([go, 'version'], capture_output=True, text=True).stdout.strip()
        shown_env = {k: v.replace(self.sc + '/', '$SC/').replace(self.kit.work + '/', '$WORK/') for k, v in env.items()}
        meta = {
            'name': n, 'description': self.c.get('desc', ''), 'axes': self.c.get('axes', {}),
            'go_version_line': gv, 'go_version': gv.split()[2] if len(gv.split()) > 2 else '',
            'command': ' '.join((['gomodwatch', 'run', '--json', '--'] if pre else []) + ['go'] + argv),
            'via': self.c.get('via', 'go'), 'exit_status': st, 'duration_s': round(took, 2),
            'timeout_s': self.c.get('timeout', 60), 'env': shown_env,
            'topology': self.c.get('topo', 'lo'), 'line': self.c.get('line'), 'servers': self.servers,
            'sumdb_keys': self.sumkeys, 'requested': list(got.keys()), 'got': got,
            'passwords': self.c.get('passwords', []), 'replay_args': replay,
            'netrc': bool(self.c.get('netrc')),
            'recorded_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        }
        with open(os.path.join(o, n + '.meta.json'), 'w') as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write('\n')
        for f in glob.glob(os.path.join(o, n + '.*')):
            os.chmod(f, 0o644)
