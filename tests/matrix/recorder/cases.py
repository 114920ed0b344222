"""The matrix: every case the recorder knows, by name.

A case is a dict: name, go ('127' | '119'), topo ('lo' | 'line' | 'squid'), servers (goproxyd
instances: role, port, args, tls, sumdb, tampered, corp), vcsd, squid, env (the go command's
variables over the hermetic defaults; '{SUMKEY:ROLE}' is that server's checksum-database key),
netrc, mods, timeout, via ('go' | 'run': through `gomodwatch run`), passwords (distinctive
secrets given to the go command, which no output of gomodwatch may show), axes, desc.
"""

HOMEDIR = 'github.com/mitchellh'
PW_PROXY = 'Mx7-proxy-pw-Qz81'     # goproxyd -auth mxuser:PW_PROXY
PW_WRONG = 'Mx7-wrong-pw-Vb03'     # a wrong one, also never to be shown
PW_SQUID = 'Mx7-squid-pw-Jk42'     # squid's basic_ncsa_auth user corpuser
PW_GIT = 'Mx7-git-pw-Hd55'
GOS = ('127', '119')

# Server behaviours of proxy A (B, when there is one, serves everything).
MODES = {
    'ok': ('serves everything', {'args': []}),
    'miss404': ('serves only github.com/mitchellh, 404 for the rest', {'args': ['-only', HOMEDIR, '-miss', '404']}),
    'miss410': ('serves only github.com/mitchellh, 410 for the rest', {'args': ['-only', HOMEDIR, '-miss', '410']}),
    '404': ('answers 404 to everything', {'args': ['-mode', '404']}),
    '410': ('answers 410 to everything', {'args': ['-mode', '410']}),
    '500': ('answers 500 to everything', {'args': ['-mode', '500']}),
    'html': ('answers every request with a 200 text/html block page (a web filter)', {'args': ['-mode', 'html']}),
    'hang': ('accepts requests and never answers', {'args': ['-mode', 'hang']}),
    'auth': ('requires HTTP Basic credentials; none are configured', {'args': ['-auth', 'mxuser:' + PW_PROXY]}),
    'authnetrc': ('requires HTTP Basic credentials; $HOME/.netrc has them', {'args': ['-auth', 'mxuser:' + PW_PROXY]}),
    'authwrong': ('requires HTTP Basic credentials; $HOME/.netrc has a wrong password', {'args': ['-auth', 'mxuser:' + PW_PROXY]}),
    'authurl': ('requires HTTP Basic credentials; GOPROXY carries them as user:password@', {'args': ['-auth', 'mxuser:' + PW_PROXY]}),
    'refused': ('nothing listens at A (connection refused)', None),
    'cdn': ('redirects .zip to a CDN (second goproxyd) that serves it', {'args': ['-redirect', '{CDN}']}),
    'cdn404': ('redirects .zip to a CDN that answers 404', {'args': ['-redirect', '{CDN}']}),
    'cdnrefused': ('redirects .zip to a CDN address where nothing listens', {'args': ['-redirect', '{CDNREF}']}),
    'tampered': ('serves a tampered go-homedir zip (the checksum database has the genuine hash)', {'args': [], 'tampered': True}),
    'badmod': ('serves a go-homedir .mod that declares another module path', {'args': [], 'badmod': True}),
}
SHAPES = {'one': 'A', 'comma': 'A,B', 'pipe': 'A|B', 'direct': 'A,direct'}
SUMDBS = {
    'sumoff': 'GOSUMDB=off',
    'sumproxy': 'GOSUMDB=sum.test+KEY, served through the (last) proxy at /sumdb/sum.test/',
    'sumdirect': 'GOSUMDB=sum.test+KEY http://127.0.0.1:3003 (its own server)',
    'sumrefused': 'GOSUMDB=sum.golang.org http://127.0.0.1:3009 (nothing listens: refused)',
    'sumdefault': 'GOSUMDB unset (sum.golang.org): not at the proxy, then its own name, which does not resolve here',
}


