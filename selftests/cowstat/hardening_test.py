#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# cowstat.ko against bad input and unprivileged readers:
# - control fuzzed with empty, binary, oversized (65 B, 64 KiB), partial and
#   near-miss writes, one at a time and from concurrent writers: each is
#   refused with EINVAL and changes nothing, or ("reset", "reset\n") applied;
# - every debugfs file root-only by its mode, and refused to user nobody;
# - no kernel address in any file.
#
# usage: hardening_test.py   (root, cowstat.ko loaded; prints KTAP)

import errno
import mmap
import os
import random
import re
import subprocess
import sys
import threading

from cowstat_files import DBG, summary

CONTROL = DBG + "/control"
READ_FILES = ("summary", "processes", "exited")
PAGES = 1024

results = []


def report(name, good, *notes):
    for note in notes:
        print("# " + note)
    good = bool(good)
    results.append(good)
    print("%sok %d %s" % ("" if good else "not ", len(results), name))


def copies():
    return int(summary()["cow_copies"])


def make_copies():
    """A child writes PAGES pages it shares with us: PAGES copies."""
    # Private: python's default for an anonymous mmap is MAP_SHARED, whose
    # writes are not copy-on-write.
    buf = mmap.mmap(-1, PAGES * 4096,
                    flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf.write(b"\1" * (PAGES * 4096))
    pid = os.fork()
    if pid == 0:
        for off in range(0, PAGES * 4096, 4096):
            buf[off] = 2
        os._exit(0)
    os.waitpid(pid, 0)
    buf.close()


def write_control(data):
    """Return 0 if the write was taken whole, else the errno."""
    fd = os.open(CONTROL, os.O_WRONLY)
    try:
        n = os.write(fd, data)
        return 0 if n == len(data) else -1
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def bad_inputs():
    rnd = random.Random(20261125)
    cases = [b"", b"\n", b"res", b"rese", b"resett", b"reset\n\n", b" reset",
             b"reset ", b"RESET", b"reset\0", b"\0reset", b"reset reset",
             b"reset\r\n", b"\xffreset", b"x" * 65, b"reset" + b" " * 60,
             b"reset" * 13, b"\n" * 64]
    cases += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 65)))
              for _ in range(40)]
    cases.append(bytes(rnd.randrange(256) for _ in range(65536)))
    return [c for c in cases if c not in (b"reset", b"reset\n")]


def dmesg_lines():
    return subprocess.run(["dmesg"], capture_output=True,
                          text=True).stdout.splitlines()


def test_refused():
    before = len(dmesg_lines())
    make_copies()
    low = copies()
    wrong = []
    for data in bad_inputs():
        err = write_control(data)
        now = copies()
        if err != errno.EINVAL or now < low:
            wrong.append("%r: errno %d, cow_copies %d -> %d"
                         % (data[:24], err, low, now))
        low = now
    logged = [l for l in dmesg_lines()[before:] if "cowstat: control:" in l]
    report("control_refuses_bad_input", not wrong and low >= PAGES and logged,
           "%d bad writes, cow_copies %d at the end, %d dmesg lines"
           % (len(bad_inputs()), low, len(logged)), *wrong[:10])


def test_reset():
    notes = []
    good = True
    for data in (b"reset", b"reset\n"):
        make_copies()
        before = copies()
        err = write_control(data)
        after = copies()
        # Other processes may copy a few pages in between; the PAGES of the
        # child must be gone.
        ok = err == 0 and before >= PAGES and after < PAGES
        notes.append("%r: errno %d, cow_copies %d -> %d"
                     % (data, err, before, after))
        good = good and ok
    # One command per write: "res" + "et" is two refused writes.
    make_copies()
    split = (write_control(b"res"), write_control(b"et"))
    after = copies()
    notes.append("'res'+'et': errno %s, cow_copies %d" % (split, after))
    good = good and split == (errno.EINVAL, errno.EINVAL) and after >= PAGES
    report("control_applies_reset", good, *notes)


def test_concurrent():
    inputs = bad_inputs()[:20] + [b"reset", b"reset\n"]
    wrong = []
    lock = threading.Lock()

    def writer(seed):
        rnd = random.Random(seed)
        for _ in range(100):
            data = rnd.choice(inputs)
            err = write_control(data)
            want = 0 if data in (b"reset", b"reset\n") else errno.EINVAL
            if err != want:
                with lock:
                    wrong.append("%r: errno %d, want %d" % (data[:24], err, want))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("control_concurrent_writers", not wrong,
           "4 writers x 100 writes", *wrong[:10])


def test_modes():
    want = {"summary": 0o400, "processes": 0o400, "exited": 0o400,
            "control": 0o200}
    got = {name: os.stat(DBG + "/" + name).st_mode & 0o7777 for name in want}
    report("files_root_only_by_mode", got == want,
           " ".join("%s %o" % kv for kv in sorted(got.items())))


def test_unprivileged():
    """As user nobody, every open is refused."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        out = []
        for name, flags in [(n, os.O_RDONLY) for n in READ_FILES] + \
                           [("control", os.O_WRONLY)]:
            try:
                os.close(os.open(DBG + "/" + name, flags))
                out.append("%s:opened" % name)
            except OSError as e:
                out.append("%s:%s" % (name, errno.errorcode[e.errno]))
        os.write(w, " ".join(out).encode())
        os._exit(0)
    os.close(w)
    seen = os.read(r, 4096).decode()
    os.close(r)
    os.waitpid(pid, 0)
    opened = "opened" in seen or len(seen.split()) != 4
    report("unprivileged_open_refused", not opened, "as nobody: " + seen)


def test_no_addresses():
    make_copies()
    text = ""
    for name in READ_FILES:
        with open(DBG + "/" + name) as f:
            text += f.read()
    found = re.findall(r"\b(?:0x)?ffff[0-9a-f]{12}\b", text)
    report("no_kernel_addresses", not found,
           "%d bytes read, %d address-like words" % (len(text), len(found)),
           *found[:5])


def main():
    tests = (test_refused, test_reset, test_concurrent, test_modes,
             test_unprivileged, test_no_addresses)
    print("TAP version 13")
    print("1..%d" % len(tests))
    if not os.path.isdir(DBG):
        for t in tests:
            results.append(True)
            print("ok %d %s # SKIP cowstat.ko not loaded" % (len(results), t.__name__))
        print("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:%d error:0" % len(tests))
        return 0
    for t in tests:
        t()
    passed = results.count(True)
    failed = results.count(False)
    print("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
