#!/usr/bin/python3
"""Run the pam_apitoken benchmark and write BENCHMARKS.md.

Started by bench/run.sh after it has built the tree (release). Measures, in
one run and side by side:

  1. logins through real libpam (bench_pam): the floor (pam_permit.so),
     pam_userdb.so (plaintext and sha512crypt), pam_unix.so (sha512crypt,
     root only) and pam_apitoken.so with stores of 1k, 100k and 1M tokens
     for a valid token, 1,000 valid tokens in turn, a wrong secret, an
     unknown id and a password that is not a token. Threads and processes,
     several interleaved rounds, plus instructions per login under callgrind.
  2. tokenadm at scale: create, revoke, rotate and list --json on a copy of
     the 1M store; store size per token.

Stores are built once (bench/build_store, through the project's own store
code) and kept in bench/.cache/ between runs. Everything else lives in a
private temporary directory that is removed at the end, as is the bench
user this script creates for pam_unix.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import pwd
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, 'bench', '.cache')
STORE_FORMAT = 1          # bump to force cached stores to be rebuilt
# A cached store is rebuilt when any of these change (what init and
# build_store write, and how).
STORE_SOURCES = ('core/store.c', 'core/store.h', 'core/record.c',
                 'core/record.h', 'core/token.c', 'core/token.h',
                 'core/sitekey.c', 'tokenadm/cmd_init.c',
                 'bench/build_store.c')
STORE_MAX_AGE = 45 * 86400  # tokens are created with tokenadm's 90-day default
BENCH_USER = 'ptkbench'
BENCH_GECOS = 'pam_apitoken bench'
PASSWORD = 'bench-password-1'
NON_TOKEN = 'correct horse battery staple'
RHOST = '192.0.2.10'
ANALYSIS_BEGIN = '<!-- analysis:begin -->'
ANALYSIS_END = '<!-- analysis:end -->'


def log(msg):
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ''


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def find_security_dir():
    arch = out(['gcc', '-print-multiarch']) or 'x86_64-linux-gnu'
    for d in (f'/lib/{arch}/security', f'/usr/lib/{arch}/security',
              '/lib64/security', '/lib/security', '/usr/lib64/security'):
        if os.path.exists(os.path.join(d, 'pam_permit.so')):
            return d
    sys.exit('bench: cannot find pam_permit.so')


# ---------------------------------------------------------------- the user

class BenchUser:
    """A system user for pam_unix (needs a shadow entry) that also owns the
    bench tokens. Created with useradd when root, removed at exit."""

    def __init__(self):
        self.name = None
        self.created = False
        self.unix_ok = False
        self.why_not = ''

    def setup(self):
        if os.geteuid() != 0:
            self.name = pwd.getpwuid(os.getuid()).pw_name
            self.why_not = 'not run as root: no shadow entry can be made'
            return
        try:
            pw = pwd.getpwnam(BENCH_USER)
            if pw.pw_gecos != BENCH_GECOS:
                self.name = BENCH_USER
                self.why_not = f'user {BENCH_USER} exists and is not ours'
                return
            self.created = True  # left by an interrupted run: ours
        except KeyError:
            try:
                sh(['useradd', '-M', '-N', '-s', '/usr/sbin/nologin',
                    '-c', BENCH_GECOS, BENCH_USER])
                self.created = True
            except (OSError, subprocess.CalledProcessError) as e:
                self.name = 'nobody'
                self.why_not = f'useradd failed: {e}'
                return
        self.name = BENCH_USER
        try:
            sh(['chpasswd', '-c', 'SHA512'],
               input=f'{BENCH_USER}:{PASSWORD}\n', text=True)
            with open('/etc/shadow') as f:
                ok = any(l.startswith(f'{BENCH_USER}:$6$') for l in f)
            self.unix_ok = ok
            if not ok:
                self.why_not = 'chpasswd did not write a sha512crypt hash'
        except (OSError, subprocess.CalledProcessError) as e:
            self.why_not = f'chpasswd failed: {e}'

    def cleanup(self):
        if self.created:
            subprocess.run(['userdel', BENCH_USER], check=False,
                           stderr=subprocess.DEVNULL)
            self.created = False


# ---------------------------------------------------------------- stores

class Store:
    def __init__(self, build, n, user):
        self.build = build
        self.n = n
        self.user = user
        self.dir = os.path.join(CACHE, f'store-{n}')
        self.conf = os.path.join(self.dir, 'pam_apitoken.conf')
        self.db = os.path.join(self.dir, 'tokens.db')
        self.tokens_file = os.path.join(self.dir, 'tokens.txt')
        self.build_seconds = None

    def tokenadm(self, *args, conf=None, **kw):
        return subprocess.run([os.path.join(self.build, 'tokenadm', 'tokenadm'),
                               '--config', conf or self.conf, *args], **kw)

    def tokens(self, kind):
        with open(self.tokens_file) as f:
            return [l.split()[1] for l in f if l.startswith(kind + ' ')]

    def usable(self):
        try:
            with open(os.path.join(self.dir, 'stamp.json')) as f:
                stamp = json.load(f)
            if (stamp.get('format') != STORE_FORMAT or stamp.get('n') != self.n
                    or stamp.get('user') != self.user
                    or stamp.get('sources') != store_sources_hash()
                    or time.time() - stamp.get('created', 0) > STORE_MAX_AGE):
                return False
            self.build_seconds = stamp.get('build_seconds')
            # The records must still decode with today's code.
            r = self.tokenadm('verify', '--user', self.user, '--rhost', RHOST,
                              '--service', 'bench-apitoken',
                              input=self.tokens('valid')[0] + '\n', text=True,
                              capture_output=True)
            return r.returncode == 0
        except (OSError, ValueError, IndexError):
            return False

    def ensure(self):
        if self.usable():
            log(f'store of {self.n:,} tokens: cached in {self.dir}')
            return
        if os.path.exists(self.dir):
            log(f'cached store of {self.n:,} tokens is stale (format sources '
                f'changed, too old, or it does not verify)')
        log(f'building a store of {self.n:,} tokens in {self.dir}')
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, mode=0o700)
        write_private(self.conf, f'# bench store\ndb = {self.db}\n'
                      f'key = {os.path.join(self.dir, "site.key")}\n')
        self.tokenadm('init', check=True, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        sh([os.path.join(self.build, 'bench', 'build_store'),
            '--config', self.conf, '--user', self.user, '--count', str(self.n),
            '--known', str(min(1000, self.n)),
            '--tokens-out', self.tokens_file])
        self.build_seconds = time.monotonic() - t0
        with open(os.path.join(self.dir, 'stamp.json'), 'w') as f:
            json.dump({'format': STORE_FORMAT, 'n': self.n, 'user': self.user,
                       'sources': store_sources_hash(),
                       'created': time.time(),
                       'build_seconds': self.build_seconds}, f)
        if not self.usable():
            sys.exit(f'bench: the new store {self.db} does not verify')


def store_sources_hash():
    h = hashlib.sha256()
    for rel in STORE_SOURCES:
        try:
            with open(os.path.join(ROOT, rel), 'rb') as f:
                h.update(rel.encode() + b'\0' + f.read())
        except OSError:
            h.update(rel.encode() + b'\0missing')
    return h.hexdigest()


def build_userdb(path, value, n):
    """A Berkeley DB hash file as Debian's pam_userdb reads it, written by
    python3's dbm.ndbm (Debian links it with libdb)."""
    code = ('import dbm.ndbm, sys\n'
            'assert dbm.ndbm.library == "Berkeley DB", dbm.ndbm.library\n'
            'path, value, n, user = sys.argv[1], sys.argv[2].encode(), '
            'int(sys.argv[3]), sys.argv[4].encode()\n'
            'd = dbm.ndbm.open(path, "n", 0o600)\n'
            'for i in range(n):\n'
            '    d[b"user%07d" % i] = value\n'
            'd[user] = value\n'
            'd.close()\n')
    sh(['/usr/bin/python3', '-c', code, path, value, str(n), BENCH_USER])