def proxy_case(go, mode, shape, sumdb, tls=False, topo='lo', extra=None):
    """A case of the GOPROXY matrix on loopback: proxy A in MODE, B serving all."""
    scheme = 'https' if tls else 'http'
    hostA = 'goproxy.test' if tls else '127.0.0.1'
    hostB = 'b.test' if tls else '127.0.0.1'
    urlA = '%s://%s:3000' % (scheme, hostA)
    urlB = '%s://%s:3001' % (scheme, hostB)
    desc_mode, spec = MODES[mode]
    servers, env, passwords, netrc = [], {}, [], None
    if mode == 'refused':
        urlA = '%s://%s:3009' % (scheme, hostA)
    else:
        s = dict(spec, role='A', port=3000, tls=tls)
        s['args'] = [a.replace('{CDN}', '%s://cdn.test:3002' % scheme).replace('{CDNREF}', '%s://cdn.test:3009' % scheme)
                     for a in spec['args']]
        servers.append(s)
    if mode.startswith('auth'):
        passwords.append(PW_PROXY)
    if mode == 'authnetrc':
        netrc = 'machine %s login mxuser password %s\n' % (hostA, PW_PROXY)
    if mode == 'authwrong':
        netrc = 'machine %s login mxuser password %s\n' % (hostA, PW_WRONG)
        passwords.append(PW_WRONG)
    if mode == 'authurl':
        urlA = urlA.replace('://', '://mxuser:%s@' % PW_PROXY)
    if mode in ('cdn', 'cdn404'):
        servers.append({'role': 'cdn', 'port': 3002, 'tls': tls, 'args': ['-mode', '404'] if mode == 'cdn404' else []})
    if shape in ('comma', 'pipe'):
        servers.append({'role': 'B', 'port': 3001, 'tls': tls, 'args': []})
    gp = SHAPES[shape].replace('A', urlA).replace('B', urlB)
    env['GOPROXY'] = gp
    if sumdb == 'sumproxy':
        last = servers[-1] if shape in ('comma', 'pipe') else (servers[0] if servers and servers[0]['role'] == 'A' else None)
        if last is None:  # nothing to serve it: a key of a database nobody serves
            servers.append({'role': 'S', 'port': 3003, 'tls': False, 'args': [], 'sumdb': True})
            env['GOSUMDB'] = '{SUMKEY:S}'
        else:
            last['sumdb'] = True
            env['GOSUMDB'] = '{SUMKEY:%s}' % last['role']
    elif sumdb == 'sumdirect':
        servers.append({'role': 'S', 'port': 3003, 'tls': False, 'args': [], 'sumdb': True})
        env['GOSUMDB'] = '{SUMKEY:S} http://127.0.0.1:3003'
    elif sumdb == 'sumrefused':
        env['GOSUMDB'] = 'sum.golang.org http://127.0.0.1:3009'
    elif sumdb == 'sumdefault':
        env['GOSUMDB'] = None
    tr = 'https' if tls else 'http'
    name = '%s-%s-%s-%s-go%s' % (tr, mode, shape, sumdb, go)
    c = {'name': name, 'go': go, 'topo': topo, 'servers': servers, 'env': env, 'netrc': netrc,
         'passwords': passwords, 'timeout': 4 if mode == 'hang' else 60,
         'axes': {'go': go, 'server': mode, 'goproxy': shape, 'gosumdb': sumdb, 'transport': tr, 'path': topo},
         'desc': 'GOPROXY=%s; A %s; %s.' % (gp, desc_mode, SUMDBS[sumdb])}
    if extra:
        c.update(extra)
    return c


