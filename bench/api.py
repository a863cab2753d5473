"""Latency of the signal API under a bounded load, and read consistency while a date is re-published.

Usage: .venv/bin/python bench/api.py [--rate 200] [--seconds 10] [--reruns 10]
Starts uvicorn (one process, as `aitrader serve`) on 127.0.0.1 and a free port, in a subprocess, on a temporary
AITRADER_HOME holding ~500 SYNTHETIC test signals per date (never model output), then:
1. load: GET /signals/latest?limit=50 with a pro key at --rate requests/s for --seconds (open loop: request i is
   sent at t0 + i/rate by a pool of threads); prints achieved req/s and p50/p99 latency. Target: p99 < 25 ms at 200 req/s.
2. re-runs: while reader threads read GET /signals/latest?limit=500, the admin re-runs the daily job for the latest
   date --reruns times (POST /pipeline/run-daily with a launcher that re-publishes synthetic rows, 500 and 450
   rows alternately, each a new run); every response must carry rows of one run only, as many as that run wrote.
Everything is bounded in count and time and stops by itself.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, threading, time
import httpx
from rich.console import Console
from rich.table import Table

SERVER = """
import sys, uvicorn
from aitrader.config import get_config
from aitrader.api.app import create_app, publish_synthetic
cfg = get_config({"AITRADER_HOME": sys.argv[1]})
k = {"n": 0}
def republish(cfg, job, params):   # a 're-run' of the latest date: synthetic test rows, 500 and 450 alternately
    k["n"] += 1
    n = 450 if k["n"] % 2 else 500
    return {"run_id": publish_synthetic(cfg, params.get("run_date") or "2024-11-22", n=n, seed=100 + k["n"]), "rows": n}
