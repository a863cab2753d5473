"""Latency of the signal API under a bounded load, the cost of an unknown key, and read consistency while a date is re-published.

Usage: .venv/bin/python bench/api.py [--rate 200] [--seconds 10] [--reruns 10] [--compare OLD_TREE]
Starts uvicorn (one process, as `aitrader serve`) on 127.0.0.1 and a free port, in a subprocess, on a temporary
AITRADER_HOME holding ~500 SYNTHETIC test signals per date (never model output), then:
1. load: GET /signals/latest?limit=50 with a pro key at --rate requests/s for --seconds (open loop: request i is
   sent at t0 + i/rate by a pool of threads); prints achieved req/s and p50/p99 latency. Target: p99 < 25 ms at 200 req/s.
2. unknown keys: the same load with well-formed keys whose ids do not exist; the server's CPU time per request
   (user + system, /proc) must stay under 2 ms (no database read on this path).
3. re-runs: while reader threads read GET /signals/latest?limit=500, the admin re-runs the daily job for the latest
   date --reruns times (POST /pipeline/run-daily with a runner that re-publishes synthetic rows under the job's
   lock, 500 and 450 rows alternately, each a new run); every response must carry rows of one run only, as many as
   that run wrote.
--compare OLD_TREE: also run steps 1 and 2 (2 at 20 req/s for 3 s) against the code in OLD_TREE (a folder holding an
older `aitrader/`, e.g. from `git archive`), alternating old, new, old, new in the same run; prints both.
--pg: the PostgreSQL mode instead: a throwaway PostgreSQL server (`aitrader.storage.pgserver.TempPostgres`), then
`aitrader serve` with DuckDB and 1 worker, PostgreSQL and 1 worker, PostgreSQL and 2 workers (each on a fresh
home and database with the same synthetic signals), GET /signals/latest?limit=50 at each --pg-rates for --seconds;
one table of p50/p99 and errors. Target: PostgreSQL, 2 workers, 200 req/s: p99 < 25 ms and 0 failures.
Everything is bounded in count and time and stops by itself.
"""
import argparse, os, secrets, socket, subprocess, sys, tempfile, threading, time
import httpx
from rich.console import Console
from rich.table import Table

