# SPDX-License-Identifier: GPL-2.0
#
# The checks of cowstat_tool_test.sh, in one long-running python3 process:
# starting python3 costs seconds under software emulation, so the shell
# script starts this once and sends it one request per check on stdin, a
# line of tab-separated words: the check's name, then its arguments.  For
# each request it prints what the check says, then "@@END 0" (passed) or
# "@@END 1" (failed).
#
# The module's files are parsed here independently of the tool, by column
# name as Documentation/cowstat.rst asks, and the tool's JSON is compared
# with them exactly.

import json
import os
import re
import sys
import traceback

DBG = os.environ.get('DBG', '/sys/kernel/debug/cowstat')
ID = ('pid', 'ppid', 'comm')


class CheckFailed(Exception):
    pass


def fail(msg):
    raise CheckFailed(msg)


def unescape(s):
    b = re.sub(rb'\\([0-3][0-7][0-7])', lambda m: bytes([int(m.group(1), 8)]),
               s.encode('latin-1'))
    return b.replace(b'\0', b'').decode('utf-8', 'replace')


def table(name, d=DBG):
    with open(os.path.join(d, name), 'rb') as f:
        lines = f.read().decode('latin-1').split('\n')
    head = lines[0].split()
    rows = []
    for line in lines[1:]:
        if not line:
            continue
        f = line.split(' ')
        if len(f) != len(head):
            f = line.split()
        r = {k: (unescape(v) if k == 'comm' else int(v)) for k, v in zip(head, f)}
        rows.append(r)
    return head, rows


HEAD = table('processes')[0]
COUNTERS = [h for h in HEAD if h not in ID]


def live(pid):
    rows = [r for r in table('processes')[1] if r['pid'] == pid]
    return rows[-1] if rows else None


def exited(pid):
    rows = [r for r in table('exited')[1] if r['pid'] == pid]
    return rows[-1] if rows else None


def same(tool_row, row, state, what):
    if row is None:
        fail('%s: no row for pid %s in the module files' % (what, tool_row.get('pid')))
    keys = set(ID) | set(COUNTERS) | {'state'}
    extra = set(tool_row) - keys - {'depth', 'descendants', 'totals'}
    if extra:
        fail('%s: unexpected keys %s' % (what, sorted(extra)))
    for k in list(ID) + COUNTERS:
        if tool_row.get(k) != row[k]:
            fail('%s: pid %d %s: tool %r, module %r' %
                 (what, row['pid'], k, tool_row.get(k), row[k]))
    if tool_row.get('state') != state:
        fail('%s: pid %d state %r, expected %r' % (what, row['pid'],
             tool_row.get('state'), state))


def summed(rows, totals, what):
    if list(totals) != COUNTERS:
        fail('%s: totals keys %s, expected %s' % (what, list(totals), COUNTERS))
    for k in COUNTERS:
        s = sum(r[k] for r in rows)
        if totals[k] != s:
            fail('%s: total %s = %d, sum of rows %d' % (what, k, totals[k], s))


def no_constant(name):
    fail('not JSON: %s' % name)


def strict_loads(text):
    # Python's json accepts NaN and Infinity; JSON does not.
    return json.loads(text, parse_constant=no_constant)


def load(path):
    with open(path) as f:
        return strict_loads(f.read())


def check_json_valid(argv):
    """Every file is one JSON document; "lines": one document per line."""
    lines = argv[1] == 'lines'
    for path in argv[2:]:
        with open(path) as f:
            text = f.read()
        docs = text.split('\n')[:-1] if lines else [text]
        if not docs or not text.endswith('\n'):
            fail('%s: empty, or no newline at the end' % path)
        for d in docs:
            strict_loads(d)
        print('%s: %d valid JSON document(s)' % (path, len(docs)))


def check_sorted(argv):
    r = load(argv[1])['processes']
    k = [(-x[argv[2]], x['pid']) for x in r]
    assert k == sorted(k), k


