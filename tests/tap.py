"""
The result lines of the Python test drivers: "ok NAME" or "not ok NAME #
WHY", which tests/check.sh counts, and the driver's exit status (3 when
a case failed, so its shell script can tell failures from a crash).
Imported by the drivers in tests/shell and tests/interop (they put
tests/ on sys.path first).
"""
import sys

failed = 0


def ok(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name, flush=True)
    else:
        failed += 1
        print("not ok %s%s" % (name, " # " + why if why else ""), flush=True)


def case(name, fn):
    """Runs fn: None or True passes, anything else (a text, an exception)
    is a failure with that text."""
    try:
        r = fn()
    except Exception as e:  # any error is this case's failure
        ok(name, False, "%s: %s" % (type(e).__name__, e))
        return
    ok(name, r is None or r is True, "" if r in (None, True) else str(r))


def finish():
    sys.exit(3 if failed else 0)
