#!/bin/bash
# lab_compose_test.sh -- docker-compose.yaml and Dockerfile, checked without a Docker engine:
# the file parses (PyYAML, and docker-compose 1.29's schema when installed), names the
# services, volumes, ports, healthchecks, restart policies and non-root user of the lab,
# and stays in step with the native build: every program and flag it runs exists in
# "$BUILD" (--help), every topic matches a pipeline, the runtime image installs the
# package of every library the binaries link, and the nightly batch loop computes its
# next run right.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/integration/harness.sh   # need_yaml
PY=/usr/bin/python3
need_yaml

exec $PY - <<'PYEOF'
import json, os, re, shutil, subprocess, sys, tempfile, time
import yaml

BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, "tests/integration")
from harness import check, finish   # noqa: E402

with open("docker-compose.yaml") as f:
    text = f.read()
doc = yaml.safe_load(text)
check(isinstance(doc, dict), "docker-compose.yaml parses to a mapping")
svcs = doc.get("services", {})
vols = doc.get("volumes", {})

# --- services, volumes, KRaft ---------------------------------------------
for name in ("kafka", "topics", "pidns", "speed", "serving", "batch", "producer"):
    check(name in svcs, "service %s exists" % name)
check("lab-data" in vols, "named volume lab-data (store + master dataset)")
check("kafka-data" in vols, "named volume kafka-data")
check("zookeeper" not in text.lower() or "no zookeeper" in text.lower(),
      "no ZooKeeper service")
k = svcs["kafka"]
check(k["image"].split(":-")[-1].startswith("apache/kafka:"), "kafka runs the official apache/kafka image")
kenv = k.get("environment", {})
check("controller" in str(kenv.get("KAFKA_PROCESS_ROLES", "")), "kafka in KRaft mode (process.roles has controller)")
check("KAFKA_CONTROLLER_QUORUM_VOTERS" in kenv and "CLUSTER_ID" in kenv, "KRaft quorum voters and cluster id set")
check("KAFKA_ZOOKEEPER_CONNECT" not in kenv, "kafka has no zookeeper.connect")
check(any(str(p).startswith("9092:") for p in k.get("ports", [])), "kafka publishes 9092 for host clients")
adv = kenv.get("KAFKA_ADVERTISED_LISTENERS", "")
check("kafka:19092" in adv and "localhost:9092" in adv, "kafka advertises an in-network and a host listener")

# --- healthchecks, restart policies, users ----------------------------------
check("healthcheck" in k and "kafka-broker-api-versions.sh" in str(k["healthcheck"]["test"]),
      "kafka healthcheck")
s = svcs["serving"]
check("/readyz" in " ".join(s.get("healthcheck", {}).get("test", [])), "serving healthcheck on /readyz")
check(s.get("healthcheck", {}).get("test", [""])[1:2] == ["curl"], "serving healthcheck uses curl from the image")
check(any(str(p).endswith(":8080") for p in s.get("ports", [])), "serving publishes port 8080")
check(s.get("command", [])[:3] == ["lambda-serving", "--listen", "0.0.0.0:8080"],
      "serving listens on 0.0.0.0:8080 explicitly")
for name in ("kafka", "pidns", "speed", "serving", "batch", "producer"):
    check(svcs[name].get("restart") in ("unless-stopped", "always", "on-failure"),
          "%s has a restart policy" % name)
check(svcs["topics"].get("restart") == "no", "topics is one-shot (restart: no)")
for name in ("pidns", "speed", "serving", "batch", "producer"):
    u = str(svcs[name].get("user", ""))
    check(u != "" and not u.startswith("0") and not u.startswith("root"), "%s runs as a non-root user" % name)
    check(svcs[name].get("image") == "lambdakit:latest" and svcs[name].get("build") == ".",
          "%s uses the lambdakit image built from ./Dockerfile" % name)
