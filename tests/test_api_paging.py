"""#24 paging on every list endpoint: `limit` (default 100, at most 1,000; outside 1..1000 is 422), an opaque `cursor`
(malformed: 422) and `next_cursor`; a cursor walk returns every row that existed when it began exactly once, with no
duplicate, while rows are inserted between pages. All rows are SYNTHETIC test rows (runs, orders, alerts written
straight into their tables; signals on TEST symbols), never model output."""
import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.core.config import get_config
from aitrader.signals.store import SignalStore
from aitrader.storage.apistore import ApiStore
from aitrader.testing import publish_synthetic

T0 = pd.Timestamp("2024-11-22 10:00", tz="UTC")
pytestmark = pytest.mark.usefixtures("backend")   # every test on DuckDB and on PostgreSQL


@pytest.fixture()
def site(tmp_path):
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    keys = {t: K.create_key(t, f"paging {t}", cfg) for t in K.TIERS}
    c = TestClient(create_app(cfg))
    return cfg, c, {t: {"X-API-Key": k} for t, k in keys.items()}, keys


def _walk(c, url, H, field, limit, between=None):
    "Every id of a cursor walk; `between(i)` runs after page i (inserts rows)."
    seen, cur, i = [], None, 0
    while True:
        sep = "&" if "?" in url else "?"
        r = c.get(f"{url}{sep}limit={limit}" + (f"&cursor={cur}" if cur else ""), headers=H)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        assert len(body[field[0]]) <= limit
        seen += [x[field[1]] for x in body[field[0]]]
        cur, i = body["next_cursor"], i + 1
        if cur is None:
            return seen, i
        if between:
            between(i)


def _bad_paging(c, url, H):
    for q in ("limit=0", "limit=1001", "limit=-5", "limit=abc", "cursor=not-a-cursor", "cursor=%5B1%5D", "cursor=e30"):
        r = c.get(f"{url}{'&' if '?' in url else '?'}{q}", headers=H)
        assert r.status_code == 422, (url, q, r.status_code, r.text[:200])
        assert "limit" in r.text or "malformed cursor" in r.text, r.text


def _runs(cfg, n, start=0, at=T0):
    st = SignalStore(cfg)
    rows = [(f"synthetic-{start + i:06d}", "daily", "success", at + pd.Timedelta(seconds=start + i)) for i in range(n)]
    with st.transaction() as con:
        con.executemany(
            "INSERT INTO runs (run_id, job, status, started_at, counts, errors) VALUES (?, ?, ?, ?, '{}', '{}')", rows
        )
    return [r[0] for r in rows]


def test_runs_paged(site):
    cfg, c, H, _ = site
    old = _runs(cfg, 2500)
    r = c.get("/pipeline/runs", headers=H["admin"]).json()
    assert len(r["runs"]) == 100 and r["total"] == 2500 and r["next_cursor"]          # default 100
    assert r["runs"][0]["run_id"] == old[-1]                                           # newest first
    assert len(c.get("/pipeline/runs?limit=1000", headers=H["admin"]).json()["runs"]) == 1000  # the maximum
    _bad_paging(c, "/pipeline/runs", H["admin"])
    k = iter(range(10))
    seen, pages = _walk(c, "/pipeline/runs", H["admin"], ("runs", "run_id"), 1000,
                        between=lambda i: _runs(cfg, 7, 10_000 + 10 * next(k)))  # newer runs between pages
    assert pages == 3 and len(seen) == len(set(seen)) == 2500 and set(seen) == set(old)
    assert c.get("/pipeline/runs?job=daily&status=failed", headers=H["admin"]).json()["total"] == 0
    assert c.get("/pipeline/runs", headers=H["elite"]).status_code == 403


def _orders(cfg, key, n, start=1):
    kid = K.parse_key(key)[0]
    rows = []
    for oid in range(start, start + n):
        resp = dict(order_id=oid, status="PENDING", signal_id=f"2024-11-22:TEST{oid:04d}", symbol=f"TEST{oid:04d}",
                    side="BUY", qty=1, order_type="market", limit_price=None, signal_as_of="2024-11-22")
        rows.append((oid, kid, f"idem-{oid}", "h", resp["signal_id"], resp["symbol"], 1, "market", None,
                     "2024-11-22", "PENDING", T0, json.dumps(resp)))
    with ApiStore(cfg) as db:
        db.con.executemany(
            "INSERT INTO orders (order_id, key_id, idempotency_key, request_hash, signal_id, symbol, side, qty, "
            "order_type, limit_price, signal_as_of, status, created_at, response) "
            "VALUES (?, ?, ?, ?, ?, ?, 'BUY', ?, ?, ?, CAST(? AS DATE), ?, ?, ?)", rows)
    return list(range(start, start + n))


def test_orders_paged_per_key(site):
    cfg, c, H, keys = site
    mine = _orders(cfg, keys["elite"], 1200)
    _orders(cfg, keys["admin"], 30, start=5000)                                       # another key's orders
    r = c.get("/elite/orders", headers=H["elite"]).json()
    assert len(r["orders"]) == 100 and r["total"] == 1200 and r["orders"][0]["order_id"] == 1200
    _bad_paging(c, "/elite/orders", H["elite"])
    nxt = iter(range(6000, 7000, 10))
    seen, pages = _walk(c, "/elite/orders", H["elite"], ("orders", "order_id"), 1000,
                        between=lambda i: _orders(cfg, keys["elite"], 5, start=next(nxt)))
    assert pages == 2 and len(seen) == len(set(seen)) == 1200 and set(seen) == set(mine)
    assert c.get("/elite/orders?status=FILLED", headers=H["elite"]).json()["total"] == 0
    assert c.get("/elite/orders", headers=H["pro"]).status_code == 403