def sha512crypt(password):
    r = out(['openssl', 'passwd', '-6', password])
    if not r.startswith('$6$'):
        sys.exit('bench: openssl passwd -6 failed')
    return r


# ---------------------------------------------------------------- logins

class Config:
    def __init__(self, key, title, group, service, pwfile, expect, user,
                 size=None, case=None):
        self.key, self.title, self.group = key, title, group
        self.service, self.pwfile, self.expect = service, pwfile, expect
        self.user, self.size, self.case = user, size, case
        self.runs = {'threads': [], 'procs': []}
        self.instr = None
        self.instr_counts = None
        self.mismatch = 0

    def med(self, mode, field):
        vals = [r[field] for r in self.runs[mode]]
        return statistics.median(vals) if vals else None


def bench_cmd(args, cfg, rundir):
    return [os.path.join(args.build, 'bench', 'bench_pam'),
            '--service-dir', os.path.join(rundir, 'pam.d'),
            '--service', cfg.service, '--user', cfg.user,
            '--password-file', cfg.pwfile, '--rhost', RHOST,
            '--expect', cfg.expect, '--label', cfg.key]


def run_bench(args, cfg, rundir, mode):
    cmd = bench_cmd(args, cfg, rundir) + [
        '--mode', mode, '--workers', str(args.workers),
        '--seconds', str(args.seconds)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 3) or not r.stdout.strip():
        sys.exit(f'bench: {" ".join(cmd)} failed:\n{r.stderr}')
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res['load'] = os.getloadavg()[0]
    if res['mismatch']:
        cfg.mismatch += res['mismatch']
        log(f'  !! {cfg.key} {mode}: {res["mismatch"]} logins did not '
            f'{cfg.expect} (last: {res["last_auth_rc"]})')
    cfg.runs[mode].append(res)
    return res


def callgrind_total(args, cfg, rundir, count):
    outfile = os.path.join(rundir, f'callgrind.{cfg.key}.{count}')
    cmd = ['valgrind', '--tool=callgrind', f'--callgrind-out-file={outfile}',
           *bench_cmd(args, cfg, rundir), '--mode', 'threads', '--workers',
           '1', '--count', str(count), '--warmup', '5']
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f'bench: callgrind run failed ({r.returncode}):\n'
                 f'{r.stderr[-2000:]}')
    total = None
    with open(outfile) as f:
        for line in f:
            m = re.match(r'^(?:totals|summary):\s+(\d+)', line)
            if m:
                total = int(m.group(1))
    os.unlink(outfile)
    if total is None:
        sys.exit(f'bench: no totals in {outfile}')
    return total


def measure_instructions(args, cfg, rundir):
    """Instructions per login: callgrind runs that differ only in the number
    of logins; the difference cancels start-up and warm-up. A short pair
    first sizes the long run to a few seconds under callgrind."""
    def timed(count):
        t0 = time.monotonic()
        total = callgrind_total(args, cfg, rundir, count)
        return total, time.monotonic() - t0
    _, ta = timed(5)
    b_total, tb = timed(15)
    per_login = max((tb - ta) / 10, 1e-4)
    extra = int(max(20, min(1000, args.callgrind_budget / per_login)))
    c_total, _ = timed(15 + extra)
    cfg.instr = (c_total - b_total) / extra
    cfg.instr_counts = (15, 15 + extra)


# ---------------------------------------------------------------- tokenadm