def check_parse_fake_files(argv):
    t = load(argv[1])
    p = load(argv[2])
    assert t['sort'] == 'newcount', t['sort']
    assert t['module']['version'] == '9.9' and t['module']['probes_nmissed'] == 4
    assert t['module']['copy_sites'] == ['f+0x1/0x9', 'f+0x5/0x9'], t['module']
    assert t['totals'] == {'cow_copies': 7, 'newcount': 3, 'forks': 2}, t['totals']
    rows = t['processes']
    assert [r['pid'] for r in rows] == [10, 11, 12], rows      # newcount desc, pid
    assert rows[0] == {'pid': 10, 'ppid': 1, 'comm': 'a b\\c\ufffd', 'state': 'live',
                       'cow_copies': 5, 'newcount': 1, 'forks': 2}, rows[0]
    assert list(rows[0])[4:] == ['cow_copies', 'newcount', 'forks']
    assert rows[1]['comm'] == '' and rows[2]['comm'] == '', rows
    r = p['processes'][0]
    assert [(d['pid'], d['depth'], d['state']) for d in r['descendants']] == \
        [(13, 2, 'exited'), (11, 1, 'live'), (12, 1, 'live')] or \
        [(d['pid'], d['depth'], d['state']) for d in r['descendants']] == \
        [(11, 1, 'live'), (13, 2, 'exited'), (12, 1, 'live')], r['descendants']
    assert r['totals'] == {'cow_copies': 21, 'newcount': 1, 'forks': 2}, r['totals']
def check_names_safe_for_terminal(argv):
    """The -p 1 -c text of the names of cowstat_tool_test.sh, exactly."""
    # (pid, ppid, the name as shown, its columns in C, in C.UTF-8)
    names = [(1, 0, 'r?t', 3, 3),
             (2, 1, 'raw?csi', 7, 7),                   # raw 0x9b
             (3, 1, 'u???x', 5, 5),                     # U+0080, U+009B, U+009F
             (4, 1, '?[31m?\u00a0|', 8, 8),             # ESC, DEL; U+00A0 kept
             (5, 1, 'e\u0301t', 3, 2),                  # combining acute: 0
             (6, 1, '\u65e5\u672c', 2, 4),              # wide: 2 each
             (7, 1, '\u516b' * 8, 8, 16)]
    for path, loc in ((argv[1], 3), (argv[2], 4)):
        rows = [(p, pp, n, w[loc - 3]) for p, pp, n, *w in names]
        # COMM: at least 15 columns, descendants indented by 2
        comm = max([15] + [w + (2 if p != 1 else 0) for p, _, _, w in rows])
        want = ['pid 1 (r?t), ppid 0, live',
                'with 6 descendants (live and exited):', '',
                '    PID    PPID ' + 'COMM'.ljust(comm) + ' STATE  FORKS COPIES']
        for p, pp, n, w in rows:
            n = ('' if p == 1 else '  ') + n
            pad = comm - w - (0 if p == 1 else 2)
            want.append('%7d %7d %s%s live   %5d %6d' % (p, pp, n, ' ' * pad,
                                                        6 if p == 1 else 0, 0))
        want += ['', 'totals of these 7 processes:',
                 '  forks                         6',
                 '  cow_copies                    0 pages        0 B', '']
        with open(path, 'rb') as f:
            got = f.read().decode('utf-8')
        if got != '\n'.join(want):
            fail('%s:\n%s\nexpected:\n%s' % (path, got, '\n'.join(want)))
    # JSON is unchanged: the bytes as UTF-8 where they are, else U+FFFD
    j = load(argv[3])['processes'][0]
    assert j['comm'] == 'r\x9bt', j
    assert [d['comm'] for d in j['descendants']][:3] == \
        ['raw\ufffdcsi', 'u\x80\x9b\x9fx', '\x1b[31m\x7f\u00a0|'], j['descendants']
    print('C and C.UTF-8: as expected')