def _alerts(cfg, n, start=0, late=0):
    from aitrader.track.external import EXT_COLS
    rows = []
    for i in range(start, start + n):
        r = dict(id=f"synthetic-{i:06d}", source="test", strategy="s", ticker=f"NSE:TEST{i % 50}",
                 symbol=f"TEST{i % 50}", direction="BUY", price=100.0, bar_time=T0, as_of=T0.date(), interval="1D",
                 received_at=T0 + pd.Timedelta(seconds=late + i % 300), last_close=100.0, atr14=2.0, support=95.0,
                 resistance=110.0, entry=100.0, stop_loss=96.0, take_profit=108.0, payload="{}")
        rows.append([r[k] for k in EXT_COLS])
    with ApiStore(cfg, schemas=("external",)) as db:
        marks = ", ".join("?" * len(EXT_COLS))
        db.con.executemany(f"INSERT INTO external_signals ({', '.join(EXT_COLS)}) VALUES ({marks})", rows)
    return [r[0] for r in rows]


def test_alerts_paged_with_equal_times(site):
    cfg, c, H, _ = site
    old = _alerts(cfg, 1500)                                   # 300 distinct received_at: ties broken by id
    r = c.get("/alerts", headers=H["admin"]).json()
    assert len(r["alerts"]) == 100 and r["total"] == 1500 and "payload" not in r["alerts"][0]
    _bad_paging(c, "/alerts", H["admin"])
    nxt = iter(range(20_000, 30_000, 100))
    seen, pages = _walk(c, "/alerts", H["admin"], ("alerts", "id"), 700,
                        between=lambda i: _alerts(cfg, 3, start=next(nxt), late=3600))  # received now
    assert pages == 3 and len(seen) == len(set(seen)) == 1500 and set(seen) == set(old)
    assert c.get("/alerts?symbol=TEST7", headers=H["admin"]).json()["total"] == 30


def test_signals_paged_and_a_walk_keeps_its_date(site):
    cfg, c, H, _ = site
    publish_synthetic(cfg, "2024-11-20", n=50, seed=1)
    publish_synthetic(cfg, "2024-11-21", n=1300, seed=2)
    r = c.get("/signals/latest", headers=H["elite"]).json()
    assert (r["as_of"], len(r["signals"]), r["count"], r["total"]) == ("2024-11-21", 100, 100, 1300)
    assert r["next_cursor"]
    assert len(c.get("/signals/latest?limit=1000", headers=H["elite"]).json()["signals"]) == 1000
    _bad_paging(c, "/signals/latest", H["elite"])
    days = iter(["2024-11-22", "2024-11-25"])
    seen, pages = _walk(c, "/signals/latest", H["elite"], ("signals", "id"), 500,
                        between=lambda i: publish_synthetic(cfg, next(days), n=40, seed=3))  # new dates published
    assert pages == 3 and len(seen) == len(set(seen)) == 1300 and all(s.startswith("2024-11-21:") for s in seen)
    confs = [SignalStore(cfg).get_signal(s)["confidence"] for s in seen[:50]]
    assert confs == sorted(confs, reverse=True)                                       # most confident first
    # basic sees the date before the latest; a crafted cursor cannot reach the latest date
    b = c.get("/signals/latest?limit=1", headers=H["basic"]).json()
    assert b["as_of"] == "2024-11-22"
    e = c.get("/signals/latest?limit=1", headers=H["elite"]).json()
    assert e["as_of"] == "2024-11-25"
    assert c.get(f"/signals/latest?cursor={e['next_cursor']}", headers=H["basic"]).status_code == 422
    assert c.get(f"/signals/latest?cursor={e['next_cursor']}", headers=H["elite"]).status_code == 200


def _ui_walk(c, url, row_re):
    "Rows of every page of a dashboard list, following its `next-page` links."
    import html
    import re
    seen, pages = [], 0
    while url:
        r = c.get(url)
        assert r.status_code == 200, r.text[:300]
        seen += re.findall(row_re, r.text)
        pages += 1
        m = re.search(r'id="next-page" href="([^"]+)"', r.text)
        url = html.unescape(m.group(1)) if m else None
    return seen, pages


def test_dashboard_lists_paged(site):
    from aitrader.api.session import sign_in
    cfg, _, H, keys = site
    publish_synthetic(cfg, "2024-11-21", n=1300, seed=2)
    _runs(cfg, 250)
    _orders(cfg, keys["admin"], 230)
    c = TestClient(create_app(cfg), base_url="https://testserver")
    sign_in(c, keys["admin"])
    first = c.get("/ui/signals").text
    assert first.count('<a href="/ui/signals/2024-11-21:') == 100 and 'id="next-page"' in first   # default 100
    seen, pages = _ui_walk(c, "/ui/signals?limit=1000", r'<a href="/ui/signals/(2024-11-21:TEST\d+)"')
    assert pages == 2 and len(seen) == len(set(seen)) == 1300
    seen, pages = _ui_walk(c, "/ui/signals?direction=BUY&limit=200", r'<a href="/ui/signals/(2024-11-21:TEST\d+)"')
    assert len(seen) == len(set(seen)) == SignalStore(cfg).latest_signals(5000, direction="BUY").shape[0]
    seen, pages = _ui_walk(c, "/ui/runs", r"<td>(synthetic-\d+)</td>")
    assert pages == 3 and len(seen) == len(set(seen)) == 250
    seen, pages = _ui_walk(c, "/ui/elite", r"<tr><td>(\d+)</td><td>2024-11-22:TEST")
    assert pages == 3 and len(seen) == len(set(seen)) == 230
    for u in ("/ui/signals", "/ui/runs", "/ui/elite"):
        assert c.get(f"{u}?limit=1001").status_code == 422 and c.get(f"{u}?cursor=%21%21").status_code == 422
