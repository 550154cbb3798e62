#!/bin/bash
# lab_deps_test.sh -- every program that the README's blocks, the tests, the benchmarks and the
# scripts run is installed by scripts/deps.sh (its table), is lambdakit's own, or is on every Debian
# system (Essential and required packages). A fresh machine then has all of them after `make test`.
# The scan is textual: the first word of each simple command in shell, and the argv[0] of Python's
# subprocess calls in the tests' embedded Python. The checker is itself checked on a made-up script.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
sh scripts/deps.sh --list >/tmp/lab_deps.$$ || { echo "0 passed, 1 failed"; exit 1; }
DEPS=/tmp/lab_deps.$$ /usr/bin/python3 - <<'PYEOF'
import glob, os, re, shlex, subprocess, sys

sys.path.insert(0, "tests/integration")
from harness import check, finish   # noqa: E402

# what deps.sh installs, by group
table = [l.split() for l in open(os.environ["DEPS"]) if l.strip()]
installed = {}
for group, cmd, pkg in table:
    installed[cmd] = group
check(len(table) > 10, "scripts/deps.sh --list prints its table (%d rows)" % len(table))

# on every Debian system: the commands of the Essential and required packages
# (coreutils, bash, dash, grep, sed, findutils, diffutils, util-linux, tar,
# gzip, hostname, debianutils, mawk, bsdutils, login, apt, dpkg)
BASE = set("""
[ basename cat chgrp chmod chown cksum cmp comm cp csplit cut date dd df diff dirname du echo env
expand expr factor false fmt fold head id install join kill link ln logname ls md5sum mkdir mkfifo
mknod mktemp mv nice nl nohup nproc numfmt od paste pathchk pr printenv printf ptx pwd readlink
realpath rm rmdir seq sha1sum sha256sum shred shuf sleep sort split stat stdbuf stty sum sync tac
tail tee test timeout touch tr true truncate tsort tty uname unexpand uniq unlink wc who whoami yes
base64 bash sh dash grep egrep fgrep sed find xargs diff3 sdiff setsid flock getopt ionice
logger renice script more mount umount lsblk taskset unshare nsenter tar gzip gunzip zcat hostname
which tempfile run-parts savelog awk mawk apt-get apt-cache dpkg dpkg-query mountpoint wall su
""".split())
# lambdakit's own programs (built by make) and the wrappers tests run them through
OWN = re.compile(r"^(lambda-[a-z]+|viewdump|speedfill|speed_meta|serving_hammer|serving_slowloris"
                 r"|gen_events|cjson_parse|kafka_raw|serving_gen|scale_gen|hello)$")
# the README's paths that the project cannot install: written down, with why
DOCUMENTED = {
    "docker": "the lab's Docker path: needs Docker Engine, which Debian does not ship as such",
    "git": "`git clone`: the reader has it, or has the files already",
    "kubectl": "deploy/kubernetes/: needs a Kubernetes cluster, which the reader brings",
    "man": None,   # in the table (man-db); listed here only to be explicit
}
DOCUMENTED = {k: v for k, v in DOCUMENTED.items() if v}
BUILTINS = set(subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True,
                              text=True).stdout.split())
WRAPPERS = {"exec", "nice", "nohup", "setsid", "sudo", "command", "builtin", "time", "stdbuf",
            "xargs", "env", "timeout", "faketime", "flock", "ionice", "taskset", "unshare"}

KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}",
            "time", "in", "esac"}

