"""`aitrader serve --workers 2` on PostgreSQL: a revoked key and the kill switch take effect on every worker at once.

Two uvicorn worker processes share the listening socket; every request below opens a new connection, so the kernel
spreads them over both workers (the test checks that both answered). Signals are SYNTHETIC test data.
"""
import os, socket, subprocess, sys, time

import httpx
import pytest

from aitrader.api.keys import create_key, parse_key
from aitrader.core.config import get_config
from aitrader.testing import publish_synthetic


def _port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


@pytest.fixture()
def two_workers(tmp_path, pg_server, monkeypatch):
    url = pg_server.create_db()
    monkeypatch.setenv("AITRADER_DB_URL", url)
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    for d, seed in [("2024-11-20", 1), ("2024-11-21", 2)]: publish_synthetic(cfg, d, n=8, seed=seed)
    keys = {t: create_key(t, f"w {t}", cfg) for t in ("pro", "elite", "admin")}
    port = _port()
    env = {**os.environ, "AITRADER_HOME": str(tmp_path), "AITRADER_DB_URL": url, "AITRADER_DB_POOL": "4"}
    p = subprocess.Popen([sys.executable, "-c", "from aitrader.cli.main import app; app()", "serve", "--workers", "2", "--port", str(port)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    t_end = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200: break
        except httpx.HTTPError: pass
        if p.poll() is not None or time.monotonic() > t_end:
            p.kill(); raise AssertionError(f"server did not start: {p.stdout.read()[-2000:]}")
        time.sleep(0.3)
    yield base, keys, cfg
    p.terminate()
    try: p.wait(20)
    except subprocess.TimeoutExpired: p.kill()
    pg_server.drop_db(url)


def _fresh(method, url, **kw):
    "One request on a new connection (so the kernel picks a worker)."
    with httpx.Client(timeout=10) as c: return c.request(method, url, **kw)


def test_revoke_and_kill_reach_every_worker(two_workers):
    base, keys, cfg = two_workers
    pids = set()
    for _ in range(200):
        pids.add(_fresh("GET", f"{base}/ui/ping").json()["pid"])
        if len(pids) == 2: break
    assert len(pids) == 2, "one worker answered every request"
    pro = {"X-API-Key": keys["pro"]}
    assert all(_fresh("GET", f"{base}/signals/latest", headers=pro).status_code == 200 for _ in range(30))   # both rings loaded
    adm, eli = {"X-API-Key": keys["admin"]}, {"X-API-Key": keys["elite"]}
    r = _fresh("POST", f"{base}/admin/keys/{parse_key(keys['pro'])[0]}/revoke", headers=adm)
    assert r.status_code == 200, r.text
    codes = [_fresh("GET", f"{base}/signals/latest", headers=pro).status_code for _ in range(30)]
    assert set(codes) == {401}, codes
    body = {"signal_id": "2024-11-21:TEST000", "qty": 1}
    before = {_fresh("POST", f"{base}/elite/trade/execute", json=body, headers=eli).status_code for _ in range(10)}
    assert 423 not in before
    assert _fresh("POST", f"{base}/kill", json={"reason": "two workers"}, headers=adm).json()["engaged"]
    after = [_fresh("POST", f"{base}/elite/trade/execute", json=body, headers=eli).status_code for _ in range(30)]
    assert set(after) == {423}, after
