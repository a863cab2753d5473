"""Size and time of the desk's pages with many cards (issue #24: unbounded pages).

Usage: .venv/bin/python bench/desk_pages.py [--cards 20000]   (run it with PYTHONPATH set to the tree measured)
Inserts --cards SYNTHETIC test cards (never model output) for two accounts straight into the desk's table of a
temporary AITRADER_HOME, then times GET /desk/cards (the API, admin key) and GET /ui/desk (the dashboard, signed in)
through the app's test client. Prints one table: endpoint, bytes, ms, cards in the answer.
"""
import argparse, json, os, re, tempfile, time

import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=20000)
    n = ap.parse_args().cards
    home = tempfile.mkdtemp(prefix="bench24-desk-")
    os.environ["AITRADER_HOME"] = home
    from fastapi.testclient import TestClient
    from aitrader.api import keys as K
    from aitrader.api.app import create_app
    from aitrader.core.config import get_config
    from aitrader.desk.accounts import FundingPlan, Mandate, create_account
    from aitrader.desk.audit import desk_db
    from aitrader.desk.cards import C_DDLS
    import aitrader
    cfg = get_config({"AITRADER_HOME": home})
    for a in ("a", "b"):
        create_account(cfg, a.upper(), "LUMP_SUM", Mandate(objective="MAX_PROFIT"),
                       FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6, tranches=[1.0]), "bench", account_id=a)
    now = pd.Timestamp("2024-11-22 10:00", tz="UTC").to_pydatetime()
    rows = []
    for i in range(n):
        d = pd.Timestamp("2024-11-22") - pd.Timedelta(days=i // 100)
        r = dict(card_id=f"card-{i:06d}", account_id="a" if i % 2 else "b", signal_id=f"{d.date()}:S{i}", as_of=d.date(),
                 symbol=f"S{i}", sector=None, mandate_version=1, model_version="test", rank=i % 100, score=0.5,
                 entry=100.0, qty=10, size_inr=1000.0, stop=95.0, target=110.0, trail_on=False, trail_atr=None,
                 risk_inr=50.0, reward_inr=100.0, rr=2.0, horizon=10, thesis="synthetic test card " * 5,
                 checklist=json.dumps([{"check": "test", "ok": True, "note": "synthetic"}]), warnings="[]",
                 status="PENDING" if i % 5 else "REJECTED", reason=None, expires_on=(d + pd.Timedelta(days=3)).date(),
                 bracket_id=None, pnl=None, created_at=now, decided_at=None, decided_by=None)
        rows.append(list(r.values()))
    cols = list(r)
    with desk_db(cfg, *C_DDLS) as db:
        db.con.executemany(f"INSERT INTO desk_cards ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    c = TestClient(create_app(cfg, clock=lambda: pd.Timestamp("2024-11-22 18:00", tz="Asia/Kolkata")))
    key = K.create_key("admin", "bench", cfg)
    print(f"tree {os.path.dirname(os.path.dirname(aitrader.__file__))}, {n} cards")
    print(f"{'endpoint':22} {'bytes':>12} {'ms':>8} {'cards':>7}")
    t0 = time.perf_counter()
    r = c.get("/desk/cards", headers={"X-API-Key": key})
    print(f"{'/desk/cards':22} {len(r.content):12,} {(time.perf_counter() - t0) * 1000:8.0f} {len(r.json()['cards']):7}")
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/ui/login").text).group(1)
    c.post("/ui/login", data={"key": key, "csrf": tok}, follow_redirects=False)
    t0 = time.perf_counter()
    r = c.get("/ui/desk")
    ms, shown = (time.perf_counter() - t0) * 1000, r.text.count('class="card pending"')
    print(f"{'/ui/desk':22} {len(r.content):12,} {ms:8.0f} {shown:7}")


if __name__ == "__main__":
    main()
