"""The main job (`make run` -> `aitrader main`) end to end on the real NSE data, in a fresh AITRADER_HOME."""
import os, subprocess, sys
from pathlib import Path

from aitrader.config import get_config
from aitrader.data.ingest import data_status

AITRADER = str(Path(sys.executable).parent / "aitrader")


def _main(home):
    env = {**os.environ, "AITRADER_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([AITRADER, "main"], env=env, capture_output=True, text=True, timeout=600)


def test_main_job_ingests_and_is_idempotent(home, data_dir):
    r1 = _main(home)
    assert r1.returncode == 0, r1.stdout[-3000:] + r1.stderr[-3000:]
    assert "data status" in r1.stdout
    cfg = get_config({"AITRADER_HOME": str(home), "AITRADER_DATA_DIR": str(data_dir)})
    st1 = data_status(cfg)
    daily = st1[st1.timeframe == "1d"]
    nifty50 = {p.stem.replace("MM", "M&M") for p in (data_dir / "daily").glob("*.csv")}
    assert nifty50 <= set(daily.symbol), nifty50 - set(daily.symbol)
    assert {"RELIANCE", "TCS", "INFY"} <= set(st1[st1.timeframe == "15m"].symbol)
    r2 = _main(home)
    assert r2.returncode == 0, r2.stdout[-3000:] + r2.stderr[-3000:]
    st2 = data_status(cfg)
    cols = ["symbol", "timeframe", "first", "last", "bars", "quarantined"]
    assert st1[cols].reset_index(drop=True).equals(st2[cols].reset_index(drop=True))
