"""The dashboard's track record and desk pages on both store backends (TestClient; the browser test drives them on
DuckDB). Bars are the real NSE daily files of RELIANCE and TCS cut after 2024-11-21; signals are SYNTHETIC test rows on
those symbols at their real closes (earlier dates, followed by the tracker) or at REAL's entries (2024-11-21, with the
horizon returns and the ATR14 of the real bars that the desk's allocator needs)."""
import json, re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.api.session import COOKIE, csrf_token
from aitrader.core.config import get_config
from aitrader.core.calendar import IST
from aitrader.data.window import read_window
from aitrader.signals.store import SignalStore
from aitrader.testing import ingest_real, publish_synthetic, synthetic_signals, with_real

pytestmark = pytest.mark.usefixtures("backend")   # every test on DuckDB and on PostgreSQL
EVENING = pd.Timestamp("2024-11-21 18:00", tz=IST)
REAL = [("RELIANCE", "BUY", 1230.0), ("TCS", "BUY", 4100.0)]


@pytest.fixture()
def site(tmp_path, data_dir):
    from aitrader.desk.accounts import FundingPlan, Mandate, create_account
    from aitrader.desk.funding import apply_funding
    from aitrader.desk.cards import make_cards
    from aitrader.track.live import track_live
    cfg = get_config({"AITRADER_HOME": str(tmp_path), "AITRADER_DATA_DIR": str(data_dir)})
    ingest_real(cfg, data_dir, ["RELIANCE", "TCS"], last="2024-11-21")
    for d, seed in [("2024-10-01", 3), ("2024-10-15", 4)]:
        px = read_window(cfg, ["RELIANCE", "TCS"], pd.Timestamp(d) - pd.Timedelta(days=10), pd.Timestamp(d)).groupby("symbol").close.last()
        publish_synthetic(cfg, d, n=3, seed=seed, real=[(s, "BUY", float(px[s])) for s in ("RELIANCE", "TCS")])
    b = read_window(cfg, ["RELIANCE", "TCS"], pd.Timestamp("2024-10-10"), pd.Timestamp("2024-11-21"))
    rows = with_real(synthetic_signals("2024-11-21", 4, 2), REAL)
    for s, g in b.groupby("symbol"):
        tr = pd.concat([g.high - g.low, (g.high - g.close.shift()).abs(), (g.low - g.close.shift()).abs()], axis=1).max(axis=1)
        rows.loc[rows.symbol == s, ["exp_ret_3d", "exp_ret_5d", "exp_ret_10d", "atr14", "vol_10d"]] = [0.006, 0.01, 0.015, float(tr.tail(14).mean()), 0.02]
    st = SignalStore(cfg)
    with st.run("daily", "2024-11-21") as rid: st.publish_signals(rid, "2024-11-21", rows, drop_events=True)
    track_live(cfg, through="2024-11-21")
    create_account(cfg, "Growth", "LUMP_SUM", Mandate(objective="MAX_PROFIT"),
                   FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6, tranches=[1.0]), "tester", account_id="growth")
    apply_funding(cfg, "growth", "2024-10-01")
    assert len(make_cards(cfg, "2024-11-21")) == 2
    keys = {t: K.create_key(t, f"pages {t}", cfg) for t in K.TIERS}
    def client(tier):
        c = TestClient(create_app(cfg, clock=lambda: EVENING), base_url="https://testserver")
        tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/ui/login").text).group(1)
        assert c.post("/ui/login", data={"key": keys[tier], "csrf": tok}, follow_redirects=False).status_code == 303
        return c
    return cfg, client, keys


def test_track_page_by_tier_and_signal_outcome(site):
    cfg, client, keys = site
    b, p, a = client("basic"), client("pro"), client("admin")
    rb, rp, ra = (c.get("/ui/track").text for c in (b, p, a))
    assert "<th>regime</th>" not in rb and "<th>regime</th>" in rp and "hit rate [95% CI]" in rp
    assert 'id="equity-data"' not in rp
    pts = json.loads(re.search(r'<script type="application/json" id="equity-data">(.*?)</script>', ra, re.S).group(1))
    from aitrader.track.record import equity, load_outcomes
    eq = equity(load_outcomes(cfg))
    assert len(pts) == len(eq) > 0 and pts[-1]["value"] == pytest.approx(float(eq.equity.iat[-1]), abs=0.01)
    page = a.get("/ui/signals/2024-10-01:RELIANCE").text
    out = page.split('id="outcome"')[1].split("</div>")[0]
    assert "Not known yet" not in out and "CLOSED_" in out and "net_return" in out


def test_desk_queue_approve_and_reject(site):
    cfg, client, keys = site
    from aitrader.desk.audit import audit_log
    from aitrader.desk.cards import cards
    assert client("pro").get("/ui/desk").status_code == 403
    a = client("admin")
    page = a.get("/ui/desk").text
    ids = re.findall(r'class="card pending" id="(card-[0-9a-f]{10})"', page)
    assert len(ids) == 2 and page.count('class="checklist"') == 2
    tok = csrf_token(a.cookies.get(COOKIE))                                            # the session's form token
    assert a.post(f"/ui/desk/cards/{ids[0]}/approve", data={}).status_code == 403                        # no CSRF token
    r = a.post(f"/ui/desk/cards/{ids[0]}/approve", data={"csrf": tok})
    assert r.status_code == 200 and "Approved" in r.text and "APPROVED" in r.text
    r = a.post(f"/ui/desk/cards/{ids[1]}/reject", data={"csrf": tok, "reason": "test: not today"})
    assert "Rejected" in r.text
    r = a.post(f"/ui/desk/cards/{ids[0]}/approve", data={"csrf": tok})
    assert "Refused (not_pending)" in r.text
    got = cards(cfg).set_index("card_id")
    assert got.status[ids[0]] == "APPROVED" and got.bracket_id[ids[0]] and got.status[ids[1]] == "REJECTED"
    who = audit_log(cfg, kind="approval").actor.iat[-1]
    assert who == f"key:{K.parse_key(keys['admin'])[0]}:pages admin"                                    # the signed-in person