for name in ("speed", "serving", "batch"):
    v = svcs[name].get("volumes", [])
    check("lab-data:/opt/lambdakit/var" in v, "%s mounts lab-data at /opt/lambdakit/var" % name)
    check(svcs[name].get("pid") == "service:pidns", "%s shares the pidns PID namespace (LMDB)" % name)
    env = svcs[name].get("environment", {})
    check(env.get("LAMBDA_CONFIG", "").endswith("datasets/orders.json}"), "%s LAMBDA_CONFIG defaults to orders" % name)
check(svcs["speed"].get("environment", {}).get("LAMBDA_BROKERS") == "kafka:19092",
      "speed gets LAMBDA_BROKERS=kafka:19092 (overrides the file)")
check("--brokers kafka:19092" in " ".join(svcs["producer"]["command"]), "the producer sends to kafka:19092")
dep = svcs["speed"].get("depends_on", {})
check(dep.get("topics", {}).get("condition") == "service_completed_successfully",
      "speed waits for the topics to exist")
check(svcs["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy", "topics waits for a healthy kafka")

# --- Dockerfile in step with deps.sh and the binaries -------------------------
with open("Dockerfile") as f:
    dockerfile = f.read()
stages = re.split(r"(?m)^FROM ", dockerfile)[1:]
check(len(stages) == 2 and "bookworm" in stages[0] and "bookworm-slim" in stages[1],
      "Dockerfile: two stages, bookworm build and bookworm-slim runtime")
def apt_pkgs(stage):
    m = re.search(r"apt-get install(?:[^\n\\]|\\\n)*", stage)
    words = re.findall(r"[a-z0-9][a-z0-9.+-]+", m.group(0)) if m else []
    return {w for w in words if w not in ("apt-get", "install", "no-install-recommends", "rm", "rf")}
build_pkgs, run_pkgs = apt_pkgs(stages[0]), apt_pkgs(stages[1])
with open("scripts/deps.sh") as f:
    deps = f.read()
for p in sorted(x for x in build_pkgs if x.endswith("-dev") and x != "libc6-dev"):
    check(p in deps, "Dockerfile build package %s is in scripts/deps.sh" % p)
for p in re.findall(r":(lib[a-z0-9]+-dev|zlib1g-dev)", deps):
    check(p in build_pkgs, "scripts/deps.sh package %s is in the Dockerfile build stage" % p)
check(re.search(r"(?m)^USER lambdakit$", stages[1]) is not None and "--uid 10001" in stages[1],
      "runtime image runs as user lambdakit (uid 10001)")
check("curl" in run_pkgs, "runtime image has curl for the healthcheck")
check("make" in stages[0] and "RUN make" in stages[0], "build stage runs make")

progs = set()
for name, svc in svcs.items():
    for part in svc.get("command", []) or []:
        progs.update(re.findall(r"\blambda-[a-z]+", str(part)))
copied = set(re.findall(r"/src/build/(lambda-[a-z]+)", dockerfile))
for prog in sorted(progs):
    check(prog in copied, "Dockerfile copies %s, which compose runs" % prog)

def needed(path):
    out = subprocess.run(["objdump", "-p", path], capture_output=True, text=True).stdout
    return re.findall(r"NEEDED\s+(\S+)", out)
def package_of(soname):
    for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
              "/usr/lib", "/lib"):
        p = os.path.join(d, soname)
        if os.path.exists(p):
            r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
            if r.returncode == 0:
                return r.stdout.split(":")[0]
    return None
base = {"libc6", "libgcc-s1", "libstdc++6"}
# a sanitized build (make check) links the sanitizer runtimes, which the
# image never ships: the image is built with the plain flags
if os.environ.get("LAMBDA_SANITIZED"):
    base |= {"libasan8", "libubsan1"}
for prog in sorted(copied):
    path = os.path.join(BUILD, prog)
    if not check(os.access(path, os.X_OK), "%s is built (make)" % path):
        continue
    for so in needed(path):
        pkg = package_of(so)
        check(pkg is not None and (pkg in base or pkg in run_pkgs),
              "%s needs %s from package %s, installed by the runtime stage" % (prog, so, pkg))