uvicorn.run(create_app(cfg, launcher=republish), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
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


def server_hist(base):
    "Cumulative bucket counts {le: count} of the server's latency histogram for GET /signals/latest."
    out = {}
    for l in httpx.get(base + "/metrics").text.splitlines():
        if l.startswith("aitrader_api_request_seconds_bucket") and 'route="/signals/latest"' in l and 'method="GET"' in l:
            le = l.split('le="')[1].split('"')[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(l.rsplit(" ", 1)[1])
    return out


def hist_q(h0, h1, q):
    "Upper bucket bound (s) holding quantile q of the requests between two scrapes."
    d = {k: h1.get(k, 0) - h0.get(k, 0) for k in h1}
    tot = d.get(float("inf"), 0)
    for k in sorted(d):
        if tot and d[k] >= q * tot: return k
    return float("nan")


def load(url, headers, rate, seconds, threads=16):
    "Open-loop load: request i at t0 + i/rate; returns (latencies s, errors, wall s, max lateness s)."
    n = int(rate * seconds); lat, errs, late = [], [], [0.0]
    nxt, lock = [0], threading.Lock()
    t0 = time.perf_counter() + 0.2
    def worker():
        with httpx.Client(headers=headers, timeout=5.0) as c:
            while True:
                with lock:
                    i = nxt[0]; nxt[0] += 1
                if i >= n or time.perf_counter() - t0 > seconds * 3: return
                due = t0 + i / rate
                d = due - time.perf_counter()
                if d > 0: time.sleep(d)
                else: late[0] = max(late[0], -d)
                s = time.perf_counter()
                try:
                    r = c.get(url)
                    dt = time.perf_counter() - s
                    if r.status_code == 200: lat.append(dt)
                    else: errs.append(r.status_code)
                except httpx.HTTPError as e: errs.append(type(e).__name__)
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()
    return lat, errs, time.perf_counter() - t0, late[0]


def main(rate=200, seconds=10.0, reruns=10) -> int:
    from aitrader.config import get_config
    from aitrader.api.app import publish_synthetic
    from aitrader.api.keys import create_key
    rows = []
    with tempfile.TemporaryDirectory() as home:
        cfg = get_config({"AITRADER_HOME": home})
        for d, seed in [("2024-11-21", 1), ("2024-11-22", 2)]: publish_synthetic(cfg, d, n=500, seed=seed)
        pro = {"X-API-Key": create_key("pro", "bench", cfg)}
        admin = {"X-API-Key": create_key("admin", "bench", cfg)}
        port = free_port(); base = f"http://127.0.0.1:{port}"
        srv = subprocess.Popen([sys.executable, "-c", SERVER, home, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200: break
                except httpx.HTTPError: pass
                time.sleep(0.1)
            else: raise RuntimeError("server did not start: " + (srv.stderr.read() if srv.poll() is not None else ""))
            url = base + "/signals/latest?limit=50"
            for _ in range(50): httpx.get(url, headers=pro)                      # warm up (snapshot, key cache)
            c0 = cpu_s(srv.pid)
            h0 = server_hist(base)
            la0 = os.getloadavg()[0]
            lat, errs, wall, late = load(url, pro, rate, seconds)
            h1 = server_hist(base)
            cpu_ms = (cpu_s(srv.pid) - c0) / max(1, len(lat) + len(errs)) * 1e3
            sp50, sp99 = hist_q(h0, h1, 0.5), hist_q(h0, h1, 0.99)
            p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
            rows.append(("load: GET /signals/latest?limit=50 (pro)", f"{len(lat) / wall:.0f} req/s", f"{p50:.1f}",
                         f"{p99:.1f}", "< 25" , "yes" if p99 < 25 and not errs else "NO",
                         f"{len(lat)} ok, {len(errs)} errors, target {rate} req/s for {seconds:g} s; in-server (histogram) p50 <= {sp50 * 1e3:g} ms, "
                         f"p99 <= {sp99 * 1e3:g} ms; server CPU {cpu_ms:.2f} ms/request; max client lateness {late * 1e3:.0f} ms; load average {la0:.1f} before"))
            # re-runs of the latest date while readers read
            stop, seen, bad, rlat, rerr = threading.Event(), {}, [], [], []
            sizes = {}
            def reader():
                with httpx.Client(headers=pro, timeout=5.0) as c:
                    while not stop.is_set():
                        s = time.perf_counter(); r = c.get(base + "/signals/latest?limit=500"); dt = time.perf_counter() - s
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
            with httpx.Client(headers=admin, timeout=10.0) as c:
                for i in range(reruns):
                    r = c.post(base + "/pipeline/run-daily", json={"run_date": "2024-11-22"})
                    if r.status_code != 202: bad.append(("launch", r.status_code)); continue
                    lid = r.json()["id"]
                    while time.perf_counter() < t_end:
                        run = c.get(base + f"/pipeline/runs/{lid}").json()
                        if run["status"] != "running": break
                        time.sleep(0.05)
                    if run["status"] != "success": bad.append(("run", run.get("error")))
                    else: sizes[run["result"]["run_id"]] = run["result"]["rows"]
            time.sleep(0.3); stop.set()
            for t in ths: t.join()
            wrong_size = sum(n for (rids, cnt), n in seen.items() if rids and rids[0] in sizes and sizes[rids[0]] != cnt)
            mixed = sum(1 for b in bad if b[0] == "mixed")
            reads = sum(seen.values())
            rows.append((f"reads during {reruns} re-runs of 2024-11-22 (limit=500)", f"{reads} reads",
                         f"{pct(rlat, 50) * 1e3:.1f}", f"{pct(rlat, 99) * 1e3:.1f}", "", "yes" if not mixed and not wrong_size and not bad else "NO",
                         f"{len({k[0] for k in seen})} distinct runs seen, {mixed} mixed responses, {wrong_size} with another run's size, "
                         f"{len(rerr)} non-200, launch problems: {[b for b in bad if b[0] != 'mixed'][:3]}"))
        finally:
            srv.terminate()
            try: srv.wait(10)
            except subprocess.TimeoutExpired: srv.kill()
    tab = Table(title=f"bench/api.py (uvicorn, 1 process; {os.cpu_count()} CPUs)")
    for c in ["step", "throughput", "p50 ms", "p99 ms", "target ms", "ok", "detail"]: tab.add_column(c)
    for r in rows: tab.add_row(*r)
    Console(width=200).print(tab)
    return 0 if all(r[5] == "yes" for r in rows) else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200, help="requests per second")
    ap.add_argument("--seconds", type=float, default=10, help="duration of the load")
    ap.add_argument("--reruns", type=int, default=10, help="re-runs of the latest date during the consistency check")
    a = ap.parse_args()
    sys.exit(main(a.rate, a.seconds, a.reruns))
