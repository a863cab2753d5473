"""Writes under concurrency and while another process holds the store files (issue #24).

Usage: .venv/bin/python bench/concurrency.py [--seconds 30] [--rate 10] [--scenarios idle,daily,ingest,desk]
       [--tree /path/to/an/aitrader/checkout]   (the code measured; default: this checkout)
       [--pg]   (the stores in a throwaway PostgreSQL server instead of the DuckDB files)
       [--workers N]   (with --pg: N uvicorn worker processes, as `aitrader serve --workers N`)

Starts `uvicorn` (one process, as `aitrader serve`) on 127.0.0.1 and a free port, in a subprocess, on a temporary
AITRADER_HOME holding the REAL daily bars of RELIANCE, TCS and INFY cut after 2024-11-22 and SYNTHETIC test signals
for that date (the app's clock stands on that evening), then:
1. bursts: 8 identical TradingView alerts at once (one must answer 201, seven 200 duplicate), and 40 distinct alerts
   at concurrency 8 (all must answer 201);
2. mixed load per scenario: webhooks (distinct alerts), paper orders (qty 1, each with its own Idempotency-Key) and
   kill-switch writes (`POST /kill` engaged=false: the row and the event log), together --rate writes/s for
   --seconds (open loop: request i is sent at t0 + i/rate), client timeout 10 s, while another process
   - idle: nothing else;
   - daily: holds the job file `aitrader.duckdb` as the daily job does (the bar catalog read-only 3 s, then the
     signal store read-write 1 s, in a loop);
   - ingest: holds `aitrader.duckdb` read-write the whole time (an ingest's `BarStore`);
   - desk: holds the API file `api.duckdb` read-write 4 s out of every 4.5 s (a desk job);
   after each scenario it checks that no webhook answered 503/timeout was stored (ids read back from the store).
Prints one table: per scenario and kind, n, ok (2xx), rule (4xx, a business refusal), busy (503), timeout, other,
p50 / p99 latency (ms), and stored-after-refusal (webhooks: refused or timed-out alerts found in the store; orders:
live (not cancelled) orders stored beyond those answered 2xx, cumulative). Everything is bounded in count and time and stops by itself.
"""
import argparse, json, os, socket, subprocess, sys, tempfile, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor
import httpx

