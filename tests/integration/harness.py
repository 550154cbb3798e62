"""harness.py -- the shell harness's checks for the tests' embedded Python (import it from the
repository: sys.path has tests/integration): check() prints ok or FAIL with a detail, finish()
prints the closing "N passed, N failed" line that tests/run.sh reads and exits."""
import sys

passed = failed = 0


def check(cond, what, detail=""):
    """Count cond as a pass or a failure named what; on a failure print detail, indented."""
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", what)
    else:
        failed += 1
        print("FAIL", what)
        if detail:
            print("     " + str(detail).replace("\n", "\n     "))
    return cond


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
