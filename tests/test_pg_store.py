"""The signal store and the API store behave the same on DuckDB and on a real PostgreSQL server (the `backend` fixture).

Signals are SYNTHETIC test data (`aitrader.testing.synthetic_signals`), published through the real SignalStore.
"""
import math, threading

import pandas as pd
import pytest

from aitrader.storage.apistore import ApiStore
from aitrader.core.config import get_config
from aitrader.storage.db import connect, is_pg
from aitrader.storage.migrations import SCHEMAS, applied
from aitrader.signals.store import SignalStore
from aitrader.testing import synthetic_signals

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture()
def cfg(tmp_path):
    return get_config({"AITRADER_HOME": str(tmp_path)})


def test_round_trip_and_checks(cfg, backend):
    assert is_pg() == (backend == "postgres")
    st = SignalStore(cfg)
    with st.run("daily", "2024-11-21") as rid: out = st.publish_signals(rid, "2024-11-21", synthetic_signals("2024-11-21", n=12, seed=3))
    assert out == dict(deleted=0, inserted=12, events_dropped=0)
    df = st.latest_signals(limit=100)
    assert len(df) == 12 and list(df.confidence) == sorted(df.confidence, reverse=True)
    assert isinstance(df.tf_align.iloc[0], list) and df.as_of.iloc[0] == "2024-11-21"
    buy = df[df.direction == "BUY"].id.iloc[0]
    st.set_status(buy, "WAIT", at="2024-11-22 10:15", reasons=["1H not aligned"], run_id="h")
    ev = st.events(buy)
    assert list(ev.new_status) == ["WAIT"] and str(ev["at"].iloc[0]) == "2024-11-22 10:15:00+05:30"
    sig, runs = st.snapshot()
    assert len(sig) == 12 and list(runs.job) == ["daily"] and list(runs.run_date) == ["2024-11-21"]
    assert st.get_run(rid)["status"] == "success" and len(st.violations()) == 0
    with st.connect() as con:   # the table's CHECKs refuse NaN and infinite prices on both backends
        for bad in ("CAST('NaN' AS DOUBLE PRECISION)", "CAST('Infinity' AS DOUBLE PRECISION)"):
            with pytest.raises(Exception, match="(?i)check"):
                con.execute(f"UPDATE signals SET atr14 = {bad} WHERE id = ?", [buy])
    with connect(st.path) as con:
        names = {n for n, *_ in applied(con)}
    assert {"core", "signals"} <= names and (backend == "duckdb" or set(SCHEMAS) <= names)


def test_api_store_upserts(cfg):
    with ApiStore(cfg) as db:
        kid = db.add_key("pro", "t", b"salt", b"hash")
        assert db.key_rows(kid)[kid][:2] == ("t", "pro") and db.key_rows()[kid][2] == b"salt"
        assert db.revoke_key(kid) and not db.revoke_key(kid)
        db.set_kill(True, "test", "me"); db.set_kill(False, "done", "me")
        assert db.kill()["engaged"] is False and len(db.kill_events()) == 2
        s = dict(enabled=True, max_open_positions=3, max_notional=1000.0, daily_loss_limit=50.0, max_total_notional=None)
        db.set_auto("k1", s); db.set_auto("k1", {**s, "enabled": False})
        assert db.auto("k1")["enabled"] is False
        with db.transaction():
            ids = [db.add_order("k1", f"i{i}", "h", dict(signal_id="2024-11-21:X", symbol="X", qty=1, order_type="market",
                                                         limit_price=None, signal_as_of="2024-11-21", status="PENDING"), 10.0) for i in range(3)]
        assert ids == [1, 2, 3] and [o["order_id"] for o in db.pending("k1")] == ids and db.pending("nobody") == []
        assert db.exposure("k1") == {"X": 30.0} and db.exposure("k1", before_order=2) == {"X": 10.0}
        db.add_upload("abc", "f.csv", {"rows": 1}); db.add_upload("abc", "g.csv", {"rows": 2})
        assert db.upload("abc") == {"rows": 1}


def test_readers_see_one_run_or_the_other(cfg):
    "A reader thread loops over the store while the main thread re-publishes one date 12 times (30 / 50 rows, new run each)."
    st = SignalStore(cfg)
    syms = [f"S{i:03d}" for i in range(50)]
    rows = lambda n: synthetic_signals("2024-11-22", n=50).assign(symbol=syms).iloc[:n]
    with st.run("daily", "2024-11-22") as rid: st.publish_signals(rid, "2024-11-22", rows(50))
    sizes, seen, errs, stop = {rid: 50}, [], [], threading.Event()
    def reader():
        try:
            while not stop.is_set():
                sig, _ = st.snapshot(dates=1)
                seen.append((len(sig), sig.run_id.nunique(), sig.run_id.iloc[0] if len(sig) else None))
                df = st.latest_signals(limit=500, as_of="2024-11-22")
                seen.append((len(df), df.run_id.nunique(), df.run_id.iloc[0] if len(df) else None))
        except Exception as e: errs.append(e)
    th = threading.Thread(target=reader); th.start()
    for k in range(12):
        with st.run("daily", "2024-11-22") as rid:
            n = 30 if k % 2 == 0 else 50
            st.publish_signals(rid, "2024-11-22", rows(n)); sizes[rid] = n
    stop.set(); th.join()
    assert errs == []
    obs = [s for s in seen if s[0]]
    assert len(obs) >= 5, f"only {len(obs)} reads"
    assert all(s[1] == 1 and s[0] == sizes[s[2]] for s in obs), [s for s in obs if s[1] != 1 or s[0] != sizes[s[2]]][:3]


def test_later_tables_registered_with_one_line(cfg, backend):
    "The exits branch's BRACKET_DDL (registered with one `register_schema` line) works on both backends."
    from aitrader.exits.bracket_store import BracketStore, exit_setting, set_exit_setting
    set_exit_setting(cfg, "policy", {"trail_atr": 2.5}); set_exit_setting(cfg, "policy", {"trail_atr": 3.0})
    assert exit_setting(cfg, "policy") == {"trail_atr": 3.0} and exit_setting(cfg, "nope", 1) == 1
    with BracketStore(cfg) as db:
        assert db.one("SELECT count(*) FROM brackets")[0] == 0
        if backend == "postgres": assert db.one("SELECT count(*) FROM schema_migrations WHERE name = 'bracket'")[0] == 1