SECRET = "bench-secret-1234567"
DAY = "2024-11-22"
SERVER = """
import sys, pandas as pd, uvicorn
import aitrader; print("TREE", aitrader.__file__, file=sys.stderr)
from aitrader.core.config import get_config
from aitrader.api.app import create_app
from aitrader.api.keys import create_key
from aitrader.testing import ingest_real, publish_synthetic
cfg = get_config({"AITRADER_HOME": sys.argv[1], "AITRADER_DATA_DIR": sys.argv[3]})
ingest_real(cfg, cfg.data_dir, ["RELIANCE", "TCS", "INFY"], last="2024-11-22")
publish_synthetic(cfg, "2024-11-22", n=6, seed=2, real=[("RELIANCE", "BUY", 1285.0), ("TCS", "BUY", 4300.0)])
print("KEYS", create_key("elite", "bench", cfg), create_key("admin", "bench", cfg), flush=True)
EVENING = pd.Timestamp("2024-11-22 18:00", tz="Asia/Kolkata")
if int(sys.argv[4]) > 1:  # as `aitrader serve --workers N`: each worker process builds its app from the environment
    import os
    os.environ.update(AITRADER_HOME=sys.argv[1], AITRADER_DATA_DIR=sys.argv[3])
    open(os.path.join(sys.argv[1], "benchapp.py"), "w").write(
        "import pandas as pd\\nfrom aitrader.api.app import create_app\\n"
        "def app():\\n    return create_app(clock=lambda: pd.Timestamp('2024-11-22 18:00', tz='Asia/Kolkata'))\\n")
    sys.path.insert(0, sys.argv[1])
    uvicorn.run("benchapp:app", factory=True, workers=int(sys.argv[4]), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="error", access_log=False)
else:
    uvicorn.run(create_app(cfg, clock=lambda: EVENING), host="127.0.0.1", port=int(sys.argv[2]), log_level="error",
                access_log=False)
"""
HOLDER = """
import sys, time
from aitrader.core.config import get_config
cfg, what, until = get_config({"AITRADER_HOME": sys.argv[1]}), sys.argv[2], time.time() + float(sys.argv[3])
from aitrader.data.store import BarStore
from aitrader.signals.store import SignalStore
from aitrader.storage.apistore import ApiStore
print("holding", flush=True)
while time.time() < until:
    if what == "daily":
        with BarStore(cfg, read_only=True):
            time.sleep(3)
        with SignalStore(cfg).transaction():
            time.sleep(1)
    elif what == "ingest":
        with BarStore(cfg):
            time.sleep(max(until - time.time(), 0))
    elif what == "desk":
        with ApiStore(cfg, wait=60):
            time.sleep(4)
        time.sleep(0.5)
"""
STORED = """
import sys, json
from aitrader.core.config import get_config
from aitrader.track.external import read_external
from aitrader.storage.apistore import ApiStore
cfg = get_config({"AITRADER_HOME": sys.argv[1]})
with ApiStore(cfg, wait=60) as db:
    n = db.one("SELECT count(*) FROM orders WHERE status <> 'CANCELLED'")[0]  # live orders
print(json.dumps([sorted(read_external(cfg).id), n]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else float("nan")


def alert(i: int, strategy: str) -> dict:
    return dict(secret=SECRET, source="bench", strategy=f"{strategy}-{i}", ticker="NSE:RELIANCE", action="buy",
                price=1290.0, time=f"{DAY}T09:15:00+05:30", interval="1D")


class Bench:
    def __init__(self, tree: str, data_dir: str, pg_url: str | None = None, workers: int = 1):
        self.home = tempfile.mkdtemp(prefix="bench24-")
        self.env = {**os.environ, "PYTHONPATH": tree, "AITRADER_HOME": self.home, "OMP_NUM_THREADS": "1",
                    "AITRADER_TV_SECRETS": f"bench:{SECRET}", "AITRADER_DATA_DIR": data_dir}
        self.env.pop("AITRADER_DB_URL", None)
        if pg_url:
            self.env["AITRADER_DB_URL"] = pg_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.srv = subprocess.Popen([sys.executable, "-c", SERVER, self.home, str(self.port), data_dir, str(workers)], env=self.env,
                                    stdout=subprocess.PIPE, text=True, cwd=self.home)
        line = self.srv.stdout.readline().split()
        if not line or line[0] != "KEYS":
            raise SystemExit(f"server did not start: {line}")
        self.elite, self.admin = line[1], line[2]
        for _ in range(300):
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = httpx.post(self.base + "/elite/auto/enable", headers={"X-API-Key": self.elite}, timeout=30,
                       json=dict(enabled=True, max_open_positions=1000, max_notional=1e9, daily_loss_limit=1e9,
                                 max_total_notional=1e12))
        assert r.status_code == 200, r.text

    def close(self):
        self.srv.terminate()
        try:
            self.srv.wait(10)
        except subprocess.TimeoutExpired:  # a server still working through a backlog of waiting requests
            self.srv.kill()
            self.srv.wait(10)

    def send(self, c: httpx.Client, kind: str, i: int, tag: str) -> tuple[str, str, float, str | None]:
        "(kind, outcome, seconds, alert id or None) of one request."
        t0, aid = time.perf_counter(), None
        try:
            if kind == "webhook":
                r = c.post("/webhooks/tradingview", json=alert(i, tag))
                aid = r.json().get("id") if r.status_code in (200, 201) else None
            elif kind == "order":
                r = c.post("/elite/trade/execute", headers={"X-API-Key": self.elite, "Idempotency-Key": uuid.uuid4().hex},
                           json=dict(signal_id=f"{DAY}:RELIANCE", qty=1))
            else:
                r = c.post("/kill", headers={"X-API-Key": self.admin}, json=dict(engaged=False, reason=f"bench {i}"))
            s = r.status_code
            out = "ok" if s < 300 else "busy" if s == 503 else "rule" if s < 500 else "other"
        except httpx.TimeoutException:
            out = "timeout"
        except httpx.HTTPError:
            out = "other"
        return kind, out, time.perf_counter() - t0, aid

    def burst(self, n: int, conc: int, same: bool, tag: str) -> dict:
        with httpx.Client(base_url=self.base, timeout=30) as c, ThreadPoolExecutor(conc) as ex:
            codes = list(ex.map(lambda i: c.post("/webhooks/tradingview", json=alert(0 if same else i, tag)).status_code,
                                range(n)))
        return {k: codes.count(k) for k in sorted(set(codes))}

    def mixed(self, seconds: float, rate: float, tag: str) -> list:
        kinds = ["webhook", "order", "kill"]
        n = int(seconds * rate)
        t0, res = time.perf_counter() + 0.2, []
        with httpx.Client(base_url=self.base, timeout=10, limits=httpx.Limits(max_connections=200)) as c, \
                ThreadPoolExecutor(120) as ex:
            futs = []
            for i in range(n):
                time.sleep(max(t0 + i / rate - time.perf_counter(), 0))
                futs.append(ex.submit(self.send, c, kinds[i % 3], i, tag))
            res = [f.result() for f in futs]
        return res

    def stored(self) -> tuple[set, int]:
        "(ids of the stored alerts, number of stored orders)."
        out = subprocess.run([sys.executable, "-c", STORED, self.home], env=self.env, capture_output=True, text=True,
                             cwd=self.home)
        ids, n = json.loads(out.stdout) if out.returncode == 0 else ([], -1)
        return set(ids), n


def run(args) -> list:
    pg = None
    if args.pg:
        sys.path.insert(0, args.tree)
        from aitrader.storage.pgserver import TempPostgres
        pg = TempPostgres().__enter__()
    try:
        return _run(args, pg.create_db() if pg else None)
    finally:
        if pg is not None:
            pg.__exit__(None, None, None)


def _run(args, url) -> list:
    b, rows, ok_orders = Bench(args.tree, args.data, url, args.workers), [], 0
    try:
        rows.append(("burst", "8 identical", "codes", json.dumps(b.burst(8, 8, True, "same"))))
        rows.append(("burst", "40 distinct @8", "codes", json.dumps(b.burst(40, 8, False, "distinct"))))
        show(rows)
        for sc in args.scenarios.split(","):
            hold = None
            if sc != "idle":
                hold = subprocess.Popen([sys.executable, "-c", HOLDER, b.home, sc, str(args.seconds + 2)], env=b.env,
                                        stdout=subprocess.PIPE, text=True, cwd=b.home)
                hold.stdout.readline()
                time.sleep(0.5)
            res = b.mixed(args.seconds, args.rate, sc)
            if hold is not None:
                hold.wait(args.seconds + 30)
            time.sleep(1)
            have, n_orders = b.stored()
            ok_orders += sum(1 for k, o, _, _ in res if k == "order" and o == "ok")
            ghost = sum(1 for i, (k, o, _, aid) in enumerate(res) if k == "webhook" and o in ("busy", "timeout")
                        and _alert_id(b, i, sc) in have)
            for kind in ["webhook", "order", "kill"]:
                r = [x for x in res if x[0] == kind]
                cnt = {o: sum(1 for x in r if x[1] == o) for o in ["ok", "rule", "busy", "timeout", "other"]}
                lat = [x[2] * 1000 for x in r]
                extra = ghost if kind == "webhook" else n_orders - ok_orders if kind == "order" else ""
                rows.append((sc, kind, len(r), cnt, pct(lat, 50), pct(lat, 99), extra))
                show(rows[-1:])
    finally:
        b.close()
    return rows


def _alert_id(b: Bench, i: int, tag: str) -> str:
    import hashlib
    import pandas as pd
    t = pd.Timestamp(f"{DAY}T09:15:00+05:30").tz_convert("UTC").isoformat()
    return hashlib.sha256(json.dumps(["bench", f"{tag}-{i}", "RELIANCE", "BUY", t]).encode()).hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--scenarios", default="idle,daily,ingest,desk")
    ap.add_argument("--tree", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--data", default=os.environ.get("AITRADER_DATA_DIR", "/work/shared/data/nse"))
    ap.add_argument("--pg", action="store_true", help="the stores in a throwaway PostgreSQL server (storage.pgserver)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1 needs --pg)")
    args = ap.parse_args()
    if args.workers > 1 and not args.pg:
        raise SystemExit("--workers > 1 needs --pg: DuckDB allows one writing process per file")
    if not os.path.isdir(os.path.join(args.data, "daily")):
        print(f"SKIP: no NSE data folder at {args.data} (set AITRADER_DATA_DIR)")
        return
    print(f"tree {args.tree}, {'PostgreSQL' if args.pg else 'DuckDB'}, {args.workers} worker(s), {args.rate:g} writes/s for {args.seconds:g} s "
          "per scenario, client timeout 10 s")
    print(f"{'scenario':9} {'kind':15} {'n':>4} {'ok':>4} {'rule':>4} {'busy':>4} {'t/o':>4} {'oth':>4} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'stored-after-refusal':>20}", flush=True)
    run(args)


def show(rows):
    for r in rows:
        if r[2] == "codes":
            print(f"{r[0]:9} {r[1]:15} {r[3]}", flush=True)
            continue
        sc, kind, n, c, p50, p99, g = r
        print(f"{sc:9} {kind:15} {n:4} {c['ok']:4} {c['rule']:4} {c['busy']:4} {c['timeout']:4} {c['other']:4} "
              f"{p50:8.0f} {p99:8.0f} {g!s:>20}", flush=True)


if __name__ == "__main__":
    main()