SERVER = """
import inspect, sys, uvicorn
from aitrader.core.config import get_config
from aitrader.api.app import create_app
from aitrader.api.keys import create_key
try: from aitrader.testing import publish_synthetic
except ImportError: from aitrader.api.app import publish_synthetic      # code before the split
cfg = get_config({"AITRADER_HOME": sys.argv[1]})
for d, seed in [("2024-11-21", 1), ("2024-11-22", 2)]: publish_synthetic(cfg, d, n=500, seed=seed)
print("KEYS", create_key("pro", "bench", cfg), create_key("admin", "bench", cfg), flush=True)
k = {"n": 0}
def republish(job, params, cfg):   # a 're-run' of the latest date: synthetic test rows, 500 and 450 alternately
    from aitrader.signals.store import SignalStore
    from aitrader.testing import synthetic_signals
    k["n"] += 1; n = 450 if k["n"] % 2 else 500; day = params.get("run_date") or "2024-11-22"
    st = SignalStore(cfg)
    with st.run(job, day) as rid:
        st.publish_signals(rid, day, synthetic_signals(day, n, 100 + k["n"]), drop_events=True); st.update_run(rid, counts={"rows": n})
    return {"run_id": rid}
kw = {"runner": republish} if "runner" in inspect.signature(create_app).parameters else {}
uvicorn.run(create_app(cfg, **kw), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else float("nan")


def cpu_s(pid) -> float:
    "User + system CPU seconds of a process (Linux /proc)."
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def load(url, headers, rate, seconds, threads=16, expect=200):
    "Open-loop load: request i at t0 + i/rate; returns (latencies s, errors, wall s, max lateness s)."
    n = int(rate * seconds); lat, errs, late = [], [], [0.0]
    nxt, lock = [0], threading.Lock()
    t0 = time.perf_counter() + 0.2
    def worker():
        with httpx.Client(timeout=5.0) as c:
            while True:
                with lock:
                    i = nxt[0]; nxt[0] += 1
                if i >= n or time.perf_counter() - t0 > seconds * 3: return
                d = t0 + i / rate - time.perf_counter()
                if d > 0: time.sleep(d)
                else: late[0] = max(late[0], -d)
                s = time.perf_counter()
                try:
                    r = c.get(url, headers=headers() if callable(headers) else headers)
                    dt = time.perf_counter() - s
                    if r.status_code == expect: lat.append(dt)
                    else: errs.append(r.status_code)
                except httpx.HTTPError as e: errs.append(type(e).__name__)
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()
    return lat, errs, time.perf_counter() - t0, late[0]


class Server:
    "uvicorn in a subprocess on a fresh home, with the code of `tree` (None: this checkout)."
    def __init__(self, tree=None):
        self.home = tempfile.TemporaryDirectory(); self.port = free_port(); self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(tree or os.getcwd()), "OMP_NUM_THREADS": "1"}
        self.p = subprocess.Popen([sys.executable, "-c", SERVER, self.home.name, str(self.port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "KEYS": raise RuntimeError("server setup failed: " + self.p.stderr.read()[-2000:])
        self.pro, self.admin = {"X-API-Key": line[1]}, {"X-API-Key": line[2]}
        for _ in range(300):
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200: break
            except httpx.HTTPError: pass
            time.sleep(0.1)
        else: raise RuntimeError("server did not start: " + (self.p.stderr.read() if self.p.poll() is not None else ""))
        for _ in range(50): httpx.get(self.base + "/signals/latest?limit=50", headers=self.pro)   # warm up (snapshot, keys)

    def close(self):
        self.p.terminate()
        try: self.p.wait(10)
        except subprocess.TimeoutExpired: self.p.kill()
        self.home.cleanup()


def step_load(srv, rate, seconds, label):
    c0 = cpu_s(srv.p.pid)
    lat, errs, wall, late = load(srv.base + "/signals/latest?limit=50", srv.pro, rate, seconds)
    cpu_ms = (cpu_s(srv.p.pid) - c0) / max(1, len(lat) + len(errs)) * 1e3
    p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
    return (f"{label.strip()} load: GET /signals/latest?limit=50 (pro)".strip(), f"{len(lat) / wall:.0f} req/s", f"{p50:.1f}", f"{p99:.1f}", "< 25",
            "yes" if p99 < 25 and not errs else "NO",
            f"{len(lat)} ok, {len(errs)} errors, target {rate:g} req/s for {seconds:g} s; server CPU {cpu_ms:.2f} ms/request; "
            f"max client lateness {late * 1e3:.0f} ms; load average {os.getloadavg()[0]:.1f}")


def step_unknown(srv, rate, seconds, label=""):
    unknown = lambda: {"X-API-Key": f"ait_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"}
    c0 = cpu_s(srv.p.pid)
    lat, errs, wall, late = load(srv.base + "/signals/latest?limit=50", unknown, rate, seconds, expect=401)
    cpu_ms = (cpu_s(srv.p.pid) - c0) / max(1, len(lat) + len(errs)) * 1e3
    return (f"{label.strip()} unknown key ids: 401 without a database read".strip(), f"{len(lat) / wall:.0f} req/s", f"{pct(lat, 50) * 1e3:.1f}",
            f"{pct(lat, 99) * 1e3:.1f}", "CPU < 2", "yes" if cpu_ms < 2 and not errs else "NO",
            f"server CPU {cpu_ms:.2f} ms/request (user + system); {len(lat)} x 401, {len(errs)} other")


def step_reruns(srv, reruns):
    stop, seen, bad, rlat, rerr, sizes = threading.Event(), {}, [], [], [], {}
    def reader():
        with httpx.Client(headers=srv.pro, timeout=5.0) as c:
            while not stop.is_set():
                s = time.perf_counter(); r = c.get(srv.base + "/signals/latest?limit=500"); dt = time.perf_counter() - s
                if r.status_code != 200: rerr.append(r.status_code); continue
                rlat.append(dt); b = r.json()
                ids = {x["run_id"] for x in b["signals"]}
                key = (tuple(b["run_ids"]), len(b["signals"]))
                seen[key] = seen.get(key, 0) + 1
                if len(ids) != 1 or ids != set(b["run_ids"]): bad.append(("mixed", sorted(ids)))
                time.sleep(0.002)
    ths = [threading.Thread(target=reader) for _ in range(4)]
    for t in ths: t.start()
    t_end = time.perf_counter() + 120
    with httpx.Client(headers=srv.admin, timeout=30.0) as c:
        for i in range(reruns):
            r = c.post(srv.base + "/pipeline/run-daily", json={"run_date": "2024-11-22"})
            if r.status_code != 202: bad.append(("launch", r.status_code, r.text[:100])); continue
            rid = r.json()["run_id"]
            while time.perf_counter() < t_end:
                run = c.get(srv.base + f"/pipeline/runs/{rid}").json()
                if run["status"] != "running": break
                time.sleep(0.05)
            if run["status"] != "success": bad.append(("run", run.get("errors")))
            else: sizes[rid] = run["counts"]["rows"]
    time.sleep(0.3); stop.set()
    for t in ths: t.join()
    wrong = sum(n for (rids, cnt), n in seen.items() if rids and rids[0] in sizes and sizes[rids[0]] != cnt)
    mixed = sum(1 for b in bad if b[0] == "mixed")
    return (f"reads during {reruns} re-runs of 2024-11-22 (limit=500)", f"{sum(seen.values())} reads", f"{pct(rlat, 50) * 1e3:.1f}",
            f"{pct(rlat, 99) * 1e3:.1f}", "", "yes" if not bad and not wrong else "NO",
            f"{len({k[0] for k in seen})} distinct runs seen, {mixed} mixed responses, {wrong} with another run's size, "
            f"{len(rerr)} non-200, launch problems: {[b for b in bad if b[0] != 'mixed'][:3]}")


PG_SERVER = """
import os, sys
from aitrader.core.config import get_config
from aitrader.api.app import serve
from aitrader.api.keys import create_key
from aitrader.testing import publish_synthetic
cfg = get_config({"AITRADER_HOME": sys.argv[1]})
for d, seed in [("2024-11-21", 1), ("2024-11-22", 2)]: publish_synthetic(cfg, d, n=500, seed=seed)
print("KEYS", create_key("pro", "bench", cfg), create_key("admin", "bench", cfg), flush=True)
os.environ["AITRADER_HOME"] = sys.argv[1]
serve(port=int(sys.argv[2]), workers=int(sys.argv[3]), cfg=cfg)
"""


class WorkersServer(Server):
    "`aitrader.api.app.serve` with `workers` processes in a subprocess on a fresh home; PostgreSQL when `db_url` is given."
    def __init__(self, workers=1, db_url=None):
        self.home = tempfile.TemporaryDirectory(); self.port = free_port(); self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "AITRADER_DB_URL"}
        env.update(PYTHONPATH=os.getcwd(), OMP_NUM_THREADS="1", **({"AITRADER_DB_URL": db_url} if db_url else {}))
        self.p = subprocess.Popen([sys.executable, "-c", PG_SERVER, self.home.name, str(self.port), str(workers)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "KEYS": raise RuntimeError("server setup failed: " + self.p.stderr.read()[-2000:])
        self.pro, self.admin = {"X-API-Key": line[1]}, {"X-API-Key": line[2]}
        for _ in range(600):
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200: break
            except httpx.HTTPError: pass
            time.sleep(0.1)
        else: raise RuntimeError("server did not start: " + (self.p.stderr.read() if self.p.poll() is not None else ""))
        for _ in range(100):   # warm every worker (new connections spread over them)
            with httpx.Client(timeout=5) as c: c.get(self.base + "/signals/latest?limit=50", headers=self.pro)

    def close(self):
        import signal
        try: os.killpg(self.p.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: self.p.wait(15)
        except subprocess.TimeoutExpired: os.killpg(self.p.pid, signal.SIGKILL)
        self.home.cleanup()


def main_pg(rates=(200, 500), seconds=10.0) -> int:
    "DuckDB 1 worker, PostgreSQL 1 and 2 workers, each at every rate: one table."
    from aitrader.storage.pgserver import TempPostgres
    rows, ok = [], True
    with TempPostgres() as pg:
        for backend, workers in [("duckdb", 1), ("postgres", 1), ("postgres", 2)]:
            url = pg.create_db() if backend == "postgres" else None
            srv = WorkersServer(workers, url)
            try:
                import psutil
                procs = lambda: [psutil.Process(srv.p.pid), *psutil.Process(srv.p.pid).children(recursive=True)]
                cpu = lambda: sum(sum(q.cpu_times()[:2]) for q in procs())
                for rate in rates:
                    c0 = cpu()
                    lat, errs, wall, late = load(srv.base + "/signals/latest?limit=50", srv.pro, rate, seconds)
                    cpu_ms = (cpu() - c0) / max(1, len(lat) + len(errs)) * 1e3
                    p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
                    target = backend == "postgres" and workers == 2 and rate == 200
                    good = p99 < 25 and not errs
                    ok &= good or not target
                    rows.append((backend, str(workers), f"{rate:g}", f"{len(lat) / wall:.0f}", f"{p50:.1f}", f"{p99:.1f}",
                                 str(len(errs)), ("yes" if good else "NO") + (" (target)" if target else ""),
                                 f"{len(lat)} ok; server CPU {cpu_ms:.2f} ms/request (uvicorn processes); "
                                 f"max client lateness {late * 1e3:.0f} ms; load average {os.getloadavg()[0]:.1f}"))
            finally: srv.close()
    tab = Table(title=f"bench/api.py --pg: GET /signals/latest?limit=50 (pro), {seconds:g} s per row; {os.cpu_count()} CPUs")
    for c in ["store", "workers", "target req/s", "achieved req/s", "p50 ms", "p99 ms", "errors", "p99 < 25 ms, 0 errors", "detail"]: tab.add_column(c)
    for r in rows: tab.add_row(*r)
    Console(width=200).print(tab)
    return 0 if ok else 1


def main(rate=200, seconds=10.0, reruns=10, compare=None) -> int:
    rows = []
    order = [(compare, " (before)"), (None, " (after)")] * 2 if compare else [(None, "")]
    for tree, label in order:
        srv = Server(tree)
        try:
            rows.append(step_load(srv, rate, seconds, label))
            if tree is not None and not any("unknown" in r[0] for r in rows):      # the old path is slow: a short, light load
                rows.append(step_unknown(srv, 20, 3, label))
            if tree is None and not any("unknown" in r[0] and "(before)" not in r[0] for r in rows):
                rows.append(step_unknown(srv, rate, seconds)); rows.append(step_reruns(srv, reruns))
        finally: srv.close()
    tab = Table(title=f"bench/api.py (uvicorn, 1 process; {os.cpu_count()} CPUs)")
    for c in ["step", "throughput", "p50 ms", "p99 ms", "target ms", "ok", "detail"]: tab.add_column(c)
    for r in rows: tab.add_row(*r)
    Console(width=200).print(tab)
    return 0 if all(r[5] == "yes" for r in rows if "(before)" not in r[0]) else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200, help="requests per second")
    ap.add_argument("--seconds", type=float, default=10, help="duration of the load")
    ap.add_argument("--reruns", type=int, default=10, help="re-runs of the latest date during the consistency check")
    ap.add_argument("--compare", default=None, help="folder with the older code to measure in the same run")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL mode: DuckDB 1 worker vs PostgreSQL 1 and 2 workers")
    ap.add_argument("--pg-rates", default="200,500", help="request rates of the PostgreSQL mode, comma separated")
    a = ap.parse_args()
    if a.pg: sys.exit(main_pg(tuple(float(x) for x in a.pg_rates.split(",")), a.seconds))
    sys.exit(main(a.rate, a.seconds, a.reruns, a.compare))
