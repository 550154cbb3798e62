#!/bin/bash
# deploy_test.sh -- deploy/ checked without Docker or Kubernetes: the compose profile of two
# replicas (deploy/docker-compose.scale.yaml) and the Kubernetes example (deploy/kubernetes/)
# parse (PyYAML; docker-compose 1.29's schema for the compose file when installed), hold the
# parts they claim (a shared repository, stores and consumer groups of their own, readiness on
# /readyz, an Indexed Job whose N matches --shard, one PID namespace per store), every program
# and flag they run exists in "$BUILD" (--help), and their commands run natively: the shards,
# the merge and the pull of the Job and the Deployment over a small master dataset, and the
# compose replica's script against the development broker.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
. tests/integration/harness.sh   # need_yaml
PY=/usr/bin/python3
need_yaml

exec $PY - <<'PYEOF'
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request
import yaml

BUILD = os.environ["BUILD"]
sys.path.insert(0, "tests/integration")
import harness                        # noqa: E402
from harness import check, finish   # noqa: E402

def helptext(prog):
    r = subprocess.run([os.path.join(BUILD, prog), "--help"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""

def programs_and_flags(where, text):
    """Every lambda-* program in text exists and has every --flag given to it."""
    for m in re.finditer(r"\b(lambda-[a-z]+)((?:[ \t]+(?:\\\n[ \t]*)?(?:--?[a-zA-Z][-a-zA-Z]*|\"[^\"]*\"|[^\s|;&]+))*)",
                         text):
        prog, rest = m.group(1), m.group(2)
        out = helptext(prog)
        if not check(out != "", "%s: %s exists in %s (--help)" % (where, prog, BUILD)):
            continue
        for flag in re.findall(r"(?<!\S)(--[a-z][-a-z]*)", rest):
            check(re.search(r"(?<![-\w])%s\b" % re.escape(flag), out) is not None,
                  "%s: %s has %s" % (where, prog, flag))

def env_vars(where, env, progs):
    """Every LAMBDA_ variable is read by one of progs (its flag's variable)."""
    for var in env:
        if not var.startswith("LAMBDA_"):
            continue
        check(any(var in helptext(p) for p in progs), "%s: %s is read by %s" % (where, var, " or ".join(progs)))

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def http(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""

def wait_for(fn, secs):
    end = time.time() + secs * float(os.environ.get("LAMBDA_SLOW", "1"))
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.2)
    return fn()

def viewdump(pipe, store):
    r = subprocess.run([os.path.join(BUILD, "tests/integration/viewdump"), pipe, store, "batch"],
                       capture_output=True, text=True)
    return r.stdout

tmp = tempfile.mkdtemp(prefix="deploy_test.")
procs = []
try:
    # ---- the compose profile ------------------------------------------------------------
    with open("docker-compose.yaml") as f:
        base_text = f.read()
    with open("deploy/docker-compose.scale.yaml") as f:
        text = f.read()
    doc = yaml.safe_load(text)
    base = yaml.safe_load(base_text)
    check(isinstance(doc, dict), "deploy/docker-compose.scale.yaml parses to a mapping")
    svcs, vols = doc.get("services", {}), doc.get("volumes", {})
    reps = [n for n in svcs if n.startswith("replica-")]
    check(len(reps) >= 2, "two replicas or more (%s)" % ", ".join(reps))
    check("repository" in vols, "a named volume for the shared repository")
    bat = svcs.get("batch", {})
    check(bat.get("environment", {}).get("LAMBDA_REPOSITORY") == "/opt/lambdakit/repository",
          "the lab's batch (the publisher) writes the repository (LAMBDA_REPOSITORY)")
    check("repository:/opt/lambdakit/repository" in bat.get("volumes", []),
          "  ... mounted from the repository volume")
    check("batch" in base["services"] and "profiles" not in bat, "  ... and it is the lab's batch service")
    groups, ports, stores = set(), set(), set()
    for n in reps:
        s = svcs[n]
        env = s.get("environment", {})
        check(s.get("profiles") == ["scale"], "%s is in the scale profile" % n)
        check(s.get("image") == "lambdakit:latest" and not str(s.get("user", "0")).startswith("0"),
              "%s runs the lambdakit image as a non-root user" % n)
        check("repository:/opt/lambdakit/repository:ro" in s.get("volumes", []),
              "%s reads the repository, read-only" % n)
        own = [v for v in s.get("volumes", []) if v.endswith(":/opt/lambdakit/var")]
        check(len(own) == 1 and own[0].split(":")[0] in vols and own[0].split(":")[0] != "lab-data",
              "%s has a store volume of its own" % n)
        stores.update(v.split(":")[0] for v in own)
        groups.add(env.get("LAMBDA_GROUP"))
        ports.update(str(p).split(":")[0] for p in s.get("ports", []))
        check("/readyz" in " ".join(s.get("healthcheck", {}).get("test", [])), "%s: healthcheck on /readyz" % n)
        check(env.get("LAMBDA_READY_MAX_LAG", "") != "", "%s: readiness bounds speed's lag" % n)
        check(env.get("LAMBDA_BROKERS") == "kafka:19092", "%s: speed reads the lab's Kafka" % n)
        check(s.get("restart") == "unless-stopped" and s.get("init") is True,
              "%s: a restart policy and an init" % n)
        script = s["command"][0].replace("$$", "$")
        programs_and_flags(n, script)
        env_vars(n, env, ["lambda-speed", "lambda-serving", "lambda-batch"])
        for prog in ("lambda-speed", "lambda-serving", "lambda-batch --pull"):
            check(prog in script, "%s runs %s" % (n, prog))
    check(len(groups) == len(reps) and None not in groups, "each replica has its own consumer group")
    check(len(ports) == len(reps), "each replica publishes its own host port")
    check(len(stores) == len(reps), "each replica has its own store")
    with open("Dockerfile") as f:
        dockerfile = f.read()
    check("/opt/lambdakit/repository" in dockerfile and
          re.search(r"chown -R lambdakit:lambdakit [^\n]*/opt/lambdakit/repository", dockerfile) is not None,
          "the image creates /opt/lambdakit/repository for the lambdakit user")
    if shutil.which("docker-compose"):
        d = os.path.join(tmp, "compose")
        os.makedirs(os.path.join(d, "deploy"))
        with open(os.path.join(d, "docker-compose.yaml"), "w") as f:
            f.write(re.sub(r"(?m)^name: .*\n", "", base_text))   # 1.29 predates "name"
        shutil.copy("deploy/docker-compose.scale.yaml", os.path.join(d, "deploy"))
        open(os.path.join(d, "Dockerfile"), "w").close()
        r = subprocess.run(["docker-compose", "-f", "docker-compose.yaml", "-f",
                            "deploy/docker-compose.scale.yaml", "--profile", "scale", "config"],
                           cwd=d, capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "docker-compose 1.29 accepts the lab with the scale profile: %s" %
              r.stderr.strip()[:300])
        merged = yaml.safe_load(r.stdout) if r.returncode == 0 else {}
        menv = merged.get("services", {}).get("batch", {}).get("environment", {})
        check(menv.get("LAMBDA_REPOSITORY") and menv.get("LAMBDA_CONFIG"),
              "  ... the merged batch keeps the lab's settings and writes the repository")
        for n in reps:
            check(n in merged.get("services", {}), "  ... and runs %s" % n)

    # ---- the Kubernetes example ----------------------------------------------------------
    objs = {}
    for path in sorted(os.listdir("deploy/kubernetes")):
        if not path.endswith(".yaml"):
            continue
        with open(os.path.join("deploy/kubernetes", path)) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        check(len(docs) > 0 and all("apiVersion" in d and "kind" in d for d in docs),
              "deploy/kubernetes/%s parses: %s" % (path, ", ".join(d.get("kind", "?") for d in docs)))
        for d in docs:
            objs[(d["kind"], d["metadata"]["name"])] = d
    cm = objs.get(("ConfigMap", "lambdakit-pipeline"))
    check(cm is not None and "orders.json" in cm["data"], "a ConfigMap holds the pipeline file")
    pipe_text = cm["data"]["orders.json"]
    pipe = json.loads(pipe_text)
    kpipe = os.path.join(tmp, "k8s-orders.json")
    with open(kpipe, "w") as f:
        f.write(pipe_text)
    for prog in ("lambda-batch", "lambda-speed", "lambda-serving"):
        r = subprocess.run([os.path.join(BUILD, prog), "-c", kpipe, "--check-config"],
                           capture_output=True, text=True)
        check(r.stdout.strip() == "configuration OK", "the cluster's pipeline passes %s --check-config" % prog)
    check(pipe["batch"].get("repository") == "/shared/repository", "  ... it sets batch.repository")
    check(pipe["serving"].get("ready_max_lag"), "  ... and serving.ready_max_lag")
    pvcs = {n for (k, n) in objs if k == "PersistentVolumeClaim"}
    shared_modes = objs.get(("PersistentVolumeClaim", "lambdakit-shared"), {}).get("spec", {}).get("accessModes")
    check(shared_modes == ["ReadWriteMany"], "the shared volume is ReadWriteMany")

    def pod_checks(where, spec):
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec.get("containers", []):
            cmd = " ".join(c.get("command", []) + c.get("args", []))
            programs_and_flags("%s/%s" % (where, c["name"]), cmd)
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            check(env.get("LAMBDA_CONFIG") == "/etc/lambdakit/orders.json",
                  "%s/%s reads the ConfigMap's pipeline" % (where, c["name"]))
            env_vars("%s/%s" % (where, c["name"]), env, ["lambda-speed", "lambda-serving", "lambda-batch"])
            for m in c.get("volumeMounts", []):
                check(m["name"] in vols, "%s/%s mounts a declared volume (%s)" % (where, c["name"], m["name"]))
        for v in vols.values():
            if "persistentVolumeClaim" in v:
                check(v["persistentVolumeClaim"]["claimName"] in pvcs,
                      "%s: claim %s is in storage.yaml" % (where, v["persistentVolumeClaim"]["claimName"]))
        check(spec.get("securityContext", {}).get("runAsUser") == 10001, "%s runs as uid 10001" % where)

    shards = objs.get(("Job", "lambdakit-shards"), {})
    sspec = shards.get("spec", {})
    check(sspec.get("completionMode") == "Indexed", "the shards are an Indexed Job")
    shard_script = sspec["template"]["spec"]["containers"][0]["args"][0]
    m = re.search(r'--shard "\$JOB_COMPLETION_INDEX/(\d+)"', shard_script)
    n = int(m.group(1)) if m else 0
    check(m is not None and sspec.get("completions") == n and sspec.get("parallelism") == n,
          "completions, parallelism and --shard I/N agree (N=%d)" % n)
    pod_checks("lambdakit-shards", sspec["template"]["spec"])
    merge = objs.get(("Job", "lambdakit-merge"), {})
    merge_script = merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
    check("--merge /shared/partials/*.lkv" in merge_script, "the merge Job folds every partial")
    pod_checks("lambdakit-merge", merge["spec"]["template"]["spec"])
    dep = objs.get(("Deployment", "lambdakit-replica"), {})
    dspec = dep["spec"]["template"]["spec"]
    check(dspec.get("shareProcessNamespace") is True, "a replica's processes share one PID namespace (LMDB)")
    cs = {c["name"]: c for c in dspec["containers"]}
    check(set(cs) == {"speed", "serving", "pull"}, "a replica pod runs speed, serving and a pull loop")
    probe = cs["serving"].get("readinessProbe", {}).get("httpGet", {})
    check(probe.get("path") == "/readyz", "the Deployment's readiness probe is /readyz")
    check("lambdakit-$(POD_NAME)" in cs["speed"]["command"] and
          any(e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name"
              for e in cs["speed"]["env"]), "each pod's speed has a consumer group of its own (its name)")
    check(any(v.get("emptyDir") is not None and v["name"] == "store" for v in dspec["volumes"]),
          "each pod's store is its own (emptyDir)")
    pod_checks("lambdakit-replica", dspec)
    svc = objs.get(("Service", "lambdakit"), {})
    check(svc.get("spec", {}).get("selector") == dep["spec"]["template"]["metadata"]["labels"],
          "the Service selects the replicas")

    # ---- the Kubernetes commands, natively ----------------------------------------------
    # /shared and /etc/lambdakit become folders here; the stores too
    sh = os.path.join(tmp, "shared")
    os.makedirs(os.path.join(sh, "master"))
    for f in os.listdir("datasets/orders/history"):
        shutil.copy(os.path.join("datasets/orders/history", f), os.path.join(sh, "master"))
    local = dict(pipe, store=os.path.join(tmp, "publisher"),
                 batch=dict(pipe["batch"], inputs=[os.path.join(sh, "master")],
                            repository=os.path.join(sh, "repository")))
    etc = os.path.join(tmp, "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "orders.json"), "w") as f:
        json.dump(local, f)
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "sleep"), "w") as f:     # the pull loop: one round
        f.write("#!/bin/sh\nkill -TERM $PPID\n")
    os.chmod(os.path.join(bindir, "sleep"), 0o755)
    def native(script, **env):
        script = script.replace("/shared", sh).replace("/etc/lambdakit", etc)
        e = dict(os.environ, PATH=BUILD + ":" + os.environ["PATH"],
                 LAMBDA_CONFIG=os.path.join(etc, "orders.json"), **env)
        return subprocess.run(["/bin/sh", "-c", script], env=e, capture_output=True, text=True, timeout=60)
    for i in range(n):
        r = native(shard_script, JOB_COMPLETION_INDEX=str(i))
        check(r.returncode == 0, "the shard Job's script runs natively, index %d%s" %
              (i, "" if r.returncode == 0 else ": " + r.stderr[-200:]))
    check(sorted(os.listdir(os.path.join(sh, "partials"))) == ["%d.lkv" % i for i in range(n)],
          "  ... and writes one partial per index")
    r = native(merge_script)
    check(r.returncode == 0, "the merge Job's script runs natively%s" %
          ("" if r.returncode == 0 else ": " + r.stderr[-300:]))
    check(os.listdir(os.path.join(sh, "partials")) == [], "  ... removes the partials after the publish")
    check(open(os.path.join(sh, "repository", "LATEST")).read() == "v0000000001.lkv\n",
          "  ... and writes version 1 to the repository")
    one = dict(local, store=os.path.join(tmp, "one"))
    with open(os.path.join(tmp, "one.json"), "w") as f:
        json.dump(one, f)
    r = subprocess.run([os.path.join(BUILD, "lambda-batch"), "-c", os.path.join(tmp, "one.json"),
                        "--no-progress"], capture_output=True, text=True)
    want = viewdump(kpipe, os.path.join(tmp, "one"))
    check(want != "" and viewdump(kpipe, os.path.join(tmp, "publisher")) == want,
          "  ... the same views as one run over the master dataset")
    pull_script = cs["pull"]["args"][0]
    e = dict(PATH=bindir + ":" + BUILD + ":" + os.environ["PATH"], LAMBDA_STORE=os.path.join(tmp, "replica"))
    r = subprocess.run(["/bin/sh", "-c", pull_script.replace("/shared", sh)], timeout=60,
                       env=dict(os.environ, LAMBDA_CONFIG=os.path.join(etc, "orders.json"), **e),
                       capture_output=True, text=True)
    check("pulled version 1" in r.stderr, "the Deployment's pull loop runs natively%s" %
          ("" if "pulled version 1" in r.stderr else ": " + r.stderr.strip()[-200:]))
    check(viewdump(kpipe, os.path.join(tmp, "replica")) == want, "  ... and the replica holds the same views")

    # ---- the compose replica's script, natively, against the development broker ------------
    cpipe = json.load(open("datasets/orders.json"))
    cpipe["store"] = os.path.join(tmp, "creplica", "store")
    cpipe["speed"].pop("archive", None)
    cpipe["speed"]["kafka"] = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                               "fetch.wait.max.ms": 20}
    cjson = os.path.join(tmp, "compose-orders.json")
    json.dump(cpipe, open(cjson, "w"))
    boot = os.path.join(tmp, "bootstrap")
    procs.append(subprocess.Popen([os.path.join(BUILD, "lambda-devbroker"), "-c", cjson, "-f", boot,
                                   "--log-level", "warn"], stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(tmp, "devbroker.log"), "w")))
    check(wait_for(lambda: os.path.exists(boot) and os.path.getsize(boot) > 0, 20), "the development broker starts")
    brokers = open(boot).read().strip()
    repo = os.path.join(tmp, "crepo")
    r = subprocess.run([os.path.join(BUILD, "lambda-batch"), "-c", cjson, "--store", os.path.join(tmp, "cpub"),
                        "--repository", repo, "--until", "2026-11-20T00:00:00Z", "--no-progress",
                        "datasets/orders/history"], capture_output=True, text=True)
    check(r.returncode == 0, "a publisher writes the repository the replica reads")
    port = free_port()
    rep = svcs[reps[0]]
    script = rep["command"][0].replace("$$", "$").replace("/opt/lambdakit/repository", repo) \
        .replace("0.0.0.0:8080", "127.0.0.1:%d" % port)
    env = {k: str(v) for k, v in rep["environment"].items()}
    env = {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", v) for k, v in env.items()}
    env.update(LAMBDA_CONFIG=cjson, LAMBDA_BROKERS=brokers, PULL_EVERY="1",
               PATH=BUILD + ":" + os.environ["PATH"])
    rlog = open(os.path.join(tmp, "replica.log"), "w")
    replica = subprocess.Popen(["/bin/bash", "-c", script], env=dict(os.environ, **env), stdout=rlog,
                               stderr=rlog, start_new_session=True)
    procs.append(replica)
    url = "http://127.0.0.1:%d" % port
    check(wait_for(lambda: http(url + "/readyz")[0] == 503, 20),
          "the compose replica's script runs natively: serving answers, not ready yet")
    r = subprocess.run([os.path.join(BUILD, "lambda-produce"), "-c", cjson, "-b", brokers,
                        "datasets/orders/history/2026-11-19.jsonl"], capture_output=True, text=True)
    check(r.returncode == 0, "  ... events are produced")
    ready = wait_for(lambda: http(url + "/readyz")[0] == 200, 40)
    check(ready, "  ... it pulls version 1, speed catches up, /readyz turns ready%s" %
          ("" if ready else ": " + http(url + "/readyz")[1][:200]))
    st, body = http(url + "/v1/views/totals/total")
    check(st == 200 and '"batch":{"version":1,' in body, "  ... and answers from version 1")
    replica.send_signal(signal.SIGTERM)
    try:
        rc = replica.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, "  ... and SIGTERM stops the three processes, exit 0 (%s)" % rc)
finally:
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL) if p.pid == os.getpgid(p.pid) else p.kill()
            except OSError:
                pass
            p.wait()
    if harness.failed == 0:
        shutil.rmtree(tmp)
    else:
        print("(files kept in %s)" % tmp)

finish()
PYEOF