def cases():
    out = []
    # 1. The GOPROXY walk over plain http, GOSUMDB=off: every server behaviour x every shape.
    for go in GOS:
        for mode in MODES:
            if mode in ('tampered', 'badmod'):
                continue
            for shape in SHAPES:
                if mode == 'hang' and shape in ('comma', 'direct'):
                    continue  # a hang never ends, whatever follows it: 'one' and 'pipe' show it
                out.append(proxy_case(go, mode, shape, 'sumoff'))
    # 2. The checksum database: through the proxy, its own URL, refused, the default.
    for go in GOS:
        for mode, shape in (('ok', 'one'), ('miss404', 'comma'), ('500', 'pipe'), ('html', 'one'), ('tampered', 'one'),
                            ('badmod', 'pipe')):
            for sumdb in ('sumproxy', 'sumdirect', 'sumrefused', 'sumdefault'):
                out.append(proxy_case(go, mode, shape, sumdb))
    # 3. GOPRIVATE / GONOPROXY / GONOSUMDB
    for go in GOS:
        for tag, env, sumdb, desc in (
                ('goprivate', {'GOPRIVATE': 'github.com/hashicorp'}, 'sumproxy',
                 'GOPRIVATE=github.com/hashicorp: errwrap goes direct (git https://github.com/..., which does not resolve here) and is not looked up'),
                ('gonoproxy', {'GONOPROXY': 'github.com/hashicorp'}, 'sumproxy',
                 'GONOPROXY=github.com/hashicorp: errwrap goes direct, and is still looked up in sum.test'),
                ('gonosumdb', {'GONOSUMDB': 'github.com/hashicorp'}, 'sumrefused',
                 'GONOSUMDB=github.com/hashicorp with a checksum database that refuses: errwrap is not looked up (ok), go-homedir is (refused)'),
                ('gonosumdb-all', {'GONOSUMDB': 'github.com'}, 'sumrefused',
                 'GONOSUMDB=github.com: neither module is looked up, so the refusing checksum database does not matter'),
                ('goprivate-all', {'GOPRIVATE': 'github.com/mitchellh,github.com/hashicorp'}, 'sumrefused',
                 'GOPRIVATE names both: both direct (git, DNS fails here), neither looked up')):
            c = proxy_case(go, 'ok', 'one', sumdb)
            c['env'].update(env)
            c['name'] = 'http-%s-one-%s-go%s' % (tag, sumdb, go)
            c['axes']['private'] = tag
            c['desc'] += ' ' + desc + '.'
            out.append(c)
    # 4. GOPROXY=off, and a proxy name that does not resolve
    for go in GOS:
        out.append({'name': 'http-off-go%s' % go, 'go': go, 'env': {'GOPROXY': 'off'},
                    'axes': {'go': go, 'goproxy': 'off'}, 'desc': 'GOPROXY=off: module lookup disabled; no traffic at all.'})
        for shape, gp in (('one', 'http://nosuch.test:3000'), ('pipe', 'http://nosuch.test:3000|http://127.0.0.1:3001')):
            out.append({'name': 'http-dns-%s-go%s' % (shape, go), 'go': go, 'env': {'GOPROXY': gp},
                        'servers': [{'role': 'B', 'port': 3001, 'args': []}] if shape == 'pipe' else [],
                        'axes': {'go': go, 'server': 'dns', 'goproxy': shape},
                        'desc': 'GOPROXY=%s: nosuch.test is in no hosts file and the resolver (127.0.0.1:53) refuses.' % gp})
    # 5. https (HTTP/2 over TLS, test CA in SSL_CERT_FILE; keylog from the servers)
    for go in GOS:
        for mode, shape, sumdb in (('ok', 'one', 'sumoff'), ('miss404', 'comma', 'sumoff'), ('404', 'comma', 'sumoff'),
                                   ('500', 'pipe', 'sumoff'), ('500', 'comma', 'sumoff'), ('html', 'one', 'sumoff'),
                                   ('auth', 'one', 'sumoff'), ('authnetrc', 'one', 'sumoff'), ('authwrong', 'one', 'sumoff'),
                                   ('authurl', 'one', 'sumoff'), ('cdn', 'one', 'sumoff'), ('tampered', 'one', 'sumproxy'),
                                   ('ok', 'one', 'sumproxy'), ('badmod', 'one', 'sumoff')):
            out.append(proxy_case(go, mode, shape, sumdb, tls=True))
        for shape in ('one', 'pipe'):
            c = proxy_case(go, 'ok', shape, 'sumoff', tls=True)
            c['servers'][0]['corp'] = True
            c['name'] = 'https-untrusted-%s-sumoff-go%s' % (shape, go)
            c['axes']['server'] = 'untrusted'
            c['desc'] += ' A\'s certificate is issued by "Corp TLS Inspection CA", which the go command does not trust.'
            out.append(c)
    # 6. squid between the go command and the proxies (only the client's leg is captured)
    for go in GOS:
        for mode, tls, how in (('allow', True, 'allows CONNECT'), ('deny', True, 'denies CONNECT goproxy.test (403)'),
                               ('auth', True, 'requires proxy credentials (407); HTTPS_PROXY has none'),
                               ('authok', True, 'requires proxy credentials; HTTPS_PROXY has them'),
                               ('authwrong', True, 'requires proxy credentials; HTTPS_PROXY has a wrong password'),
                               ('allow', False, 'forwards http requests (HTTP_PROXY)'),
                               ('deny', False, 'denies requests for goproxy.test (403)')):
            out.append(squid_case(go, mode, tls, how))
    # 7. a real network path (delayline between two namespaces)
    for go in GOS:
        for tag, line, tls in (('delay40', {'delay': 40}, False), ('loss5', {'loss': 0.05, 'delay': 5}, False),
                               ('deadv6', {'drop_v6': True, 'delay': 5}, False), ('deadv6', {'drop_v6': True, 'delay': 5}, True),
                               ('v4only', {'dual': False, 'delay': 20}, False)):
            out.append(line_case(go, tag, line, tls))
    out.append(line_case('127', 'blackhole', {'dual': False, 'blackhole': True}, False))
    # 8. direct mode: a real git host (vcsd: go-get meta tags + git http-backend)
    for go in GOS:
        out += direct_cases(go)
    # 9. through `gomodwatch run` (recorded only when the recorder is given the binary)
    out += run_cases()
    names = [c['name'] for c in out]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return out