def test_desk_page_shows_the_judge(site, monkeypatch):
    cfg, client, keys = site
    from aitrader.desk.cards import cards
    monkeypatch.delenv("AITRADER_LLM_URL", raising=False)
    a = client("admin")
    ids = re.findall(r'class="card pending" id="(card-[0-9a-f]{10})"', a.get("/ui/desk").text)
    assert 'class="judge"' not in a.get("/ui/desk").text
    assert a.post(f"/ui/desk/cards/{ids[0]}/judge", data={}).status_code == 403                          # no CSRF token
    before = cards(cfg).set_index("card_id").loc[ids[0], ["qty", "entry", "stop", "target", "status"]].to_dict()
    r = a.post(f"/ui/desk/cards/{ids[0]}/judge", data={"csrf": csrf_token(a.cookies.get(COOKIE))})  # the session token
    assert r.status_code == 200 and "Judged" in r.text
    box = r.text.split(f'id="judge-{ids[0]}"')[1].split("</div>")[0]
    assert "TEMPLATE (no LLM)" in box and "evidence: symbol = " in box and f'id="judge-{ids[1]}"' not in r.text
    assert cards(cfg).set_index("card_id").loc[ids[0], ["qty", "entry", "stop", "target", "status"]].to_dict() == before


def test_desk_api_refuses_bad_input_and_approves_a_card_once_under_concurrency(site):
    "The desk API: unauthorised 401/403, malformed 422, unknown 404, oversized 413; four simultaneous approvals of one card open one bracket."
    import threading
    from aitrader.desk.cards import cards
    from aitrader.exits.bracket_store import brackets
    cfg, _, keys = site
    c = TestClient(create_app(cfg, clock=lambda: EVENING))
    A = {"X-API-Key": keys["admin"]}
    cid = cards(cfg, status="PENDING").card_id.iat[0]
    assert c.post(f"/desk/cards/{cid}/approve", json={}).status_code == 401                                   # no key
    assert c.post(f"/desk/cards/{cid}/approve", json={}, headers={"X-API-Key": keys["elite"]}).status_code == 403
    assert c.post("/desk/cards/not-a-card/approve", json={}, headers=A).status_code == 422                    # malformed id
    assert c.post(f"/desk/cards/{cid}/approve", json={"day": "2024-13-45"}, headers=A).status_code == 422       # not a date
    assert c.post(f"/desk/cards/{cid}/approve", json={"entry_type": 1.5}, headers=A).status_code == 422         # wrong type
    assert c.post(f"/desk/cards/{cid}/approve", content=b'{"day": NaN}', headers={**A, "Content-Type": "application/json"}).status_code == 422
    assert c.post(f"/desk/cards/{cid}/reject", json={"reason": "x" * 501}, headers=A).status_code == 422        # reason too long
    assert c.post(f"/desk/cards/{cid}/approve", content=b"{" + b" " * (70 * 2**10) + b"}",
                  headers={**A, "Content-Type": "application/json"}).status_code == 413                        # oversized body
    assert c.post("/desk/cards/card-0000000000/approve", json={}, headers=A).status_code == 404
    codes, lock = [], threading.Lock()
    def go():
        r = c.post(f"/desk/cards/{cid}/approve", json={"day": "2024-11-21"}, headers=A)   # the session of the card
        with lock: codes.append(r.status_code)
    ts = [threading.Thread(target=go) for _ in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert sorted(codes) == [200, 409, 409, 409], codes                                                      # approved once
    got = cards(cfg).set_index("card_id")
    assert got.status[cid] == "APPROVED"
    assert (brackets(cfg).bracket_id == got.bracket_id[cid]).sum() == 1 and len(brackets(cfg)) == 1           # one bracket


def test_performance_page(site):
    cfg, client, keys = site
    b, a = client("basic"), client("admin")
    rb, ra = b.get("/ui/performance"), a.get("/ui/performance")
    assert rb.status_code == ra.status_code == 200
    assert "No champion model is registered" in ra.text and "hit rate [95% CI]" in ra.text
    assert 'id="perf-data"' not in rb.text and "By market regime" not in rb.text       # basic: the overall record only
    data = json.loads(re.search(r'<script type="application/json" id="perf-data">(.*?)</script>', ra.text, re.S).group(1))
    s = {x["key"]: x for x in data["series"]}
    from aitrader.track.record import equity, load_outcomes
    o = load_outcomes(cfg)
    assert len(s["track"]["points"]) == len(equity(o))                                   # BUYs only
    from aitrader.track.performance import direction_stability
    st = direction_stability(o)
    assert f"{st['flips']} of {st['signals']} signal(s)" in ra.text                       # direction stability line
    assert s["buy_hold"]["points"][0]["value"] == pytest.approx(1e6) and s["buy_hold"]["points"][0]["time"] == "2024-10-01"
    r = a.get("/ui/signals/2024-11-21:NOSUCH", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and 'id="error"' in r.text
    assert a.get("/ui/signals/2024-11-21:NOSUCH").headers["content-type"].startswith("application/json")  # no browser: JSON
