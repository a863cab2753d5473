"""Issue 14: the status machine is enforced by the code and by the store; an old store is migrated with its rows."""
import duckdb
import pandas as pd
import pytest

from aitrader.core.config import get_config
from aitrader.signals.store import STORE_DDL, SignalStore
from aitrader.signals.frame import STATUSES, TRANSITIONS
from aitrader.testing import publish_synthetic, synthetic_signals

OLD = STORE_DDL.replace(", 'FILLED', 'CLOSED_TARGET', 'CLOSED_STOP', 'CLOSED_TIME'", "")


def test_transition_table_in_code_and_store(tmp_path, backend):
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    publish_synthetic(cfg, "2024-11-22", n=6, seed=1)
    st = SignalStore(cfg)
    sid = st.latest_signals(direction="BUY").id.iat[0]
    with pytest.raises(ValueError, match="transition table"): st.set_status(sid, "CLOSED_TARGET")
    st.set_status(sid, "FILLED", at="2024-11-25 15:30")
    with pytest.raises(ValueError, match="transition table"): st.set_status(sid, "EXPIRED")
    st.set_status(sid, "CLOSED_TARGET", at="2024-11-27 15:30")
    with pytest.raises(ValueError, match="transition table"): st.set_status(sid, "FILLED")
    assert list(st.events(sid).new_status) == ["FILLED", "CLOSED_TARGET"]
    with st.connect() as con, pytest.raises(Exception, match="(?i)constraint"):   # DuckDB ConstraintException, psycopg CheckViolation
        con.execute("UPDATE signals SET status = 'WON' WHERE id = ?", [sid])
    assert set(TRANSITIONS) == set(STATUSES)
    assert all(set(v) <= set(STATUSES) for v in TRANSITIONS.values())


def test_old_store_is_widened_with_its_rows(tmp_path, monkeypatch):   # DuckDB only: a file from before issue 14
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    cfg.store_path.parent.mkdir(parents=True)
    with duckdb.connect(str(cfg.store_path)) as con:
        con.execute(OLD)
        sql = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'signals'").fetchone()[0]
        assert "CLOSED_TIME" not in sql
    from aitrader.storage import migrations as M
    monkeypatch.setitem(M.UPGRADES, "signals", lambda con: False)   # the code before issue 14: rows and an event in the old schema
    publish_synthetic(cfg, "2024-11-21", n=5, seed=3)
    st = SignalStore(cfg)
    sid = st.latest_signals(direction="BUY").id.iat[0]
    st.set_status(sid, "WAIT", at="2024-11-22 10:15")
    monkeypatch.undo()
    with duckdb.connect(str(cfg.store_path)) as con:   # a file from before issue 14 never recorded the current DDL
        con.execute("DELETE FROM schema_migrations WHERE name = 'signals'")
    st2 = SignalStore(cfg)                                    # migrates, keeping the rows and the event                                    # a second open changes nothing
    with st2.connect() as con:
        assert "CLOSED_TIME" in con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'signals'").fetchone()[0]
    assert len(SignalStore(cfg).latest_signals()) == 5 and len(st2.events(sid)) == 1
    st2.set_status(sid, "FILLED", at="2024-11-22 15:30")
    assert st2.get_signal(sid)["status"] == "FILLED"