def squid_case(go, mode, tls, how):
    scheme = 'https' if tls else 'http'
    port = 3001 if tls else 3000
    url = '%s://goproxy.test:%d' % (scheme, port)
    env = {'GOPROXY': url}
    pwds = []
    proxy = 'http://127.0.0.1:3128'
    if mode == 'authok':
        proxy = 'http://corpuser:%s@127.0.0.1:3128' % PW_SQUID
    if mode == 'authwrong':
        proxy = 'http://corpuser:%s@127.0.0.1:3128' % PW_WRONG
        pwds.append(PW_WRONG)
    if mode.startswith('auth'):
        pwds.append(PW_SQUID)
    env['HTTPS_PROXY' if tls else 'HTTP_PROXY'] = proxy
    return {'name': 'squid-%s-%s-go%s' % (mode, scheme, go), 'go': go, 'topo': 'squid',
            'servers': [{'role': 'A', 'port': port, 'tls': tls, 'args': []}],
            'squid': 'auth' if mode.startswith('auth') else mode, 'squid_password': PW_SQUID, 'env': env,
            'filter': 'tcp port 3128', 'passwords': pwds,
            'axes': {'go': go, 'path': 'squid-' + mode, 'transport': scheme, 'goproxy': 'one'},
            'desc': 'GOPROXY=%s through squid on 127.0.0.1:3128, which %s. Captured: the client leg only.' % (url, how)}


def line_case(go, tag, line, tls):
    scheme = 'https' if tls else 'http'
    url = '%s://goproxy.test:3000' % scheme
    return {'name': 'line-%s-%s-go%s' % (tag, scheme, go), 'go': go, 'topo': 'line', 'line': line,
            'servers': [{'role': 'A', 'port': 3000, 'tls': tls, 'args': []}], 'env': {'GOPROXY': url},
            'timeout': 90, 'axes': {'go': go, 'path': 'line-' + tag, 'transport': scheme, 'goproxy': 'one'},
            'desc': 'GOPROXY=%s over delayline.py %s; goproxy.test has %s.' % (
                url, line, 'an A record only' if line.get('dual') is False else 'AAAA and A (hosts)')}


