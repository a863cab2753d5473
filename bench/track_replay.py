"""Replay speed and reproducibility: the daily scoring code path over past sessions, then the outcome tracker.

Usage: .venv/bin/python bench/track_replay.py --home HOME [--start 2024-07-01] [--end 2024-11-22] [--twice]
HOME: an AITRADER_HOME with the real bars ingested and a champion (e.g. a copy of a seed home; it is written to).
Prints sessions, signals, seconds of scoring per session, wall time, the outcome counts and, with --twice, whether a
second replay left `signal_outcomes` and `track_signals` unchanged (sha256 of their rows, run ids and write times excluded).
Measured on 2 shared cores (load average 8-11 from other jobs), NIFTY 50, champion only: 99 sessions in 263 s of
scoring (2.66 s/session), 337 s wall with the tracker; a papermill execution per session would add a kernel start and
the imports to every session.
"""
import argparse, hashlib, os, sys, time


def digest(path):
    import duckdb
    with duckdb.connect(str(path), read_only=True) as c:
        out = {}
        for t, cols in [("signal_outcomes", "*"), ("track_signals", "id, source, role, as_of, symbol, direction, confidence, entry, "
                                                                      "stop_loss, take_profit, atr14, model_version")]:
            rows = c.execute(f"SELECT {cols} FROM {t} ORDER BY 1").fetchall()
            out[t] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True); ap.add_argument("--start", default="2024-07-01"); ap.add_argument("--end", default="2024-11-22")
    ap.add_argument("--twice", action="store_true"); ap.add_argument("--champion-only", action="store_true")
    a = ap.parse_args()
    os.environ["AITRADER_HOME"] = a.home
    from rich.console import Console
    from rich.table import Table
    from aitrader.core.config import get_config
    from aitrader.track.replay import replay
    cfg = get_config()
    roles = ("champion",) if a.champion_only else ("champion", "challenger")
    t = Table(title=f"replay {a.start} .. {a.end}")
    for c in ("run", "sessions", "signals", "s/session (scoring)", "wall s", "outcomes", "signal_outcomes", "track_signals"): t.add_column(c)
    digests = []
    for i in range(2 if a.twice else 1):
        t0 = time.perf_counter()
        r = replay(a.start, a.end, roles=roles, cfg=cfg, verbose=False)
        d = digest(cfg.store_path); digests.append(d)
        t.add_row(str(i + 1), str(r["sessions"]), str(r["signals"]), str(r["s_per_session"]), f"{time.perf_counter() - t0:.0f}",
                  str(r["outcomes"]), str(d["signal_outcomes"]), str(d["track_signals"]))
    Console(width=200).print(t)
    if a.twice: print("second replay changed nothing:", digests[0] == digests[1])


if __name__ == "__main__":
    sys.exit(main())
