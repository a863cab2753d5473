"""The trading desk (issue #16) on real NSE bars: audit tampering named by `aitrader audit verify`, a daily-loss kill
switch that pauses one account while the other trades, a mandate's banned sector and earnings blackout, and no
unattended execution path. Signals are TEST rows on real symbols (entry = the real close, ATR from the real bars,
expected returns set by the test): the champion model is not needed."""
import json, re
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner
from aitrader.core.config import get_config, project_root
from aitrader.testing import ingest_real

SYMS = ["POWERGRID", "INDUSINDBK", "HINDUNILVR", "APOLLOHOSP", "TCS", "COALINDIA"]
FIX = project_root() / "tests" / "fixtures"


def publish_test_signals(cfg, day, symbols):
    "BUY rows for `symbols` on `day`: entry = the real close, ATR14 from the real bars; labelled TEST."
    from aitrader.data.window import read_window
    from aitrader.signals.store import SignalStore
    d = pd.Timestamp(day)
    b = read_window(cfg, symbols, d - pd.Timedelta(days=40), d)
    rows = []
    for s, g in b.groupby("symbol"):
        tr = pd.concat([g.high - g.low, (g.high - g.close.shift()).abs(), (g.low - g.close.shift()).abs()], axis=1).max(axis=1)
        e, atr = float(g.close.iat[-1]), float(tr.tail(14).mean())
        rows.append(dict(symbol=s, direction="BUY", confidence=0.8, exp_ret_3d=0.006, exp_ret_5d=0.01, exp_ret_10d=0.015, p_fail=0.3,
                         entry=e, stop_loss=e - 1.5 * atr, take_profit=e + 3 * atr, risk_reward=2.0, atr14=atr, vol_10d=0.02,
                         tf_align=[1, 0, 0, 0, 0], smc_flags={}, reasons=[f"BUY: TEST row for {s}", "top attributions: TEST +0.01"],
                         model_version="TEST", feature_schema_hash="TEST", kronos_status="disabled"))
    st = SignalStore(cfg)
    with st.run("daily", d.date()) as rid: st.publish_signals(rid, d.date(), pd.DataFrame(rows), drop_events=True)


@pytest.fixture()
def desk(home, data_dir, backend):
    "Two funded accounts (a, b) and the fixture events, on DuckDB and on PostgreSQL."
    from aitrader.desk.accounts import FundingPlan, Mandate, create_account
    from aitrader.desk.funding import apply_funding
    from aitrader.desk.events import ingest_events
    cfg = get_config()
    ingest_real(cfg, data_dir, SYMS)
    plan = lambda: FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6, tranches=[1.0])
    create_account(cfg, "A", "LUMP_SUM", Mandate(objective="MAX_PROFIT", max_daily_loss_pct=0.02), plan(), "tester", account_id="a")
    create_account(cfg, "B", "LUMP_SUM", Mandate(objective="RISK_MINIMIZED", max_daily_loss_pct=0.02), plan(), "tester", account_id="b")
    for a in ("a", "b"): apply_funding(cfg, a, "2024-10-01")
    ingest_events(cfg, [FIX / "events_2024_10.csv", FIX / "events_2024_10.json"])
    if backend == "postgres":                                         # the desk tables live in the server, not in a file
        from aitrader.storage.apistore import api_db_path
        assert not api_db_path(cfg).exists()
    return cfg