def check_table_matches_processes(argv):
    j = load(argv[1])
    pids = [int(p) for p in argv[3:]]
    byp = {r['pid']: r for r in j['processes']}
    for p in pids:
        same(byp.get(p, {'pid': p}), live(p), 'live', 'table json')
    assert list(j['totals']) == COUNTERS
    # the text table: columns by heading
    lines = open(argv[2]).read().split('\n')
    head = next(l for l in lines if l.split()[:3] == ['PID', 'PPID', 'COMM']).split()
    col = {'FORKS': 'forks', 'COPIES': 'cow_copies', 'REUSES': 'cow_reuses',
           'FAULTS': 'cow_faults'}
    seen = 0
    for l in lines:
        f = l.split()
        if len(f) == len(head) and f[0].isdigit() and int(f[0]) in pids:
            r = live(int(f[0]))
            assert f[2] == r['comm'], (f, r)
            for h, c in col.items():
                assert int(f[head.index(h)]) == r[c], (h, f, r)
            seen += 1
    assert seen == 2 * len(pids), seen

def check_pid_detail_matches_rows(argv):
    j = load(argv[1])
    pids = [int(p) for p in argv[4:]]
    assert [r['pid'] for r in j['processes']] == pids, j['processes']
    for r in j['processes']:
        same(r, live(r['pid']), 'live', '-p json')
    assert j['not_found'] == []
    assert load(argv[3])['not_found'] == [2147483647]
    row = live(pids[0])
    txt = open(argv[2]).read()
    got = dict((m.group(1), int(m.group(2)))
               for m in re.finditer(r'^  (\w+) +(\d+)', txt, re.M))
    assert got == {k: row[k] for k in COUNTERS}, (got, row)
    assert txt.startswith('pid %d (sleep), ppid %d, live' % (row['pid'], row['ppid'])), txt

def check_children_of_live_process(argv):
    j = load(argv[1])['processes'][0]
    sh, s1, s2 = [int(p) for p in argv[2:]]
    same(j, live(sh), 'live', 'root')
    d = j['descendants']
    assert sorted(r['pid'] for r in d) == sorted([s1, s2]), d
    for r in d:
        assert r['depth'] == 1 and r['ppid'] == sh, r
        same(r, live(r['pid']), 'live', 'descendant')
    summed([j] + d, j['totals'], 'children totals')

def check_children_of_exited_process(argv):
    j = load(argv[1])['processes'][0]
    sh, s1, s2 = [int(p) for p in argv[2:]]
    same(j, exited(sh), 'exited', 'root')
    d = j['descendants']
    assert sorted(r['pid'] for r in d) == sorted([s1, s2]), d
    for r in d:
        same(r, exited(r['pid']), 'exited', 'descendant')
    summed([j] + d, j['totals'], 'totals')

def check_run_fork_write_json_exact(argv):
    j = load(argv[1])
    parent, child = int(argv[2]), int(argv[3])
    assert j['exit_status'] == 0 and j['exit_code'] == 0 and j['signal'] is None, j
    assert j['pid'] == parent, (j['pid'], parent)
    assert j['command'][1:] == ['-m', '8', '-c', '25', '-p', '10'], j['command']
    assert j['warnings'] == [], j['warnings']
    ps = j['processes']
    assert [(r['pid'], r['depth']) for r in ps] == [(parent, 0), (child, 1)], ps
    for r in ps:
        same(r, exited(r['pid']), 'exited', 'run')
    p, c = ps
    assert p['comm'] == c['comm'] == 'fork_write'
    # the workload: 2048 pages touched, child wrote 512, parent 204 afterwards
    assert c['cow_copies'] >= 512, c
    assert c['fork_inherited'] >= 2048 and p['fork_shared'] == c['fork_inherited'], (p, c)
    assert p['forks'] == 1 and p['fork_inherited'] == 0, p     # posix_spawn: nothing shared
    assert p['cow_reuses'] >= 204, p
    assert c['copied_bytes'] == 4096 * (c['cow_copies'] + c['cow_file']), c
    summed(ps, j['totals'], 'run totals')
    assert j['forks'] == [{
        'parent': parent, 'child': child, 'shared_at_fork': c['fork_inherited'],
        'child_cow_copies': c['cow_copies'], 'parent_cow_copies': p['cow_copies'],
        'child_forks': 0, 'parent_forks': 1, 'parent_fork_inherited': 0,
        'child_copies_exact': True, 'parent_copies_exact': True}], j['forks']
    print('child %d: fork_inherited %d cow_copies %d; parent %d: cow_copies %d cow_reuses %d'
          % (child, c['fork_inherited'], c['cow_copies'], parent, p['cow_copies'],
             p['cow_reuses']))