def simple_commands(text):
    """Yield (words, line) for each simple command of shell text, with a small lexer: quotes,
    $(...) and backticks (commands of their own), ${...}, $((...)), comments, heredocs (Python
    heredocs are yielded as ("<<python", body)), case patterns and for/case headers."""
    i, n, line = 0, len(text), 1
    words, cur, dynamic = [], [], False
    heredocs, mode = [], []          # pending heredoc delimiters; a stack of "case" / "pattern"

    def end_word():
        nonlocal cur, dynamic
        if cur or dynamic:
            words.append(None if dynamic else "".join(cur))
        cur, dynamic = [], False

    def end_command():
        nonlocal words
        end_word()
        ws, words = words, []
        return ws

    out = []
    def flush():
        ws = end_command()
        if ws:
            out.append((ws, start_line_saved[0]))

    start_line_saved = [1]
    def skip_to(close_ch, j):
        """index after the ) or } that closes text[j-1]'s opening, counting nesting and quotes."""
        depth, opener = 1, "(" if close_ch == ")" else "{"
        while j < n and depth:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "'":
                j = text.find("'", j + 1) + 1 or n
                continue
            if c == '"':                    # single quotes are plain text in there
                j += 1
                while j < n and text[j] != '"':
                    if text[j] == "\\":
                        j += 1
                    elif text.startswith("$(", j):
                        j = skip_to(")", j + 2) - 1
                    j += 1
                j += 1
                continue
            if c == opener:
                depth += 1
            elif c == close_ch:
                depth -= 1
            j += 1
        return j

    while i < n:
        c = text[i]
        if not words and not cur:
            start_line_saved[0] = line
        if mode and mode[-1] == "pattern":
            if text.startswith("esac", i) and (i + 4 >= n or not text[i + 4].isalnum()):
                mode.pop()
                mode.pop()                  # the case
                i += 4
                continue
            if c == ")":
                mode[-1] = "body"
            elif c == "\n":
                line += 1
            i += 1
            continue
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                line += 1
            else:
                cur.append(text[i + 1])
            i += 2
            continue
        if c == "#" and not cur:
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            line += text.count("\n", i, j)
            cur.append(text[i + 1:j])
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith("$(", j) and not text.startswith("$((", j):
                    k = skip_to(")", j + 2)
                    out.extend((ws, ln + line - 1 + text.count("\n", i, j)) for ws, ln in
                               simple_commands(text[j + 2:k - 1]))
                    j = k
                    dynamic = True
                    continue
                if text[j] == "`":
                    k = text.find("`", j + 1)
                    out.extend(simple_commands(text[j + 1:k]))
                    j = k + 1
                    dynamic = True
                    continue
                if text[j] == "$":
                    dynamic = True
                j += 1
            line += text.count("\n", i, j)
            if not dynamic:
                cur.append(text[i + 1:j])
            i = j + 1
            continue
        if c == "$":
            if text.startswith("$((", i):
                j = skip_to(")", i + 3)
                j = j + 1 if j < n and text[j] == ")" else j
            elif text.startswith("$(", i):
                j = skip_to(")", i + 2)
                out.extend((ws, ln + line - 1) for ws, ln in simple_commands(text[i + 2:j - 1]))
            elif text.startswith("${", i):
                j = skip_to("}", i + 2)
            else:
                j = i + 1
            line += text.count("\n", i, j)
            dynamic = True
            i = j
            continue
        if c == "`":
            j = text.find("`", i + 1)
            out.extend(simple_commands(text[i + 1:j]))
            dynamic = True
            i = j + 1
            continue
        if c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            m = re.match(r"<<-?\s*(['\"]?)([A-Za-z_]+)\1", text[i:])
            if m:
                heredocs.append((m.group(2), " ".join(w or "" for w in words)))
                i += m.end()
                continue
        if c in " \t":
            end_word()
            i += 1
            continue
        if c == "\n" or c in ";&|(){}":
            # a word's own braces and parentheses: a{b,c} or a function's name()
            if c in "{}" and (cur or (i + 1 < n and text[i + 1] not in " \t\n;")):
                cur.append(c)
                i += 1
                continue
            flush()
            if c == ";" and text.startswith(";;", i) and mode and mode[-1] == "body":
                mode[-1] = "pattern"
                i += 2
                continue
            if c == "\n":
                line += 1
                for delim, cmd in heredocs:
                    j = i + 1
                    body_start = j
                    while j < n:
                        k = text.find("\n", j)
                        k = n if k < 0 else k
                        if text[j:k].strip() == delim:
                            break
                        j = k + 1
                    if "python" in cmd:
                        out.append((["<<python", text[body_start:j]], line))
                    line += text.count("\n", body_start, min(n, text.find("\n", j) + 1 or n))
                    i = text.find("\n", j)
                    i = n if i < 0 else i
                heredocs = []
            i += 1
            continue
        cur.append(c)
        i += 1
        # "case WORD in": patterns follow
        if len(words) < 2:
            continue
        if words[0] == "case" and "".join(cur) == "in" and (i >= n or text[i] in " \t\n;"):
            cur = []
            end_command()           # the header names no command
            mode += ["case", "pattern"]
    flush()
    return out

FUNCS = set()     # functions of every scanned file (the tests source each other's libraries)
def commands_sh(text, where):
    """(command, location) for the first word of every simple command of shell text."""
    FUNCS.update(re.findall(r"(?m)^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)", text))
    funcs = FUNCS
    found = []
    for words, n in simple_commands(text):
        if words and words[0] == "<<python":
            found += commands_py(words[1], "%s:%d" % (where, n))
            continue
        if words and words[0] in ("for", "case", "select", "function"):
            continue
        while words and (words[0] in KEYWORDS or words[0] in WRAPPERS
                         or (words[0] or "").startswith("-")
                         or re.match(r"^[A-Za-z_]\w*(\[[^]]*\])?\+?=", words[0] or "")
                         or re.match(r"^[0-9][0-9.]*[smhd]?$", words[0] or "")):
            w = words[0]
            if w == "command" and len(words) > 1 and words[1] in ("-v", "-V"):
                words = []
                break
            if w == "faketime" and len(words) > 2 and words[1] == "-f":
                words = words[3:]
                continue
            if w in ("xargs", "unshare", "env"):
                words = [x for x in words[1:] if x is None or not re.match(r"^-|^[0-9]+$", x)]
                continue
            words = words[1:]
        if not words or words[0] is None:
            continue
        w = words[0]
        if (not w or w in funcs or w in BUILTINS or w.startswith(("./", "build/", "$"))
                or w in ("[[", "]]") or re.match(r"^[^A-Za-z/]", w) or w.endswith("()")):
            continue
        found.append((w, "%s:%d" % (where, n)))
    return found