# --- every program and flag compose runs exists -------------------------------
def helptext(prog):
    r = subprocess.run([os.path.join(BUILD, prog), "--help"], capture_output=True, text=True)
    return r.returncode, r.stdout
for name, svc in sorted(svcs.items()):
    cmd = svc.get("command", []) or []
    joined = " ".join(str(c) for c in cmd)
    for m in re.finditer(r"\b(lambda-[a-z]+)((?:\s+(?:--?[a-zA-Z][-a-zA-Z]*|\"[^\"]*\"|[^\s|;&]+))*)", joined):
        prog, rest = m.group(1), m.group(2)
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            check(False, "%s: %s exists in %s" % (name, prog, BUILD))
            continue
        rc, out = helptext(prog)
        check(rc == 0, "%s: %s --help exits 0" % (name, prog))
        for flag in re.findall(r"(?<!\S)(--[a-z][-a-z]*)", rest):
            check(re.search(r"(?<![-\w])%s\b" % re.escape(flag), out) is not None,
                  "%s: %s has flag %s" % (name, prog, flag))
for name in ("speed", "serving", "batch"):
    for var in svcs[name].get("environment", {}):
        if var.startswith("LAMBDA_") and var not in ("LAMBDA_CONFIG",):
            flag = "--" + var[len("LAMBDA_"):].lower().replace("_", "-")
            prog = {"speed": "lambda-speed", "serving": "lambda-serving", "batch": "lambda-batch"}[name]
            if os.access(os.path.join(BUILD, prog), os.X_OK):
                rc, out = helptext(prog)
                check(flag in out or var in out, "%s: %s reads %s (flag %s)" % (name, prog, var, flag))

# --- topics match the pipelines ------------------------------------------------
topics_cmd = " ".join(svcs["topics"]["command"])
created = dict(re.findall(r"\b([A-Za-z0-9._-]+):(\d+)\b", topics_cmd.split("for t in", 1)[1].split(";", 1)[0]))
for path in ("orders.json", "rides.json", "iot.json", "crypto.json"):    # the lab's pipelines
    with open(os.path.join("datasets", path)) as f:
        pipe = json.load(f)
    sp = pipe.get("speed", {})
    if "topic" in sp:
        check(created.get(sp["topic"]) == str(sp.get("partitions", 4)),
              "topics creates %s with %s partitions (%s)" % (sp["topic"], sp.get("partitions", 4), path))
    if "rejects_topic" in sp:
        check(sp["rejects_topic"] in created, "topics creates rejects topic %s (%s)" % (sp["rejects_topic"], path))
    check(pipe["store"].startswith("var/"), "%s keeps its store under var/ (the lab-data volume)" % path)
    inputs = pipe.get("batch", {}).get("inputs", [])
    for d in ([inputs] if isinstance(inputs, str) else inputs) + [sp.get("archive", "")]:
        if d.startswith("var/") and not re.search(r"[*?\[]", d):
            check("/opt/lambdakit/" + d in dockerfile,
                  "the image creates %s, so a new lab-data volume has it (%s)" % (d, path))

