"""#24: the desk's lists are paged. 5,000 SYNTHETIC cards (test rows, not model output) inserted straight into the
desk's table; `/desk/cards` answers at most `limit` (default 100, maximum 1,000) with a cursor that walks every card
once, and `/ui/desk` shows one page of 100 pending cards with a link to the next, in a bounded size."""
import json
import re
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.core.config import get_config
from aitrader.desk.cards import CARD_COLS, C_DDLS, cards, count_cards
from aitrader.desk.audit import desk_db

N = 5000


@pytest.fixture()
def many(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path))
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    from aitrader.desk.accounts import FundingPlan, Mandate, create_account
    for a in ("a", "b"):
        create_account(cfg, a.upper(), "LUMP_SUM", Mandate(objective="MAX_PROFIT"),
                       FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6, tranches=[1.0]), "tester", account_id=a)
    now = pd.Timestamp("2024-11-22 10:00", tz="UTC").to_pydatetime()
    rows = []
    for i in range(N):
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
    return cfg, c, {"X-API-Key": K.create_key("admin", "test admin", cfg)}


def test_cards_paged_and_cursor_walks_all(many):
    cfg, c, H = many
    n_pend = count_cards(cfg, "PENDING")
    assert n_pend == N - N // 5
    r = c.get("/desk/cards", headers=H).json()
    assert len(r["cards"]) == 100 and r["total"] == n_pend and r["next_cursor"]
    assert c.get("/desk/cards?limit=1001", headers=H).status_code == 422
    assert c.get("/desk/cards?cursor=abc", headers=H).status_code == 422
    seen, cur, pages = [], None, 0
    while True:
        q = "/desk/cards?limit=1000" + (f"&cursor={cur}" if cur else "")
        r = c.get(q, headers=H).json()
        seen += [x["card_id"] for x in r["cards"]]
        pages += 1
        cur = r["next_cursor"]
        if cur is None:
            break
    assert pages == 4 and len(seen) == n_pend and len(set(seen)) == n_pend
    assert list(cards(cfg, "PENDING", limit=3).card_id) == seen[:3]


def test_cards_walk_once_while_cards_are_added_and_decided(many):
    "Between pages, newer cards are added and cards of the first page are decided: the walk still sees each once."
    cfg, c, H = many
    before = set(cards(cfg, "PENDING").card_id)
    with desk_db(cfg, *C_DDLS) as db:
        names = list(CARD_COLS) + [x for x in ("created_at", "decided_at", "decided_by") if x not in CARD_COLS]
        cols = ", ".join(names)
        tpl = db.all(f"SELECT {cols} FROM desk_cards WHERE card_id = 'card-000001'")[0]
    seen, cur, i = [], None, 0
    while True:
        r = c.get("/desk/cards?limit=700" + (f"&cursor={cur}" if cur else ""), headers=H).json()
        seen += [x["card_id"] for x in r["cards"]]
        cur, i = r["next_cursor"], i + 1
        if cur is None:
            break
        with desk_db(cfg, *C_DDLS) as db:   # a newer session's cards arrive; two cards already seen get decided
            new = [(f"card-new{i}{k:03d}", pd.Timestamp("2024-11-25").date()) for k in range(5)]
            for cid, d in new:
                row = dict(zip(names, tpl), card_id=cid, as_of=d, signal_id=f"2024-11-25:{cid}")
                db.con.execute(f"INSERT INTO desk_cards ({cols}) VALUES ({', '.join('?' * len(names))})",
                               list(row.values()))
            db.con.execute("UPDATE desk_cards SET status = 'REJECTED' WHERE card_id IN (?, ?)", seen[:2])
    assert len(seen) == len(set(seen)) == len(before) and set(seen) == before
    assert c.get("/desk/cards?cursor=WyJ4Il0", headers=H).status_code == 422


def test_ui_desk_one_page(many):
    cfg, c, H = many
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/ui/login").text).group(1)
    assert c.post("/ui/login", data={"key": H["X-API-Key"], "csrf": tok}, follow_redirects=False).status_code == 303
    t0 = time.perf_counter()
    r = c.get("/ui/desk")
    dt = time.perf_counter() - t0
    assert r.status_code == 200, r.text[:300]
    assert r.text.count('class="card pending"') == 100 and 'id="next-page"' in r.text
    print(f"/ui/desk with {N} cards: {len(r.content) / 1e3:.0f} kB in {dt * 1000:.0f} ms")
    assert len(r.content) < 400_000
    r2 = c.get("/ui/desk?page=39")
    assert r2.text.count('class="card pending"') == 100 and 'id="next-page"' not in r2.text
