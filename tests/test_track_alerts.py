"""Issue 14: the daily job's success path tracks outcomes and sends alerts once, even when the job is re-run.

The daily notebook is replaced by a tiny one staging SYNTHETIC test signals on real symbols (RELIANCE BUY, TCS SELL,
entries near the real closes); bars are the real NSE daily files cut after 2024-11-22. Alerts go through apprise's
`json://` to a local HTTP receiver started by the test.
"""
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from aitrader.core.config import get_config
from aitrader.jobs.catalog import run
from aitrader.notify import Receiver, sent_alerts
from aitrader.signals.store import SignalStore
from aitrader.testing import ingest_real
from aitrader.track.outcomes import read_outcomes

TINY = '''
from aitrader.core.config import get_config
from aitrader.jobs.runner import stage_path, glue
from aitrader.signals.store import prepare_signals
from aitrader.testing import synthetic_signals, with_real
cfg = get_config()
px = {"2024-11-14": (1268.0, 4120.0), "2024-11-22": (1290.0, 4300.0)}[run_date]
rows = with_real(synthetic_signals(run_date, n=3, seed=5), [("RELIANCE", "BUY", px[0]), ("TCS", "SELL", px[1]), ("INFY", "HOLD", float("nan"))])
if run_id:
    p = stage_path(cfg, run_id); p.parent.mkdir(parents=True, exist_ok=True)
    prepare_signals(rows, run_id, run_date).to_parquet(p, index=False)
glue("n_buy", int((rows.direction == "BUY").sum()))
'''


def _tiny(d: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('run_date = ""\nuniverse = "nifty50"\nmode = "dev"\nrun_id = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(TINY)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    f = d / "tiny_daily.ipynb"; nbformat.write(nb, f)
    return f


def test_daily_rerun_alerts_once_and_outcomes_identical(tmp_path, data_dir, monkeypatch, backend):   # the job on both backends
    rx = Receiver()
    try:
        monkeypatch.setenv("AITRADER_ALERT_URLS", rx.url)
        cfg = get_config({"AITRADER_HOME": str(tmp_path / "home"), "AITRADER_DATA_DIR": str(data_dir)})
        ingest_real(cfg, data_dir, ["RELIANCE", "TCS", "INFY"], last="2024-11-22")
        nb = _tiny(tmp_path)
        r1 = run("daily", {"run_date": "2024-11-14"}, cfg, notebook=nb, timeout=300)
        assert r1.ok, r1.error
        r2 = run("daily", {"run_date": "2024-11-22"}, cfg, notebook=nb, timeout=300)
        assert r2.ok, r2.error
        st = SignalStore(cfg)
        o1 = read_outcomes(st)
        ev1 = st.events()
        titles1 = sorted(m["title"] for m in rx.got)
        r3 = run("daily", {"run_date": "2024-11-22"}, cfg, notebook=nb, timeout=300)   # the job re-run
        assert r3.ok, r3.error
        # the tracker followed the 2024-11-14 signals through 2024-11-22; the re-run recomputed identical outcomes
        assert set(o1.signal_id) == {"2024-11-14:RELIANCE", "2024-11-14:TCS"}
        assert read_outcomes(st).equals(o1)
        assert len(st.events()) == len(ev1)
        assert st.get_signal("2024-11-14:RELIANCE")["status"] == o1.set_index("symbol").status["RELIANCE"]
        assert r3.published["track"]["live"]["transitions"] == 0
        # a new BUY alert reached the receiver exactly once per signal, even though 2024-11-22 ran twice
        titles = sorted(m["title"] for m in rx.got)
        assert titles == titles1
        assert titles.count("aitrader BUY RELIANCE (2024-11-22)") == 1
        assert titles.count("aitrader BUY RELIANCE (2024-11-14)") == 1
        log = sent_alerts(cfg.store_path)
        assert (log.status == "sent").all() and log.event_key.is_unique
        assert rx.url not in log.to_string()                     # the URL (a secret in real use) is never stored
        import duckdb                                            # PostgreSQL: the DuckDB file holds the bars only
        with duckdb.connect(str(cfg.store_path), read_only=True) as con:
            t = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert ({"signals", "signal_outcomes", "sent_alerts"} <= t) == (backend == "duckdb"), t
    finally:
        rx.close()


def test_failed_job_alert(tmp_path, data_dir, monkeypatch):
    rx = Receiver()
    try:
        monkeypatch.setenv("AITRADER_ALERT_URLS", rx.url)
        cfg = get_config({"AITRADER_HOME": str(tmp_path / "home"), "AITRADER_DATA_DIR": str(data_dir)})
        ingest_real(cfg, data_dir, ["RELIANCE"], last="2024-11-22")
        bad = nbformat.v4.new_notebook()
        p = nbformat.v4.new_code_cell('run_date = ""\nuniverse = "nifty50"\nmode = "dev"\nrun_id = ""'); p.metadata["tags"] = ["parameters"]
        bad.cells = [p, nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
        bad.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
        f = tmp_path / "bad.ipynb"; nbformat.write(bad, f)
        r = run("daily", {"run_date": "2024-11-22"}, cfg, notebook=f, timeout=120)
        assert not r.ok
        assert [m["title"] for m in rx.got] == ["aitrader daily job failed"]
    finally:
        rx.close()