def time_cmd(cmd, stdout=subprocess.DEVNULL, cpu=None):
    """Wall seconds of one process; its user+system seconds are appended to
    cpu (a list) when given."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE,
                         text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f'bench: {" ".join(cmd)} failed: {err}')
    if cpu is not None:
        cpu.append(ru.ru_utime + ru.ru_stime)
    return dt


def tokenadm_at_scale(args, store, rundir):
    """create, revoke, rotate and list --json on a private copy of the store
    (the cached one stays pristine)."""
    d = os.path.join(rundir, 'scale')
    os.mkdir(d, 0o700)
    db = os.path.join(d, 'tokens.db')
    key = os.path.join(d, 'site.key')
    shutil.copyfile(os.path.join(store.dir, 'site.key'), key)
    os.chmod(key, 0o600)
    shutil.copyfile(store.db, db)
    os.chmod(db, 0o600)
    os.mkdir(db + '.lastused', 0o700)
    conf = os.path.join(d, 'pam_apitoken.conf')
    write_private(conf, f'db = {db}\nkey = {key}\n')
    conf_limit = os.path.join(d, 'limit.conf')
    write_private(conf_limit, f'db = {db}\nkey = {key}\n'
                  'max_tokens_per_user = 10\n')
    tok = os.path.join(args.build, 'tokenadm', 'tokenadm')
    ids = [t.split('_')[1] for t in store.tokens('valid')]
    reps = args.tokenadm_reps
    res = {'n': store.n, 'reps': reps}
    log(f'tokenadm on a copy of the {store.n:,}-token store')
    cpu = {k: [] for k in ('create', 'revoke', 'rotate', 'create_limit',
                           'list_json')}
    res['cpu'] = cpu
    res['create'] = [time_cmd([tok, '--config', conf, 'create', '--name',
                               f'scale-create-{i}', '--user', store.user],
                              cpu=cpu['create'])
                     for i in range(reps)]
    res['revoke'] = [time_cmd([tok, '--config', conf, 'revoke', ids[100 + i]],
                              cpu=cpu['revoke'])
                     for i in range(reps)]
    res['rotate'] = [time_cmd([tok, '--config', conf, 'rotate', ids[200 + i]],
                              cpu=cpu['rotate'])
                     for i in range(reps)]
    # With a per-user limit, create counts the owner's tokens first: for
    # another owner (daemon, holding none) that is a walk of every record.
    res['create_limit'] = [time_cmd([tok, '--config', conf_limit, 'create',
                                     '--name', f'scale-limit-{i}', '--user',
                                     'daemon'], cpu=cpu['create_limit'])
                           for i in range(max(1, reps // 2))] \
        if os.geteuid() == 0 else []
    listing = os.path.join(d, 'list.json')
    res['list_json'] = []
    for i in range(3):
        with open(listing, 'w') as f:
            res['list_json'].append(time_cmd([tok, '--config', conf, 'list',
                                              '--json'], stdout=f,
                                             cpu=cpu['list_json']))
    # Check what was listed: one object a line, as cmd_list prints them.
    n_obj = 0
    with open(listing) as f:
        first = f.readline().strip()
        for line in f:
            if line.startswith('{'):
                n_obj += 1
                last = line
    obj = json.loads(last.rstrip().rstrip(','))
    want = {'id', 'user', 'name', 'created', 'expires', 'last_used',
            'last_rhost', 'state', 'reason'}
    if first != '[' or not want <= set(obj) or \
            n_obj != store.n + reps + len(res['create_limit']):
        sys.exit(f'bench: list --json printed {n_obj} objects, expected '
                 f'{store.n + reps + len(res["create_limit"])}')
    res['list_objects'] = n_obj
    res['list_bytes'] = os.path.getsize(listing)
    os.unlink(listing)
    res['size_after'] = os.path.getsize(db)
    shutil.rmtree(d)
    return res


def run_measured(cmd, stdin=None):
    """Wall seconds and peak RSS (MB) of one process; exits on failure."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'bench: {" ".join(cmd)} failed: {err}')
    return dt, ru.ru_maxrss / 1024