# --- the nightly loop: next run time ----------------------------------------------
script = svcs["batch"]["command"][0].replace("$$", "$")
tmp = tempfile.mkdtemp()
try:
    os.mkdir(os.path.join(tmp, "bin"))
    os.makedirs(os.path.join(tmp, "datasets", "orders", "history"))   # the script's folder
    with open(os.path.join(tmp, "bin", "lambda-batch"), "w") as f:
        f.write("#!/bin/sh\necho run >> \"$RUNS\"\nexit 0\n")
    with open(os.path.join(tmp, "bin", "sleep"), "w") as f:   # stop at the second sleep
        f.write("#!/bin/sh\necho \"$1\" >> \"$SLEEPS\"\n[ $(wc -l < \"$SLEEPS\") -ge 2 ] && kill -TERM $PPID\nexit 0\n")
    with open(os.path.join(tmp, "bin", "lambda-timeshift"), "w") as f:
        f.write("#!/bin/sh\necho \"$@\" >> \"$LOADS\"\necho 3\n")
    for b in ("lambda-batch", "sleep", "lambda-timeshift"):
        os.chmod(os.path.join(tmp, "bin", b), 0o755)
    for at in ("02:00", time.strftime("%H:%M", time.gmtime(time.time() + 120))):
        runs, sleeps = os.path.join(tmp, "runs"), os.path.join(tmp, "sleeps")
        for p in (runs, sleeps):
            if os.path.exists(p):
                os.unlink(p)
        loads = os.path.join(tmp, "loads")
        env = dict(os.environ, PATH=os.path.join(tmp, "bin") + ":" + os.environ["PATH"],
                   BATCH_AT=at, BATCH_START_DELAY="7", RUNS=runs, SLEEPS=sleeps, LOADS=loads,
                   LAMBDA_CONFIG="datasets/orders.json")
        t0 = time.time()
        r = subprocess.run(["/bin/sh", "-c", script], env=env, cwd=tmp, capture_output=True, text=True,
                           timeout=20)
        check(os.path.exists(loads) and open(loads).read().split() ==
              ["--end-before", "today", "-o", "var/orders/history", "datasets/orders/history"],
              "batch loads the history, moved to end yesterday, into an empty var/orders/history")
        os.unlink(loads)
        with open(sleeps) as f:
            sl = [int(x) for x in f.read().split()]
        check(sl[0] == 7, "batch waits BATCH_START_DELAY before the first run")
        check(os.path.exists(runs) and open(runs).read().count("run") == 1, "batch runs once at start")
        h, m = map(int, at.split(":"))
        day = int(t0) - int(t0) % 86400
        nxt = day + h * 3600 + m * 60
        if nxt <= int(t0):
            nxt += 86400
        check(len(sl) == 2 and abs((t0 + sl[1]) - nxt) <= 2 and 0 < sl[1] <= 86400,
              "BATCH_AT=%s: sleeps until the next %s UTC (%s s)" % (at, at, sl[1:] ))
        check(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(nxt)) in r.stdout,
              "batch prints its next run time (%s)" % r.stdout.strip())
    r = subprocess.run(["/bin/sh", "-c", script], env=dict(os.environ, BATCH_AT="2am", BATCH_START_DELAY="0"),
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and "expected HH:MM" in r.stderr, "a bad BATCH_AT is refused with exit 2")
finally:
    shutil.rmtree(tmp)

# --- a compose implementation validates the file: `docker compose` (v2) when
# installed, else Debian's docker-compose 1.29 (scripts/deps.sh installs it) ------
def compose_config(argv, content):
    tmp = tempfile.mkdtemp()
    try:
        with open(os.path.join(tmp, "docker-compose.yaml"), "w") as f:
            f.write(content)
        open(os.path.join(tmp, "Dockerfile"), "w").close()
        return subprocess.run(argv + ["config", "-q"], cwd=tmp, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(tmp)
v2 = shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                capture_output=True).returncode == 0
if v2:
    r = compose_config(["docker", "compose"], text)
    check(r.returncode == 0, "docker compose config accepts the file: %s" % r.stderr.strip()[:300])
elif shutil.which("docker-compose"):
    # 1.29 predates the top-level "name" key; everything else must pass its schema
    r = compose_config(["docker-compose"], re.sub(r"(?m)^name: .*\n", "", text))
    check(r.returncode == 0, "docker-compose 1.29 config accepts the file: %s" % r.stderr.strip()[:300])
else:
    check(False, "a compose implementation validates the file (install docker-compose: scripts/deps.sh)")

finish()
PYEOF
