#!/usr/bin/python3
"""Root's emergency revoke while eight members hammer the setuid tokenadm.

Each member runs, in a loop, `tokenadm enable ID ID ...` naming their one
token 100,000 times (issue 21, part 3: one such command used to grow root's
process to 746 MB and hold the writers' lock for seconds). Meanwhile root
revokes tokens one by one; each revoke's wall time is measured, from exec
to exit. Also measured: the same revokes with the members idle.

Needs root (it adds and removes users ptkbl0..7 and a group) and a build
with tokenadm-privtest (its config path is compiled in):

    sudo bench/revoke_latency.py [--build build-gcc] [--revokes 30]
        [--background 10000]
"""
import argparse, grp, os, pwd, resource, shutil, statistics, subprocess
import sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument('--build', default='build-gcc')
ap.add_argument('--revokes', type=int, default=30)
ap.add_argument('--members', type=int, default=8)
ap.add_argument('--ids', type=int, default=100000)
ap.add_argument('--background', type=int, default=10000,
                help='other tokens in the store (bench/build_store)')
args = ap.parse_args()
if os.geteuid() != 0:
    sys.exit('run as root')
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.join(root, args.build)
privtest = os.path.join(build, 'tokenadm', 'tokenadm-privtest')
conf = os.path.join(build, 'tokenadm', 'privtest', 'pam_apitoken.conf')
build_store = os.path.join(build, 'bench', 'build_store')
work = tempfile.mkdtemp(prefix='ptk-bench-revoke.')
os.chmod(work, 0o755)
group = 'ptkblusers'
users = ['ptkbl%d' % i for i in range(args.members)]

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)

def cleanup():
    for u in users:
        subprocess.run(['userdel', u], stderr=subprocess.DEVNULL)
    subprocess.run(['groupdel', group], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)

def stop(procs):
    for h in procs:
        try:
            os.killpg(h.pid, 9)
        except ProcessLookupError:
            pass
        h.wait()
    procs.clear()

hammers = []
cleanup()
work = tempfile.mkdtemp(prefix='ptk-bench-revoke.')
os.chmod(work, 0o755)
try:
    run(['groupadd', group])
    for u in users:
        run(['useradd', '-M', '-N', '-g', 'nogroup', '-G', group, '-s', '/bin/sh', u])
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, 'w') as f:
        f.write('db = %s/store/tokens.db\nkey = %s/store/site.key\n'
                'max_tokens_per_user = 0\nmax_store_tokens = 0\n'
                '[group %s]\nmax_lifetime = 30d\n' % (work, work, group))
    os.chmod(conf, 0o644)
    suid = os.path.join(work, 'tokenadm')
    shutil.copy(privtest, suid)
    os.chmod(suid, 0o4755)
    run([suid, 'init'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if args.background:
        run([build_store, '--config', conf, '--user', 'root', '--count',
             str(args.background), '--tokens-out', os.path.join(work, 'bg')],
            stdout=subprocess.DEVNULL)

    def token_id(text):
        return text.split('_')[1]

    def become(user):
        pw = pwd.getpwnam(user)
        def f():
            resource.setrlimit(resource.RLIMIT_STACK,
                               (64 << 20, resource.RLIM_INFINITY))
            os.setgroups(os.getgrouplist(user, pw.pw_gid))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        return f

    failed = []
    hammers = []
    member_ids = {}
    for u in users:
        out = subprocess.run([suid, 'create', '--name', 'bench', '--expires', '1d'],
                             preexec_fn=become(u), capture_output=True, text=True,
                             check=True).stdout
        member_ids[u] = token_id(out.strip())
    victims = [token_id(subprocess.run(
        [suid, 'create', '--name', 'v%d' % i, '--user', users[0]],
        capture_output=True, text=True, check=True).stdout.strip())
        for i in range(2 * args.revokes)]

    def revokes(ids):
        times = []
        for i in ids:
            t0 = time.monotonic()
            r = subprocess.run([suid, 'revoke', i], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            times.append(time.monotonic() - t0)
            if r.returncode != 0:
                # Kept: a revoke that failed (the lock wait ran out) is
                # the worst case, not a reason to stop measuring.
                failed.append(r.stderr.strip())
            time.sleep(0.05)
        return times

    idle = revokes(victims[:args.revokes])
    # The hammer: each member's shell loop runs enable with ID x --ids.
    for u in users:
        script = ('ids=$(yes %s | head -n %d | tr "\\n" " "); '
                  'while :; do %s enable $ids >/dev/null 2>&1; done'
                  % (member_ids[u], args.ids, suid))
        hammers.append(subprocess.Popen(['bash', '-c', script],
                                        preexec_fn=become(u),
                                        stdout=subprocess.DEVNULL,
                                        start_new_session=True))
    time.sleep(3)
    t0 = time.monotonic()
    loaded = revokes(victims[args.revokes:])
    elapsed = time.monotonic() - t0
    stop(hammers)

    def summary(name, xs):
        xs = sorted(xs)
        p90 = xs[int(0.9 * (len(xs) - 1))]
        print('| %s | %d | %.0f | %.0f | %.0f |' % (
            name, len(xs), 1000 * statistics.median(xs), 1000 * p90,
            1000 * xs[-1]))

    print('store: %d tokens; %d members, each looping `enable` with its id x %d'
          % (args.background + len(users) + 2 * args.revokes, len(users), args.ids))
    print('| root revoke | n | median ms | p90 ms | max ms |')
    print('|---|--:|--:|--:|--:|')
    summary('members idle', idle)
    summary('%d members hammering' % len(users), loaded)
    for e in failed:
        print('revoke failed: %s' % e)
    print('load average after: %s' % open('/proc/loadavg').read().split()[:3])
finally:
    stop(hammers)
    cleanup()