def fleet_at_scale(args, store, rundir):
    """export of the largest store, import of that bundle on a host, and
    logins/s on the host with and without an import running."""
    d = os.path.join(rundir, 'fleet')
    os.mkdir(d, 0o700)
    tok = os.path.join(args.build, 'tokenadm', 'tokenadm')
    so = os.path.join(args.build, 'pam_apitoken', 'pam_apitoken.so')
    # The authority: a copy of the store (init may start its generation).
    adb = os.path.join(d, 'auth.db')
    shutil.copyfile(store.db, adb)
    os.chmod(adb, 0o600)
    akey = os.path.join(d, 'auth.key')
    shutil.copyfile(os.path.join(store.dir, 'site.key'), akey)
    os.chmod(akey, 0o600)
    aconf = os.path.join(d, 'auth.conf')
    write_private(aconf, f'db = {adb}\nkey = {akey}\n'
                  f'signing_key = {d}/signing.key\n')
    sh([tok, '--config', aconf, 'init', '--signing'],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    st = json.loads(out([tok, '--config', aconf, 'status', '--json']))
    if st['generation'] == 0:  # a store built before generations
        ident = store.tokens('valid')[-1].split('_')[1]
        for verb in ('disable', 'enable'):
            sh([tok, '--config', aconf, verb, ident],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bundle = os.path.join(d, 'bundle')
    log(f'fleet: export of the {store.n:,}-token store')
    res = {'n': store.n}
    res['export_s'], res['export_mb'] = run_measured(
        [tok, '--config', aconf, 'export', '--out', bundle])
    res['bundle_bytes'] = os.path.getsize(bundle)
    # A host of the fleet.
    hconf = os.path.join(d, 'host.conf')
    write_private(hconf, f'db = {d}/host/tokens.db\nkey = {d}/host/site.key\n')
    sh([tok, '--config', hconf, 'init', '--import-only', '--site-key', akey,
        '--trusted-key', f'{d}/signing.key.pub'],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log('fleet: import of that bundle on a host')
    res['import_s'], res['import_mb'] = run_measured(
        [tok, '--config', hconf, 'import', bundle])
    res['import_again_s'] = run_measured(
        [tok, '--config', hconf, 'import', '--allow-same', bundle])[0]
    # Logins on the host, then the same while imports run back to back.
    pamd = os.path.join(d, 'pam.d')
    os.mkdir(pamd, 0o700)
    write_private(os.path.join(pamd, 'bench-fleet'),
                  f'auth required {so} conf={hconf}\n'
                  f'account required {so} conf={hconf}\n')
    pw = os.path.join(d, 'pw')
    write_private(pw, store.tokens('valid')[0] + '\n')
    cmd = [os.path.join(args.build, 'bench', 'bench_pam'),
           '--service-dir', pamd, '--service', 'bench-fleet',
           '--user', store.user, '--password-file', pw, '--rhost', RHOST,
           '--expect', 'success', '--label', 'fleet', '--mode', 'threads',
           '--workers', str(args.workers), '--seconds',
           str(max(3.0, res['import_s'] * 2))]

    def logins():
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode not in (0, 3) or not r.stdout.strip():
            sys.exit(f'bench: {" ".join(cmd)} failed:\n{r.stderr}')
        j = json.loads(r.stdout.strip().splitlines()[-1])
        if j['mismatch']:
            sys.exit(f'bench: {j["mismatch"]} logins failed on the host')
        return j['auth_per_s']
    log('fleet: logins/s on the host without and during imports')
    res['logins_idle'] = logins()
    stop = [False]
    imports = [0]

    def importer():
        while not stop[0]:
            subprocess.run([tok, '--config', hconf, 'import',
                            '--allow-same', bundle],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            imports[0] += 1
    th = threading.Thread(target=importer)
    th.start()
    try:
        res['logins_importing'] = logins()
    finally:
        stop[0] = True
        th.join()
    res['imports_during'] = imports[0]
    shutil.rmtree(d)
    return res


# ---------------------------------------------------------------- report

def pkg_version(pkg):
    return out(['dpkg-query', '-W', '-f', '${Version}', pkg]) or '?'


def machine():
    cpu = '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    debian = '?'
    try:
        with open('/etc/debian_version') as f:
            debian = f.read().strip()
    except OSError:
        pass
    mem = '?'
    try:
        with open('/proc/meminfo') as f:
            kb = int(f.readline().split()[1])
            mem = f'{kb / 1024 / 1024:.0f} GiB'
    except (OSError, ValueError, IndexError):
        pass
    fs = out(['findmnt', '-n', '-o', 'FSTYPE', '--target', CACHE]) or '?'
    virt = out(['systemd-detect-virt']) or '?'
    return {
        'nproc': os.cpu_count(), 'cpu': cpu, 'kernel': platform.release(),
        'debian': debian, 'memory': mem, 'fs': fs, 'virt': virt,
        'libpam': pkg_version('libpam0g'), 'gdbm': pkg_version('libgdbm6'),
        'openssl': pkg_version('libssl3'), 'libdb': pkg_version('libdb5.3'),
        'valgrind': pkg_version('valgrind'),
        'cc': out(['cc', '--version']).splitlines()[0] if out(['cc', '--version']) else '?',
        'syslog': 'present' if os.path.exists('/dev/log') else
                  'absent (syslog() calls fail fast: socket+connect per line)',
        'load': ' '.join(f'{x:.2f}' for x in os.getloadavg()),
        # What was built and measured (others may commit meanwhile).
        'commit': out(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
                  or '?',
        'dirty': bool(out(['git', '-C', ROOT, 'status', '--porcelain', '--',
                           'core', 'pam_apitoken', 'tokenadm'])),
    }


def fnum(x, digits=0):
    if x is None:
        return '–'
    return f'{x:,.{digits}f}'


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return '–'
    return f'{a / b:.{digits}f}×'


def verdict(value, limit, kind):
    """kind 'max': value must be <= limit; 'min': >= limit."""
    if value is None:
        return 'not measured'
    if kind == 'max':
        if value <= limit:
            return 'met'
        return f'**missed** by {(value / limit - 1) * 100:.0f}%'
    if value >= limit:
        return 'met'
    return f'**missed** by {(1 - value / limit) * 100:.0f}%'


def report(args, m, configs, scale, stores, user, started, elapsed,
           fl=None):
    by = {c.key: c for c in configs}
    floor = by['permit']
    udb = by.get('userdb-plain')
    big = max(s.n for s in stores)
    small = min(s.n for s in stores)
    L = []
    A = L.append
    commit, dirty = m['commit'], m['dirty']
    A('# Benchmarks')
    A('')
    A(f'Latest results of `bench/run.sh`, run {started} on commit `{commit}`'
      f'{" (with uncommitted product changes)" if dirty else ""}; '
      f'the whole run took {elapsed / 60:.1f} min. Re-run with:')
    A('')
    A('```sh')
    A('sudo bench/run.sh          # builds (release), measures, rewrites BENCHMARKS.md')
    A('```')
    A('')
    A('It needs meson, ninja, gcc, libpam0g-dev, libssl-dev, libgdbm-dev, '
      'zlib1g-dev, libpam-modules, valgrind and python3; run as root for '
      'pam_unix (it adds and removes a user `ptkbench`). The token stores '
      'are built once (~10 s for 1,000,000) and kept in `bench/.cache/` '
      '(git-ignored); `bench/run.sh --quick` is a two-minute smoke run; '
      '`bench/run.sh --help` lists the options.')
    A('')
    A('## Machine')
    A('')
    A('| | |')
    A('|---|---|')
    A(f'| CPU | {m["nproc"]} × {m["cpu"]} (systemd-detect-virt: '
      f'{m["virt"]}) |')
    A(f'| memory | {m["memory"]} |')
    A(f'| OS | Debian {m["debian"]}, kernel {m["kernel"]} |')
    A(f'| filesystem of the stores | {m["fs"]} |')
    A(f'| libpam / gdbm / OpenSSL / libdb | {m["libpam"]} / {m["gdbm"]} / '
      f'{m["openssl"]} / {m["libdb"]} |')
    A(f'| compiler, build | {m["cc"]}, meson `--buildtype=release` |')
    A(f'| valgrind | {m["valgrind"]} |')
    A(f'| /dev/log | {m["syslog"]} |')
    loads = [r['load'] for c in configs for mode in c.runs
             for r in c.runs[mode]]
    A(f'| load average (1 min) at start; during the run | {m["load"]}; '
      f'{min(loads):.1f}–{max(loads):.1f} |' if loads else
      f'| load average at start | {m["load"]} |')
    A('')
    A('## Method')
    A('')
    A(f'`bench/bench_pam` runs real libpam in a loop: `pam_start_confdir` '
      f'(service files in a private folder), `pam_set_item(PAM_RHOST, '
      f'"{RHOST}")`, `pam_authenticate`, then `pam_acct_mgmt` only when '
      f'authentication succeeded (as services do), `pam_end`; flags '
      f'`PAM_SILENT|PAM_DISALLOW_NULL_AUTHTOK` as Apache passes them. Every '
      f'service file is the module alone: `auth required M` and '
      f'`account required M`. The conversation answers the password from a '
      f'0600 file. Each configuration ran {args.rounds} rounds of '
      f'{args.seconds:g} s in each mode ({args.workers} threads in one '
      f'process; {args.workers} forked processes), rounds interleaved across '
      f'configurations so that machine noise spreads evenly; tables show '
      f'the median round. CPU is user+system time of the workers per login; '
      f'each login is also timed with `CLOCK_THREAD_CPUTIME_ID` (two system '
      f'calls per login, in every configuration alike). Instructions per '
      f'login come from two `valgrind --tool=callgrind` runs (one thread, '
      f'sized by a short pair before them) that differ only in the number '
      f'of logins: (Ir(b) − Ir(a)) / (b − a), so start-up and first-login '
      f'costs cancel; callgrind counts user-space instructions only (system '
      f'calls show in CPU time, not here), and valgrind\'s virtual CPU has no '
      f'SHA extensions, so OpenSSL\'s SHA-256 is counted in its SIMD form '
      f'(~1,700 instructions per 64-byte block). Every login\'s result was '
      f'checked against the expected one (success, or the exact PAM code).')
    A('')
    A(f'Stores: built by `bench/build_store` (core store_txn + record_encode, '
      f'records exactly as `tokenadm create --user {user}` writes them, all in '
      f'one transaction), then checked with `tokenadm verify`. '
      f'"valid ×1000" cycles through 1,000 different valid tokens spread over '
      f'the store (defeats GDBM\'s bucket cache and writes each token\'s '
      f'last-used file once a minute); the other cases repeat one password. '
      f'pam_userdb: 100,000 users in a Berkeley DB hash written by python3\'s '
      f'dbm.ndbm; sha512crypt hashes from `openssl passwd -6`. pam_unix: user '
      f'`{BENCH_USER}` with a `chpasswd -c SHA512` hash in /etc/shadow.')
    A('')

    # ---- logins table
    A('## Logins')
    A('')
    A('Ratios: instructions against the floor (pam_permit); logins/s against '
      'pam_userdb plaintext, in the same mode. Latencies in µs: p50 and p99 '
      'of wall time per login; CPU p99 of the on-CPU time of the login\'s '
      'thread (leaves out preemption by other work on the machine); first '
      'login: the first one in a fresh process (loads and initialises '
      'everything).')
    A('')
    for mode in ('threads', 'procs'):
        A(f'### {args.workers} {"threads in one process" if mode == "threads" else "processes"}')
        A('')
        A('| configuration | instr/login | vs floor | logins/s | vs userdb plain '
          '| p50 | p99 | CPU µs/login | CPU p99 | first login |')
        A('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
        for c in configs:
            if not c.runs[mode] and c.instr is None:
                continue
            A(f'| {c.title}{" ⚠ wrong results" if c.mismatch else ""} '
              f'| {fnum(c.instr)} | {ratio(c.instr, floor.instr)} '
              f'| {fnum(c.med(mode, "auth_per_s"))} '
              f'| {ratio(c.med(mode, "auth_per_s"), udb.med(mode, "auth_per_s") if udb else None, 1)} '
              f'| {fnum(c.med(mode, "p50_us"))} | {fnum(c.med(mode, "p99_us"))} '
              f'| {fnum(c.med(mode, "cpu_us_per_auth"), 1)} '
              f'| {fnum(c.med(mode, "cpu_p99_us"))} '
              f'| {fnum(c.med(mode, "first_login_us"))} |')
        A('')
    if not by.get('unix-sha512') and args.unix_why:
        A(f'pam_unix was not measured: {args.unix_why}.')
        A('')

    # ---- tokenadm
    A(f'## tokenadm on a {scale["n"]:,}-token store' if scale else
      '## tokenadm')
    A('')
    if scale:
        A('Wall time of the whole `tokenadm --config …` process (start-up, '
          'config, key, the copy-and-rename transaction with its fsyncs), '
          'runs on a private copy of the store, page cache warm; CPU is the '
          'process\'s user+system time (wall minus CPU: waiting for the disk '
          'or for a CPU that other work on the machine held).')
        A('')
        A('| operation | runs | median s | min s | max s | median CPU s |')
        A('|---|--:|--:|--:|--:|--:|')
        rows = [('create --name N --user U', 'create'),
                ('revoke ID', 'revoke'),
                ('rotate ID', 'rotate'),
                ('create for another user with `max_tokens_per_user = 10` '
                 '(counts by walking every record)',
                 'create_limit'),
                (f'list --json (stdout to a file; {scale["list_objects"]:,} '
                 f'objects, {scale["list_bytes"] / 1e6:.0f} MB)', 'list_json')]
        for title, k in rows:
            v = scale[k]
            if not v:
                continue
            A(f'| {title} | {len(v)} | {statistics.median(v):.2f} '
              f'| {min(v):.2f} | {max(v):.2f} '
              f'| {statistics.median(scale["cpu"][k]):.2f} |')
        A('')
    A('| store | file size | bytes per token | build time (one transaction) |')
    A('|--:|--:|--:|--:|')
    for s in stores:
        size = os.path.getsize(s.db)
        A(f'| {s.n:,} tokens | {size / 1e6:.1f} MB | {size / s.n:.0f} '
          f'| {fnum(s.build_seconds, 1)} s |')
    A('')

    # ---- fleet
    if fl:
        A(f'## Fleet: a {fl["n"]:,}-token store as a bundle')
        A('')
        A('`tokenadm export` on the authority and `tokenadm import` of that '
          'bundle on an import-only host (signature check, every record\'s '
          'integrity code, a new store built aside and renamed in); wall '
          'time and peak resident memory of the process. Then `bench_pam` '
          f'logins on the host ({args.workers} threads) with no '
          'import, and with imports of the same bundle running back to back '
          '(`--allow-same`) for the whole measurement.')
        A('')
        A('| | wall s | peak memory MB |')
        A('|---|--:|--:|')
        A(f'| export --out FILE | {fl["export_s"]:.1f} | {fl["export_mb"]:.0f} |')
        A(f'| import FILE | {fl["import_s"]:.1f} | {fl["import_mb"]:.0f} |')
        A(f'| import --allow-same (again) | {fl["import_again_s"]:.1f} | |')
        A('')
        A(f'Bundle: {fl["bundle_bytes"] / 1e6:.0f} MB, '
          f'{fl["bundle_bytes"] / fl["n"]:.0f} bytes per token. Logins/s on '
          f'the host: {fnum(fl["logins_idle"])} without an import, '
          f'{fnum(fl["logins_importing"])} during imports '
          f'({ratio(fl["logins_importing"], fl["logins_idle"])}; '
          f'{fl["imports_during"]} imports ran), none refused.')
        A('')

    # ---- targets
    A('## Targets')
    A('')
    A('Instruction counts are the stable measure; logins/s and CPU time move '
      'with whatever else the machine runs (see the load average above).')
    A('')
    A('| target | measured | result |')
    A('|---|---|---|')
    v1 = by.get(f'tok-{big}-valid')

    def safe(row):
        # A partial run (--only, --rounds 0, --no-callgrind) lacks some
        # numbers: leave out the rows that need them.
        try:
            row()
        except (TypeError, ZeroDivisionError, AttributeError, KeyError,
                ValueError, statistics.StatisticsError):
            pass

    def instr_row():
        r = v1.instr / floor.instr
        A(f'| {big:,} tokens, valid: instructions ≤ 1.5× the floor '
          f'| {fnum(v1.instr)} vs {fnum(floor.instr)} = {r:.2f}× '
          f'| {verdict(r, 1.5, "max")} |')
    safe(instr_row)

    def rate_row(mode):
        r = v1.med(mode, 'auth_per_s') / udb.med(mode, 'auth_per_s')
        fr = floor.med(mode, 'auth_per_s') / udb.med(mode, 'auth_per_s')
        A(f'| {big:,} tokens, valid: logins/s ≥ 10× pam_userdb plaintext '
          f'({mode}) | {fnum(v1.med(mode, "auth_per_s"))} vs '
          f'{fnum(udb.med(mode, "auth_per_s"))} = {r:.1f}× (the floor '
          f'itself: {fr:.1f}×) | {verdict(r, 10, "min")} |')

    def capacity_row(mode):
        # The same comparison by capacity: CPU per login depends much less
        # on what else the machine is doing.
        cu, cv = udb.med(mode, 'cpu_us_per_auth'), \
            v1.med(mode, 'cpu_us_per_auth')
        cf = floor.med(mode, 'cpu_us_per_auth')
        A(f'| … the same by CPU per login ({mode}): capacity ≥ 10× '
          f'| {fnum(cu, 1)} vs {fnum(cv, 1)} µs = {cu / cv:.1f}× (the '
          f'floor: {cu / cf:.1f}×) | {verdict(cu / cv, 10, "min")} |')

    def p99_row(mode):
        p, fp = v1.med(mode, 'p99_us'), floor.med(mode, 'p99_us')
        cp, cfp = v1.med(mode, 'cpu_p99_us'), floor.med(mode, 'cpu_p99_us')
        A(f'| {big:,} tokens, valid: p99 < 2× the floor\'s p99 ({mode}) '
          f'| {fnum(p)} vs {fnum(fp)} µs = {p / fp:.2f}× (CPU p99: '
          f'{fnum(cp)} vs {fnum(cfp)} µs = {cp / cfp:.2f}×) '
          f'| {verdict(p / fp, 2, "max")} |')

    for row in (rate_row, capacity_row, p99_row):
        for mode in ('threads', 'procs'):
            safe(lambda: row(mode))

    def refusal_row(case):
        c = by[f'tok-{big}-{case}']
        A(f'| refusal ({c.case}) costs no more than acceptance '
          f'| {fnum(c.instr)} vs {fnum(v1.instr)} instr; '
          f'{fnum(c.med("threads", "cpu_us_per_auth"), 1)} vs '
          f'{fnum(v1.med("threads", "cpu_us_per_auth"), 1)} CPU µs '
          f'| {verdict(c.instr / v1.instr, 1.0, "max")} |')
    for case in ('wrong', 'unknown', 'nontoken'):
        safe(lambda: refusal_row(case))

    def growth_row(case):
        a, b = by[f'tok-{small}-{case}'], by[f'tok-{big}-{case}']
        if a is b:
            return
        g = b.instr / a.instr - 1
        gc = []
        for mode in ('threads', 'procs'):
            try:
                gc.append(f'{(b.med(mode, "cpu_us_per_auth") / a.med(mode, "cpu_us_per_auth") - 1) * 100:+.1f}% ({mode})')
            except TypeError:
                pass
        A(f'| growth {small:,} → {big:,} tokens < 10% ({b.case}) '
          f'| instr {g * 100:+.1f}%; CPU {", ".join(gc) or "–"} '
          f'| {verdict(1 + g, 1.10, "max")} (instructions) |')
    for case in ('valid', 'valid1000', 'wrong', 'unknown'):
        safe(lambda: growth_row(case))

    def scale_rows():
        c = statistics.median(scale['create'])
        A(f'| tokenadm create on {scale["n"]:,} tokens < 1.5 s '
          f'| median {c:.2f} s, max {max(scale["create"]):.2f} s '
          f'(CPU {statistics.median(scale["cpu"]["create"]):.2f} s) '
          f'| {verdict(c, 1.5, "max")} |')
        if scale['create_limit']:
            cl = statistics.median(scale['create_limit'])
            A(f'| the same with `max_tokens_per_user` set (as in '
              f'pam_apitoken.conf(5), EXAMPLES) | median {cl:.2f} s (CPU '
              f'{statistics.median(scale["cpu"]["create_limit"]):.2f} s) '
              f'| {verdict(cl, 1.5, "max")} |')
        lj = statistics.median(scale['list_json'])
        A(f'| list --json of {scale["n"]:,} tokens < 10 s '
          f'| median {lj:.2f} s, max {max(scale["list_json"]):.2f} s '
          f'(CPU {statistics.median(scale["cpu"]["list_json"]):.2f} s) '
          f'| {verdict(lj, 10, "max")} |')
    if scale:
        safe(scale_rows)
    A('')
    return '\n'.join(L)


def write_report(results, output):
    """BENCHMARKS.md from raw results (a run's, or --report-only's)."""
    a = argparse.Namespace(**results['args'])
    configs = []
    for d in results['configs']:
        c = Config(d['key'], d['title'], d['group'], d['service'],
                   d['pwfile'], d['expect'], d['user'], d.get('size'),
                   d.get('case'))
        c.runs, c.instr = d['runs'], d['instr']
        c.instr_counts, c.mismatch = d['instr_counts'], d['mismatch']
        configs.append(c)
    stores = [argparse.Namespace(**s) for s in results['stores']]
    text = report(a, results['machine'], configs, results['tokenadm'],
                  stores, results['user'], results['started'],
                  results['elapsed'], results.get('fleet'))
    analysis = keep_analysis(output)
    text += '\n' + (analysis or
                    f'{ANALYSIS_BEGIN}\n## Analysis\n\n(none yet)\n'
                    f'{ANALYSIS_END}') + '\n'
    with open(output, 'w') as f:
        f.write(text)


def keep_analysis(path):
    """The hand-written analysis between the markers survives a re-run."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    i, j = text.find(ANALYSIS_BEGIN), text.find(ANALYSIS_END)
    if i < 0 or j < i:
        return None
    return text[i:j + len(ANALYSIS_END)]


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(
        prog='bench/run.sh',
        description='Benchmark pam_apitoken against its peers through real '
                    'libpam and write BENCHMARKS.md.')
    ap.add_argument('--build', default=os.path.join(ROOT, 'build-bench'),
                    help='meson build directory (release)')
    ap.add_argument('--seconds', type=float, default=1.5,
                    help='length of one measured run (default 1.5)')
    ap.add_argument('--rounds', type=int, default=5,
                    help='interleaved rounds per configuration (default 5)')
    ap.add_argument('--workers', type=int, default=2,
                    help='threads / processes (default 2)')
    ap.add_argument('--sizes', default='1000,100000,1000000',
                    help='store sizes (default 1000,100000,1000000)')
    ap.add_argument('--userdb-users', type=int, default=100000)
    ap.add_argument('--tokenadm-reps', type=int, default=5)
    ap.add_argument('--no-callgrind', action='store_true')
    ap.add_argument('--callgrind-budget', type=float, default=6.0,
                    help='seconds of callgrind per configuration (default 6)')
    ap.add_argument('--output', default=os.path.join(ROOT, 'BENCHMARKS.md'))
    ap.add_argument('--only', metavar='KEYS',
                    help='measure only these configurations (comma-separated '
                         'keys such as tok-1000000-valid, userdb-plain; the '
                         'floor is always kept); writes '
                         'bench/.cache/BENCHMARKS.partial.md unless --output')
    ap.add_argument('--report-only', metavar='RESULTS',
                    help='only rewrite the report from a run\'s raw results '
                         '(bench/.cache/last-run.json)')
    ap.add_argument('--quick', action='store_true',
                    help='a smoke run: 1k and 100k stores, 1 round of 0.5 s; '
                         'writes bench/.cache/BENCHMARKS.quick.md')
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)  # service files need it
    if args.report_only:
        with open(args.report_only) as f:
            write_report(json.load(f), args.output)
        log(f'wrote {args.output}')
        return 0
    if args.quick:
        args.sizes, args.rounds, args.seconds = '1000,100000', 1, 0.5
        args.tokenadm_reps = 2
        if args.output == os.path.join(ROOT, 'BENCHMARKS.md'):
            args.output = os.path.join(CACHE, 'BENCHMARKS.quick.md')
    if args.only and args.output == os.path.join(ROOT, 'BENCHMARKS.md'):
        args.output = os.path.join(CACHE, 'BENCHMARKS.partial.md')
    only = set(args.only.split(',')) | {'permit'} if args.only else None
    sizes = sorted(int(s) for s in args.sizes.split(','))
    if not shutil.which('valgrind') and not args.no_callgrind:
        log('valgrind not found: no instruction counts')
        args.no_callgrind = True

    started = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M UTC')
    t_start = time.monotonic()
    m = machine()
    os.makedirs(CACHE, mode=0o700, exist_ok=True)
    rundir = tempfile.mkdtemp(prefix='ptkbench-')
    user = BenchUser()

    def on_signal(signum, frame):
        raise SystemExit(f'bench: stopped by signal {signum}')
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        user.setup()
        args.unix_why = user.why_not
        log(f'bench user {user.name}; pam_unix '
            f'{"on" if user.unix_ok else "off: " + user.why_not}')
        stores = [Store(args.build, n, user.name) for n in sizes]
        for s in stores:
            s.ensure()

        sec = find_security_dir()
        pamd = os.path.join(rundir, 'pam.d')
        os.mkdir(pamd, 0o700)
        module = os.path.join(args.build, 'pam_apitoken', 'pam_apitoken.so')

        def service(name, mod, opts=''):
            write_private(os.path.join(pamd, name),
                          f'auth required {mod} {opts}\n'
                          f'account required {mod} {opts}\n')

        def pwfile(name, lines):
            p = os.path.join(rundir, f'pw-{name}')
            write_private(p, ''.join(l + '\n' for l in lines))
            return p

        configs = []
        pw_plain = pwfile('password', [PASSWORD])
        service('bench-permit', os.path.join(sec, 'pam_permit.so'))
        configs.append(Config('permit', 'floor: pam_permit.so', 'peer',
                              'bench-permit', pw_plain, 'success', user.name))
        log(f'pam_userdb databases ({args.userdb_users:,} users)')
        build_userdb(os.path.join(rundir, 'userdb-plain'), PASSWORD,
                     args.userdb_users)
        build_userdb(os.path.join(rundir, 'userdb-sha512'),
                     sha512crypt(PASSWORD), args.userdb_users)
        udb = os.path.join(sec, 'pam_userdb.so')
        service('bench-userdb-plain', udb,
                f'db={os.path.join(rundir, "userdb-plain")} crypt=none')
        service('bench-userdb-sha512', udb,
                f'db={os.path.join(rundir, "userdb-sha512")} crypt=crypt')
        configs.append(Config('userdb-plain', 'pam_userdb.so plaintext',
                              'peer', 'bench-userdb-plain', pw_plain,
                              'success', BENCH_USER))
        configs.append(Config('userdb-sha512', 'pam_userdb.so sha512crypt',
                              'peer', 'bench-userdb-sha512', pw_plain,
                              'success', BENCH_USER))
        if user.unix_ok:
            service('bench-unix', os.path.join(sec, 'pam_unix.so'))
            configs.append(Config('unix-sha512', 'pam_unix.so sha512crypt',
                                  'peer', 'bench-unix', pw_plain, 'success',
                                  BENCH_USER))
        # What pam_authenticate must return: the module refuses a token it
        # cannot accept, and ignores a non-token (alone in the stack, libpam
        # turns that into PAM_PERM_DENIED).
        cases = [('valid', 'valid token', 'success'),
                 ('valid1000', 'valid ×1000', 'success'),
                 ('wrong', 'wrong secret', 'PAM_AUTH_ERR'),
                 ('unknown', 'unknown id', 'PAM_AUTH_ERR'),
                 ('nontoken', 'not a token', 'PAM_PERM_DENIED')]
        for s in stores:
            svc = f'bench-apitoken-{s.n}'
            service(svc, module, f'conf={s.conf}')
            valid = s.tokens('valid')
            lines = {'valid': valid[:1], 'valid1000': valid,
                     'wrong': s.tokens('wrong'),
                     'unknown': s.tokens('unknown')[:1],
                     'nontoken': [NON_TOKEN]}
            for case, title, expect in cases:
                if case == 'valid1000' and len(valid) < 1000:
                    continue
                configs.append(Config(
                    f'tok-{s.n}-{case}',
                    f'pam_apitoken.so {s.n:,} tokens, {title}', 'apitoken',
                    svc, pwfile(f'{s.n}-{case}', lines[case]), expect,
                    user.name, size=s.n, case=title))

        if only:
            unknown = only - {c.key for c in configs}
            if unknown:
                sys.exit(f'bench: no configuration {", ".join(sorted(unknown))}; '
                         f'there are: {", ".join(c.key for c in configs)}')
            configs = [c for c in configs if c.key in only]
        total = len(configs) * 2 * args.rounds
        log(f'{len(configs)} configurations × 2 modes × {args.rounds} rounds '
            f'of {args.seconds:g} s')
        done = 0
        for rnd in range(args.rounds):
            for c in configs:
                for mode in ('threads', 'procs'):
                    r = run_bench(args, c, rundir, mode)
                    done += 1
                    log(f'  [{done}/{total}] round {rnd + 1} {c.key:22} '
                        f'{mode:7} {r["auth_per_s"]:9,.0f}/s '
                        f'p99 {r["p99_us"]:8,.0f} µs '
                        f'cpu {r["cpu_us_per_auth"]:7.1f} µs')
        if not args.no_callgrind:
            for i, c in enumerate(configs):
                measure_instructions(args, c, rundir)
                log(f'  callgrind [{i + 1}/{len(configs)}] {c.key:22} '
                    f'{c.instr:12,.0f} instr/login '
                    f'(logins {c.instr_counts[0]} and {c.instr_counts[1]})')

        scale = tokenadm_at_scale(args, stores[-1], rundir) \
            if args.tokenadm_reps > 0 else None
        fleet = fleet_at_scale(args, stores[-1], rundir)

        elapsed = time.monotonic() - t_start
        raw = os.path.join(CACHE, 'last-run.json') \
            if args.output == os.path.join(ROOT, 'BENCHMARKS.md') \
            else os.path.splitext(args.output)[0] + '.json'
        results = {
            'machine': m, 'started': started, 'elapsed': elapsed,
            'user': user.name,
            'args': {'seconds': args.seconds, 'rounds': args.rounds,
                     'workers': args.workers, 'unix_why': args.unix_why},
            'stores': [{'n': s.n, 'db': s.db,
                        'build_seconds': s.build_seconds} for s in stores],
            'configs': [vars(c) for c in configs],
            'tokenadm': scale, 'fleet': fleet}
        with open(raw, 'w') as f:
            json.dump(results, f, indent=1)
        write_report(results, args.output)
        log(f'wrote {args.output} (raw results: {raw}) in {elapsed / 60:.1f} min')
        bad = [c.key for c in configs if c.mismatch]
        if bad:
            log(f'WRONG RESULTS in: {", ".join(bad)}')
            return 1
        return 0
    finally:
        user.cleanup()
        shutil.rmtree(rundir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
