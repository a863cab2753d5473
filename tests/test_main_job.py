"""The main job (`make run` -> `aitrader main`) end to end on the real NSE data, in a fresh AITRADER_HOME:
ingest, bootstrap a champion, daily job for the last trading day, top signals; a second run changes nothing."""
import os, subprocess, sys
from pathlib import Path

import pandas as pd
from aitrader.core.config import get_config
from aitrader.data.ingest import data_status
from aitrader.signals.store import SignalStore

AITRADER = str(Path(sys.executable).parent / "aitrader")


def _main(home):
    env = {**os.environ, "AITRADER_HOME": str(home), "COLUMNS": "200", "OMP_NUM_THREADS": "1"}
    return subprocess.run([AITRADER, "main"], env=env, capture_output=True, text=True, timeout=900)


def _signals(cfg):
    s = SignalStore(cfg, read_only=True).latest_signals(limit=1000)
    return s.drop(columns=[c for c in ("run_id", "created_at", "status") if c in s]).sort_values("symbol").reset_index(drop=True)


def test_main_job_end_to_end_and_idempotent(home, data_dir):
    cfg = get_config({"AITRADER_HOME": str(home), "AITRADER_DATA_DIR": str(data_dir)})
    r1 = _main(home)
    assert r1.returncode == 0, r1.stdout[-4000:] + r1.stderr[-4000:]
    st1 = data_status(cfg)
    daily = st1[st1.timeframe == "1d"]
    nifty50 = {p.stem.replace("MM", "M&M") for p in (data_dir / "daily").glob("*.csv")}
    assert nifty50 <= set(daily.symbol), nifty50 - set(daily.symbol)
    assert {"RELIANCE", "TCS", "INFY"} <= set(st1[st1.timeframe == "15m"].symbol)
    # signals for the last trading day in the data, and the executed notebook on disk
    last = pd.Timestamp(daily[daily.symbol.isin(nifty50)]["last"].max()).date()
    s1 = _signals(cfg)
    assert len(s1) > 0 and set(pd.to_datetime(s1.as_of).dt.date) == {last}
    assert (home / "runs" / "out" / "daily" / f"{last}.ipynb").exists()
    # the output: the signals table first, then the skill block (measured, or the plain bootstrap warning)
    out = r1.stdout
    first = next(x for x in out.splitlines() if x.strip())
    assert first.strip().startswith(f"signals {last}"), out[:2000]
    assert out.index("How good is this model") > out.index("┃ rank") > 0
    assert ("is a bootstrap model with no measured skill" in out) or ("walk-forward Rank IC 5d" in out), out
    assert "Next" in out and "aitrader benchmark" in out and out.rstrip().splitlines()[-1].startswith("data: ")
    assert SignalStore(cfg, read_only=True).violations().empty
    from aitrader.signals.daily import BOOK_PARAMS
    buys = s1[s1.direction == "BUY"]   # the book rule on an empty book: k entries, each with its rank and attributions
    assert len(buys) == BOOK_PARAMS.k, s1[["symbol", "direction"]]
    assert (s1.direction != "SELL").all()   # nothing is held yet, so nothing exits
    for r in buys.reasons:
        r = list(r) if not isinstance(r, str) else __import__("json").loads(r)
        assert r[0].startswith("book: ENTER at 1/5 of the book"), r
        assert r[1].startswith("BUY: rank ") and "score percentile" in r[1], r
        assert any(x.startswith("top attributions: ") for x in r), r
        # the confidence is the bundle's calibrated P(up over 5 sessions), and the reasons say so
        assert any(x.startswith("confidence ") and "= P(5-session return > 0), calibrated on" in x for x in r), r
    assert "confidence = P(5-session return > 0) for a BUY or HOLD" in out, out[:3000]
    assert buys.confidence.between(0.3, 0.8).all(), buys.confidence  # a probability near the base rate, not rank 1.0
    # a second run: no count changes, the same signals
    r2 = _main(home)
    assert r2.returncode == 0, r2.stdout[-4000:] + r2.stderr[-4000:]
    cols = ["symbol", "timeframe", "first", "last", "bars", "quarantined"]
    assert st1[cols].reset_index(drop=True).equals(data_status(cfg)[cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(s1, _signals(cfg))