def test_audit_tamper_named(desk):
    from aitrader.cli.main import app
    from aitrader.desk.audit import AUDIT_DDL, desk_db
    r = CliRunner().invoke(app, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output, r.output
    with desk_db(desk, AUDIT_DDL) as db:
        p = json.loads(db.one("SELECT payload FROM desk_audit WHERE seq = 2")[0])
        p["name"] = "B (edited)"
        db.con.execute("UPDATE desk_audit SET payload = ? WHERE seq = 2", [json.dumps(p, sort_keys=True, separators=(",", ":"))])
    r = CliRunner().invoke(app, ["audit", "verify"])
    assert r.exit_code == 1, r.output
    assert "BROKEN at entry 2" in r.output and "was edited" in r.output, r.output


def test_daily_loss_pauses_one_account(desk, monkeypatch):
    from aitrader.desk.audit import audit_log
    from aitrader.notify import Receiver
    from aitrader.desk.approval import CardRefused, approve, sync_cards
    from aitrader.desk.cards import cards, make_cards
    from aitrader.desk.eod import run_session
    from aitrader.desk.risk import check_kills, is_paused, snapshot
    from aitrader.exits.bracket import step_brackets
    d1, d2, d3 = "2024-10-14", "2024-10-15", "2024-10-16"
    for d, syms in ((d1, ["TCS"]), (d2, ["COALINDIA", "APOLLOHOSP"]), (d3, ["POWERGRID", "HINDUNILVR"])): publish_test_signals(desk, d, syms)
    run_session(desk, d1)
    for c in cards(desk, "PENDING", day=d1).itertuples(): approve(desk, c.card_id, "tester", day=d1)
    step_brackets(desk, until=d2); sync_cards(desk)
    new = make_cards(desk, d2)
    assert set(new.account_id) == {"a", "b"}
    snap = snapshot(desk, d2, store=False)
    loss = -0.05 * snap.loc[snap.account_id == "a", "capital"].iat[0]        # the simulated loss: 5% of capital in a day
    snap.loc[snap.account_id == "a", ["daily_pnl", "pnl"]] = loss
    rx = Receiver()                                        # the one alert path: apprise (notify.notify)
    monkeypatch.setenv("AITRADER_ALERT_URLS", rx.url)
    try: got = check_kills(desk, d2, snap, vr=1.0)
    finally: rx.close(); monkeypatch.delenv("AITRADER_ALERT_URLS")
    alerts = [m["title"] for m in rx.got]
    assert [g.get("tripped") for g in got] == ["max_daily_loss"] and alerts == ["aitrader desk: kill:max_daily_loss a"]
    assert is_paused(desk, "a") and not is_paused(desk, "b")
    assert len(audit_log(desk, kind="kill", account_id="a")) == 1
    ca, cb = (new[new.account_id == x].card_id.iat[0] for x in ("a", "b"))
    with pytest.raises(CardRefused, match="paused"): approve(desk, ca, "tester", day=d2)
    assert approve(desk, cb, "tester", day=d2)["bracket_id"]
    d3_cards = make_cards(desk, d3)
    assert len(d3_cards) and set(d3_cards.account_id) == {"b"}      # a paused: no new entries; b keeps trading
    check_kills(desk, "2024-10-17", snapshot(desk, "2024-10-17", store=False).assign(daily_pnl=0.0), vr=1.0)
    assert not is_paused(desk, "a")                                  # auto-reset at the next session


def test_banned_sector_and_blackout(desk):
    from aitrader.desk.accounts import Mandate, set_mandate, sector_of
    from aitrader.desk.cards import cards, make_cards
    assert sector_of("POWERGRID") == "Power"
    set_mandate(desk, "a", Mandate(banned_sectors=["Power"], blackout_days=3), "tester")
    day = "2024-10-22"                  # INDUSINDBK reports on 10-24, HINDUNILVR on 10-23 (fixture); APOLLOHOSP on 11-07
    publish_test_signals(desk, day, ["POWERGRID", "INDUSINDBK", "HINDUNILVR", "APOLLOHOSP", "TCS"])
    make_cards(desk, day)
    ca, cb = (set(cards(desk, day=day, account_id=x).symbol) for x in ("a", "b"))
    assert not ca & {"POWERGRID", "INDUSINDBK", "HINDUNILVR"}, ca
    assert ca and ca <= {"APOLLOHOSP", "TCS"}
    assert {"POWERGRID", "INDUSINDBK", "HINDUNILVR"} <= cb            # the unrestricted account gets them
    from aitrader.desk.audit import audit_log
    al = json.loads(audit_log(desk, kind="allocation", account_id="a").payload.iat[-1])
    assert al["skipped"]["POWERGRID"] == "banned sector Power" and al["skipped"]["INDUSINDBK"].startswith("earnings blackout: RESULTS 2024-10-24")


def test_no_unattended_execution(desk):
    from aitrader.desk.book import desk_brackets
    from aitrader.desk.approval import CardRefused, approve
    from aitrader.desk.cards import cards
    from aitrader.desk.eod import run_session
    for d in ("2024-10-21", "2024-10-22"):
        publish_test_signals(desk, d, ["TCS", "COALINDIA"])
        run_session(desk, d)
    assert len(cards(desk, "PENDING")) > 0 and len(desk_brackets(desk)) == 0      # sessions make cards, never orders
    c = cards(desk, "PENDING").card_id.iat[0]
    for who in ("system:desk", "", "  "):
        with pytest.raises(CardRefused, match="unattended"): approve(desk, c, who, day="2024-10-22")
    # the only call of open_bracket for a desk account is in desk.approval.approve; the API's elite execution opens brackets
    # for its own key (an 8-hex key id, never 'desk:<id>')
    src = {p.name: p.read_text() for p in (project_root() / "aitrader").rglob("*.py")}
    callers = sorted(n for n, t in src.items() if re.search(r"\bopen_bracket\(", t) and n not in ("bracket.py", "_modidx.py"))
    assert set(callers) <= {"approval.py", "elite.py"}, callers
    if "elite.py" in callers:
        assert re.search(r"open_bracket\(cfg, key_id,", src["elite.py"]) and "desk:" not in src["elite.py"]
    body = src["approval.py"].split("def approve(")[1].split("\ndef ")[0]
    assert "B.open_bracket(" in body and src["approval.py"].count("open_bracket(") == 1


def test_eod_job_renders_html(desk):
    from aitrader.desk.approval import approve
    from aitrader.desk.cards import cards
    from aitrader.desk.eod import run_session
    from aitrader.jobs.catalog import run
    publish_test_signals(desk, "2024-10-21", ["TCS", "COALINDIA"])
    run_session(desk, "2024-10-21")
    approve(desk, cards(desk, "PENDING", account_id="a").card_id.iat[0], "tester", day="2024-10-21")
    r = run("eod", {"run_date": "2024-10-21"}, desk)
    assert r.ok, r.error
    assert r.glued["n_accounts"] == 2 and r.glued["n_cards"] >= 2 and set(r.glued["equity"]) == {"a", "b", "*"}
    html = (desk.runs_out / "eod" / r.glued["html"]).read_text()
    assert html.count("data:image/png;base64") == 2 and "Audit trail of the day" in html