def check_run_text_report(argv):
    txt = open(argv[1]).read()
    out = open(argv[2]).read()
    parent = int(re.search(r'parent (\d+) touched', out).group(1))
    child = int(re.search(r'forked child (\d+)', out).group(1))
    assert re.search(r'\(pid %d\) exited with status 0 .* 2 processes \(2 exited, 0 live\)'
                     % parent, txt), txt
    lines = txt.split('\n')
    head = next(l for l in lines if l.split()[:3] == ['PID', 'PPID', 'COMM']).split()
    for pid in (parent, child):
        r = exited(pid)
        f = next(l.split() for l in lines if l.split()[:1] == [str(pid)])
        assert f[2] == 'fork_write' and f[3] == 'exited', f
        for h, k in (('FORKS', 'forks'), ('COPIES', 'cow_copies'),
                     ('REUSES', 'cow_reuses'), ('FAULTS', 'cow_faults')):
            assert int(f[head.index(h)]) == r[k], (h, f, r)
    part = txt.split('totals of the 2 processes:')[1].split('forks (')[0]
    tot = dict((m.group(1), int(m.group(2)))
               for m in re.finditer(r'^  (\w+) +(\d+)', part, re.M))
    assert tot == {k: exited(parent)[k] + exited(child)[k] for k in COUNTERS}, tot
    c, p = exited(child), exited(parent)
    assert '%d fork_write -> %d fork_write: shared %d ' % (parent, child, c['fork_inherited']) in txt
    assert 'copied by the child %d ' % c['cow_copies'] in txt
    assert 'by the parent %d ' % p['cow_copies'] in txt

def check_run_tree_of_descendants(argv):
    j = load(argv[1])
    out = open(argv[2]).read()
    parent = int(re.search(r'parent (\d+) touched', out).group(1))
    child = int(re.search(r'forked child (\d+)', out).group(1))
    assert j['exit_status'] == 3 and j['exit_code'] == 3, j
    ps = j['processes']
    assert [(r['pid'], r['ppid'], r['depth']) for r in ps] == \
        [(j['pid'], ps[0]['ppid'], 0), (parent, j['pid'], 1), (child, parent, 2)], ps
    assert ps[0]['comm'] == 'sh'
    for r in ps:
        same(r, exited(r['pid']), 'exited', 'tree')
    assert ps[2]['cow_copies'] >= 512, ps[2]
    summed(ps, j['totals'], 'tree totals')
    assert [(f['parent'], f['child']) for f in j['forks']] == \
        [(j['pid'], parent), (parent, child)], j['forks']

def check_run_ignores_rows_of_reused_pids(argv):
    j, jp, p = load(argv[1]), load(argv[2]), int(argv[3])
    rows = table('exited')[1]
    old = [r for r in rows if r['ppid'] == p]
    mine = [r for r in rows if r['pid'] == p]
    assert old and len(mine) >= 2, ('reuse did not happen', old, mine)
    assert [r['pid'] for r in j['processes']] == [p], j['processes']
    same(j['processes'][0], mine[-1], 'exited', 'run')
    assert mine[-1]['comm'] == 'true' and mine[-2]['comm'] == 'sh', mine
    q = jp['processes'][0]
    same(q, mine[-1], 'exited', '-p')
    assert q['descendants'] == [], q['descendants']


def check_killed_by_sigterm(argv):
    j = load(argv[1])
    assert j['signal'] == 15 and j['exit_code'] is None and \
        j['exit_status'] == 143, j
    same(j['processes'][0], exited(j['pid']), 'exited', 'killed')


def main():
    for line in sys.stdin:
        argv = line.rstrip('\n').split('\t')
        try:
            globals()['check_' + argv[0]](argv)
            rc = 0
        except (AssertionError, CheckFailed) as e:
            print('check %s failed: %s' % (argv[0], e if str(e) else
                  traceback.format_exc(limit=-1).strip()))
            rc = 1
        except Exception:
            print('check %s: %s' % (argv[0], traceback.format_exc().strip()))
            rc = 1
        print('@@END %d' % rc, flush=True)


if __name__ == '__main__':
    main()