def commands_py(text, where):
    out = []
    for m in re.finditer(r"subprocess\.(?:run|Popen|call|check_call|check_output)\(\s*\[\s*\"([^\"]+)\"", text):
        out.append((m.group(1), where))
    for m in re.finditer(r"shutil\.which\(\"([^\"]+)\"\)", text):
        out.append((m.group(1), where))
    return out

def readme_blocks(path):
    blocks, fence, buf, start = [], None, [], 0
    for n, line in enumerate(open(path).read().split("\n"), 1):
        s = line.strip()
        if fence is None and s.startswith("```"):
            fence, buf, start = s[3:].strip(), [], n
        elif fence is not None and s == "```":
            if fence in ("sh", "bash", "console"):
                blocks.append(("\n".join(buf), start))
            fence = None
        elif fence is not None:
            buf.append(line)
    return blocks

def unknown(calls, group_ok):
    bad = []
    for cmd, where in calls:
        base = cmd if cmd.startswith("/usr/bin/") else os.path.basename(cmd)
        if OWN.match(base) or base in BASE or base in DOCUMENTED:
            continue
        if cmd in installed and installed[cmd] in group_ok:
            continue
        if base in installed and installed[base] in group_ok:
            continue
        bad.append("%s calls %s" % (where, cmd))
    return sorted(set(bad))

# 1. the checker finds what it must (a test that can fail)
probe = commands_sh('''f() { frobnicate --x; }
X=1 nice timeout 5 wibble a | sort
if grep -q x y; then curl -s z; fi
case $x in a|b) zorkmid ;; *) jq . ;; esac
python3 - <<'EOF'
subprocess.run(["quux", "-v"])
EOF
echo "$(flubber)"
''', "probe")
names = sorted(set(c for c, _ in probe))
check({"frobnicate", "wibble", "curl", "zorkmid", "jq", "quux", "flubber", "sort", "grep"} <= set(names)
      and "f" not in names and "a" not in names and "X" not in names,
      "the scan finds the commands of a made-up script", " ".join(names))
check(unknown(probe, {"build", "test"}) and all(("frobnicate" in b or "wibble" in b or "zorkmid" in b or
                                                "quux" in b or "flubber" in b or "python3" in b)
                                               for b in unknown(probe, {"build", "test"})),
      "and flags the ones no package provides", "\n".join(unknown(probe, {"build", "test"})))

# 2. the project's files
groups_test = {"build", "test"}
# (not this file: its probe above is made up on purpose)
files = sorted(f for f in glob.glob("tests/integration/*.sh") + glob.glob("tests/fuzz/*.sh") + glob.glob("scripts/*.sh") + [".ci/run"]
               if not f.endswith("/lab_deps_test.sh"))
for f in files + glob.glob("bench/*.sh"):
    FUNCS.update(re.findall(r"(?m)^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)", open(f).read()))
calls = []
for f in files:
    calls += commands_sh(open(f).read(), f)
bad = unknown(calls, groups_test)
check(not bad, "the tests and scripts call only what deps.sh installs (%d calls in %d files)" %
      (len(calls), len(files)), "\n".join(bad) + "\n(add each to scripts/deps.sh's table)")

calls = []
for text, line in readme_blocks("README.md"):
    calls += commands_sh(text, "README.md:%d" % line)
bad = unknown(calls, groups_test)
check(not bad, "the README's commands call only what deps.sh installs (%d calls: %s)" %
      (len(calls), " ".join(sorted(set(os.path.basename(c) for c, _ in calls)))), "\n".join(bad))

calls = []
for f in sorted(glob.glob("bench/*.sh")):
    calls += commands_sh(open(f).read(), f)
bad = unknown(calls, groups_test | {"bench"})
check(not bad, "make bench calls only what deps.sh bench installs (%d calls)" % len(calls), "\n".join(bad))

# 3. what deps.sh claims is there, is there (after `make test` ran it)
r = subprocess.run(["sh", "scripts/deps.sh"], capture_output=True, text=True)
check(r.returncode == 0 and "missing" not in r.stdout,
      "scripts/deps.sh finds nothing missing once it ran", r.stdout + r.stderr)

finish()
PYEOF
rc=$?
rm -f /tmp/lab_deps.$$
exit $rc