def direct_cases(go):
    m = ['git.test/homedir@v1.1.0']
    both = m + ['github.com/hashicorp/errwrap@v1.1.0']
    out = []
    for tag, env, vcsd, mods, servers, desc in (
            ('ok', {'GOPROXY': 'direct'}, True, m, [], 'GOPROXY=direct: go-get discovery and git over https'),
            ('refused', {'GOPROXY': 'direct'}, False, m, [], 'GOPROXY=direct and nothing listens on git.test:443'),
            ('sumdefault', {'GOPROXY': 'direct', 'GOSUMDB': None}, True, m, [],
             'GOPROXY=direct with the default GOSUMDB: the private module is looked up in sum.golang.org, which does not resolve'),
            ('fallback', {'GOPROXY': 'http://127.0.0.1:3000,direct', 'GONOSUMDB': 'git.test'}, True, both,
             [{'role': 'A', 'port': 3000, 'args': ['-only', 'github.com/hashicorp', '-miss', '404']}],
             'GOPROXY=A,direct: A 404s git.test/homedir, so it is fetched direct; errwrap from A'),
            ('goprivate', {'GOPROXY': 'http://127.0.0.1:3000', 'GOPRIVATE': 'git.test', 'GOSUMDB': '{SUMKEY:A}'}, True, both,
             [{'role': 'A', 'port': 3000, 'args': [], 'sumdb': True}],
             'GOPRIVATE=git.test: git.test/homedir direct, errwrap via A and verified with sum.test')):
        out.append({'name': 'direct-%s-go%s' % (tag, go), 'go': go, 'env': env, 'vcsd': vcsd, 'mods': mods,
                    'servers': servers, 'axes': {'go': go, 'goproxy': 'direct', 'server': 'git-' + tag, 'transport': 'https'},
                    'desc': desc + '.'})
    return out


def run_cases():
    out = []
    for mode, shape, sumdb, tls in (('ok', 'one', 'sumoff', True), ('miss404', 'comma', 'sumoff', True),
                                    ('500', 'pipe', 'sumoff', True), ('html', 'one', 'sumoff', True),
                                    ('authnetrc', 'one', 'sumoff', True), ('auth', 'one', 'sumoff', True),
                                    ('ok', 'one', 'sumrefused', True), ('tampered', 'one', 'sumproxy', True),
                                    ('ok', 'one', 'sumoff', False), ('500', 'comma', 'sumoff', False)):
        c = proxy_case('127', mode, shape, sumdb, tls=tls)
        c['via'] = 'run'
        c['name'] = 'run-' + c['name']
        c['axes']['via'] = 'run'
        c['desc'] += ' Run through `gomodwatch run` (its MITM on the go command\'s HTTPS_PROXY).'
        # the capture holds the MITM's upstream leg (the servers' ports), decrypted by the keylog
        c['filter'] = 'tcp portrange 3000-3009'
        out.append(c)
    c = proxy_case('127', 'ok', 'one', 'sumoff', tls=True)
    c.update({'name': 'run-https-untrusted-one-sumoff-go127', 'via': 'run', 'untrusted_upstream': True,
              'filter': 'tcp portrange 3000-3009'})
    c['servers'][0]['corp'] = True  # neither the MITM (SSL_CERT_FILE: the test CA) nor go trusts it
    c['axes'].update({'via': 'run', 'server': 'untrusted'})
    c['desc'] += (' A\'s certificate is issued by "Corp TLS Inspection CA". Through `gomodwatch run` without'
                  ' --upstream-ca: the MITM does not trust it (a TLS-inspecting proxy upstream).')
    out.append(c)
    return out
