# SPDX-License-Identifier: GPL-2.0
#
# The Python tests' one reader of cowstat's debugfs files, written from
# Documentation/cowstat.rst and independent of the tool's parser:
# summary() as a dict of "key: value" lines, table() as the header's
# column names and one dict per row, with comm unescaped.

import os
import re

DBG = '/sys/kernel/debug/cowstat'


def summary(d=DBG):
    """key -> value of summary's lines; a key that repeats keeps its last."""
    with open(os.path.join(d, 'summary')) as f:
        return dict(line.rstrip('\n').split(': ', 1) for line in f)


def unescape(s):
    """comm as the module escapes it: \\ooo for all but printable ASCII."""
    b = re.sub(rb'\\([0-3][0-7][0-7])', lambda m: bytes([int(m.group(1), 8)]),
               s.encode('latin-1'))
    return b.replace(b'\0', b'').decode('utf-8', 'replace')


def table(name, d=DBG):
    """(columns, rows) of processes or exited; numbers as ints."""
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
        rows.append({k: (unescape(v) if k == 'comm' else int(v))
                     for k, v in zip(head, f)})
    return head, rows
