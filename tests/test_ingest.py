"""Ingest of the file formats Indian traders have (tests/fixtures/formats, hand-written) and of bad input (issue 12).

Every format ingests from its fixture and a second ingest changes no count; bad input gives a message naming the
file, row and rule, keeps the valid rows and sets the exit code (0 all, 1 nothing, 3 partly ingested).
"""
import io, os, shutil, subprocess, sys, zipfile
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from typer.testing import CliRunner
from aitrader.core.config import get_config
from aitrader.cli.main import app
from aitrader.data.ingest import ingest, data_status
from aitrader.data.ingest_report import EXIT_OK, EXIT_FAILED, EXIT_PARTIAL
from aitrader.data.store import BarStore
from aitrader.data.bar_files import read_series

FIX = Path(__file__).parent / "fixtures" / "formats"
IST = "Asia/Kolkata"
runner = CliRunner()


@pytest.fixture()
def cfg(tmp_path, monkeypatch):
    "A fresh AITRADER_HOME (no real data needed)."
    home = tmp_path / "home"; home.mkdir()
    monkeypatch.setenv("AITRADER_HOME", str(home))
    monkeypatch.delenv("AITRADER_SOURCE_PRIORITY", raising=False)
    return get_config({"AITRADER_HOME": str(home)})


def _tables(cfg):
    with BarStore(cfg) as st:
        return {t: st.table(t) for t in ("bars_quarantine", "conflicts", "corporate_actions")}


# file, source, timeframe, symbol, stored bars, source kind
FORMATS = [
    ("yahoo_3line_TCS.csv", "csv", "1d", "TCS", 4, "yahoo"),                        # Yahoo three-line header
    ("INFY.NS.csv", "csv", "1d", "INFY", 3, "yahoo"),                               # Yahoo flat Date,Adj Close,Close,...
    ("HDFCBANK.csv", "csv", "1d", "HDFCBANK", 5, "nse"),                            # NSE legacy CSV with Prev Close, m/d/Y
    ("NESTLEIND.csv", "csv", "1d", "NESTLEIND", 6, "nse"),                          # NSE website export, equity, newest first
    ("ASTRAL.csv", "csv", "1d", "ASTRAL", 5, "nse"),                                # NSE website export, a 1:3 bonus
    ("NIFTY 50-01-01-2024-to-05-01-2024.csv", "csv", "1d", "NIFTY50", 5, "nse"),    # NSE website export, index
    ("ADANIENT_2020-10-01_to_2025-09-30.csv", "csv", "1d", "ADANIENT", 4, "broker"),  # broker: tz-aware stamps + oi
    ("INFY_5minute.csv", "csv", "15m", "INFY", 4, "broker"),                        # 5-minute broker bars -> 15m
    ("SBIN_15min.csv", "csv", "15m", "SBIN", 50, "csv"),                            # split Date,Time columns, dd-mm-yyyy
    ("TCS_60minute.csv", "csv", "1h", "TCS", 7, "csv"),                             # 1h stored as 1h
    ("ITC_15minute.csv", "csv", "15m", "ITC", 25, "csv"),                         # stamped at bar end
    ("RELIANCE_daily.csv", "csv", "1d", "RELIANCE", 7, "yahoo"),                    # Saturday budget + Muhurat sessions
    ("cm02JAN2024bhav.csv", "bhavcopy", "1d", None, 2, "bhavcopy"),                 # legacy bhavcopy
    ("BhavCopy_NSE_CM_0_0_0_20240103_F_0000.csv", "bhavcopy", "1d", None, 2, "bhavcopy"),  # UDiFF bhavcopy
]


@pytest.mark.parametrize("name,source,tf,symbol,n,kind", FORMATS, ids=[f[0] for f in FORMATS])
def test_format_ingests_and_reingest_changes_nothing(cfg, name, source, tf, symbol, n, kind):
    r1 = ingest(cfg, source, FIX / name, tf, progress=False)
    assert (r1.status, r1.exit_code, r1.failed, r1.errors) == ("done", EXIT_OK, {}, {})
    with BarStore(cfg) as st:
        b = st.bars(symbol, tf) if symbol else st.bars(None, tf)
        stored = pd.concat([read_series(st.path(tf, s)) for s in st.symbols(tf)])
    assert len(b) == n and b.ts.is_monotonic_increasing
    assert set(stored.source) == {kind}
    s1, t1 = data_status(cfg), _tables(cfg)
    r2 = ingest(cfg, source, FIX / name, tf, progress=False)
    assert (r2.total("new"), r2.total("conflicts"), r2.total("quarantine_new"), r2.status) == (0, 0, 0, "done")
    pd.testing.assert_frame_equal(s1, data_status(cfg))
    assert {k: len(v) for k, v in t1.items()} == {k: len(v) for k, v in _tables(cfg).items()}


def test_nse_website_export_split_has_no_step(cfg):
    r = ingest(cfg, "csv", FIX / "NESTLEIND.csv", "1d", progress=False)
    assert r.other_series == 1                                # the BE row is counted, not stored
    with BarStore(cfg) as st:
        b, acts = st.bars("NESTLEIND"), st.table("corporate_actions")
    ret = b.close.pct_change().dropna()
    assert ret.abs().max() < 0.02                             # no step on the ex-date 2024-01-05
    assert b.close[b.ts == pd.Timestamp("2024-01-04", tz=IST)].iat[0] == pytest.approx(2487.30)
    a = acts[acts.kind != "large_move"]
    assert a[["symbol", "kind", "ratio", "method", "src_file"]].values.tolist() == [["NESTLEIND", "split", 10.0, "prev_close", "formats/NESTLEIND.csv"]]
    assert a.ex_date.iat[0] == pd.Timestamp("2024-01-05", tz=IST)


def test_nse_website_export_bonus_has_no_step(cfg):
    ingest(cfg, "csv", FIX / "ASTRAL.csv", "1d", progress=False)
    with BarStore(cfg) as st:
        b, acts = st.bars("ASTRAL"), st.table("corporate_actions")
    assert b.close.pct_change().dropna().abs().max() < 0.02   # 1:3 bonus, ex-date 2021-03-18: no step
    assert b.close[b.ts == pd.Timestamp("2021-03-17", tz=IST)].iat[0] == pytest.approx(1841.60 * 3 / 4)
    assert acts[["kind", "ratio", "method"]].values.tolist() == [["bonus", pytest.approx(4 / 3), "prev_close"]]
    with BarStore(cfg) as st: assert len(st.table("bars_quarantine")) == 0


def test_intervals(cfg):
    r = ingest(cfg, "csv", FIX / "INFY_5minute.csv", "15m", progress=False)
    assert r.intervals.action.iat[0].startswith("aggregated 5-minute bars")
    raw = pd.read_csv(FIX / "INFY_5minute.csv")
    with BarStore(cfg) as st:
        b = st.bars("INFY", "15m")
    assert b.ts.dt.strftime("%H:%M").tolist() == ["09:15", "09:30", "09:45", "10:00"]
    assert (b.open.iat[0], b.high.iat[0], b.low.iat[0], b.close.iat[0], b.volume.iat[0]) == (
        raw.open[0], raw.high[:3].max(), raw.low[:3].min(), raw.close[2], raw.volume[:3].sum())
    bad = ingest(cfg, "csv", FIX / "INFY_5minute.csv", "1h", progress=False)   # cannot be stored as 1h
    assert (bad.status, bad.exit_code) == ("failed", EXIT_FAILED)
    assert "formats/INFY_5minute.csv: interval_mismatch: the file holds 5-minute bars, requested 1h" in list(bad.failed.items())[0][0] + ": " + list(bad.failed.values())[0]
    bad = ingest(cfg, "csv", FIX / "TCS_60minute.csv", "15m", progress=False)
    assert "holds 60-minute bars, requested 15m" in list(bad.failed.values())[0]
    ingest(cfg, "csv", FIX / "ITC_15minute.csv", "15m", progress=False)
    with BarStore(cfg) as st:
        e = st.bars("ITC", "15m")
    assert (e.ts.dt.strftime("%H:%M").iat[0], e.ts.dt.strftime("%H:%M").iat[-1]) == ("09:15", "15:15")
    with BarStore(cfg) as st:
        q = st.table("bars_quarantine")
    assert "interval_mismatch" in q[q.rule == "file_error"].detail.iat[0]


def test_special_sessions_keep_their_own_date(cfg):
    ingest(cfg, "csv", FIX / "RELIANCE_daily.csv", "1d", progress=False)
    with BarStore(cfg) as st:
        b = st.bars("RELIANCE")
    days = b.ts.dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2020-01-30", "2020-01-31", "2020-02-01", "2020-02-03", "2025-10-20", "2025-10-21", "2025-10-23"]
    assert b.ts.is_unique                                     # the Saturday budget and the Muhurat session are their own rows


def test_daily_special_session_stamped_at_its_time(cfg, tmp_path):
    f = tmp_path / "RELIANCE_day.csv"   # a vendor stamps the Muhurat bar at the session's start time
    f.write_text("timestamp,open,high,low,close,volume\n2025-10-20 00:00:00+05:30,1445,1460,1440,1450,7000000\n"
                 "2025-10-21 13:45:00+05:30,1452,1458,1449,1455,900000\n2025-10-23 00:00:00+05:30,1456,1475,1452,1470,8000000\n")
    r = ingest(cfg, "csv", f, "1d", progress=False)
    assert r.status == "done" and "own date" in r.intervals.action.iat[0]
    with BarStore(cfg) as st:
        assert st.bars("RELIANCE").ts.dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2025-10-20 00:00", "2025-10-21 00:00", "2025-10-23 00:00"]


def test_broker_symbol_and_conflicts_by_kind(cfg, tmp_path):
    d = tmp_path / "broker"; d.mkdir()
    (d / "INFY_2024-01-01_to_2024-01-03.csv").write_text(     # a broker's view of INFY, 2% off Yahoo on 2024-01-02
        "date,open,high,low,close,volume,oi\n2024-01-01 00:00:00+05:30,1515,1530,1510,1520,2000000,0\n"
        "2024-01-02 00:00:00+05:30,1550,1566,1542,1555.5,2100000,0\n")
    ingest(cfg, "csv", FIX / "INFY.NS.csv", "1d", progress=False)
    r = ingest(cfg, "csv", d, "1d", progress=False)
    assert r.per_symbol.symbol.tolist() == ["INFY"] and r.total("conflicts") == 1
    with BarStore(cfg) as st:
        c, b = st.table("conflicts"), st.bars("INFY")
    assert set(c.kept_source) == {"broker"} and set(c.other_source) == {"yahoo"}   # broker outranks Yahoo
    assert b.close.tolist() == [1520.0, 1555.5, 1530.0]
    out = runner.invoke(app, ["data", "conflicts"])
    assert out.exit_code == 0 and "INFY" in out.output and "broker" in out.output
    out = runner.invoke(app, ["bars", "INFY", "--tail", "2"])
    assert out.exit_code == 0


def test_quarantine_key_has_content_hash(cfg, tmp_path):
    for k, v in (("a", "1O1"), ("b", "2x2")):                # same label x/BAD.csv, different content
        f = tmp_path / k / "x" / "BAD.csv"; f.parent.mkdir(parents=True)
        f.write_text(f"date,open,high,low,close,volume\n2024-01-01,100,101,99,{v},10\n2024-01-02,100,101,99,100,10\n")
        r = ingest(cfg, "csv", f, "1d", progress=False)
        assert r.total("quarantine_new") == 1
    with BarStore(cfg) as st:
        q = st.table("bars_quarantine")
    assert len(q) == 2 and q.src_file.unique().tolist() == ["x/BAD.csv"] and q.src_hash.nunique() == 2
    r = ingest(cfg, "csv", tmp_path / "a" / "x" / "BAD.csv", "1d", progress=False)
    assert (r.total("quarantine_new"), r.total("new")) == (0, 0)


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>"); z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


H = "date,open,high,low,close,volume\n"
BAD_FILES = {   # name: (bytes, exit code, text in the output, quarantine rule or None)
    "EMPTY.csv": (b"", EXIT_FAILED, "EMPTY.csv: empty_file", "file_error"),
    "HEADONLY.csv": (H.encode(), EXIT_FAILED, "no_data", "file_error"),
    "WRONG.csv": (b"when,price\n2024-01-01,5\n", EXIT_FAILED, "unknown_format: columns found ['when', 'price']", "file_error"),
    "GARBLED.csv": ((H + "2024-01-01,100,101,99,1O0,10\n2024-01-02,100,101,99,100,10\n").encode(), EXIT_OK, "", "unparseable_number"),
    "MIXEDTZ.csv": (b"timestamp,open,high,low,close,volume\n2024-01-02 09:15:00+05:30,1,1,1,1,1\n2024-01-02 09:30:00+05:30,1,1,1,1,1\n"
                    b"2024-01-02 04:15:00+00:00,1,1,1,1,1\n", EXIT_OK, "", "mixed_timezone"),
    "DUPS.csv": ((H + "2024-01-01,100,101,99,100,10\n2024-01-01,100,101,99,100,10\n2024-01-02,100,101,99,100,10\n").encode(), EXIT_OK, "", "duplicate_ts"),
    "HILO.csv": ((H + "2024-01-01,100,98,99,100,10\n2024-01-02,100,101,99,100,10\n").encode(), EXIT_OK, "", "high_below_open_close"),
    "NANS.csv": ((H + "2024-01-01,100,101,99,NaN,10\n2024-01-02,100,101,99,100,10\n").encode(), EXIT_OK, "", "missing_value"),
    "BOMCRLF.csv": (b"\xef\xbb\xbf" + (H + "2024-01-01,100,101,99,100,10\n").replace("\n", "\r\n").encode(), EXIT_OK, "", None),
    "SEMI.csv": (b"Date;Open;High;Low;Close;Volume\n2024-01-01;100;101;99;100;10\n", EXIT_OK, "", None),
    "SEMIDEC.csv": (b"Date;Open;High;Low;Close;Volume\n2024-01-01;100,5;101;99;100;10\n", EXIT_FAILED, "semicolon-separated with decimal commas: use --sep ';'", "file_error"),
    "BOOK.csv": (_xlsx(), EXIT_FAILED, "this is an Excel workbook (.xlsx), not a CSV file: export it as CSV", "file_error"),
    "Tata Motors.csv": ((H + "2024-01-01,100,101,99,100,10\n").encode(), EXIT_FAILED, "not an NSE symbol", "file_error"),
    "cm02JAN2024bhav.csv": (b"SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n"
                            b"AAA,EQ,10,11,9,10.5,10.5,10,1050,02-JAN-2024,5,INE000000001,\n", EXIT_FAILED, "bhavcopy is missing column TOTTRDQTY", "file_error"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_input_single_file(cfg, tmp_path, name):
    data, code, text, rule = BAD_FILES[name]
    f = tmp_path / "in" / name; f.parent.mkdir(); f.write_bytes(data)
    src = "bhavcopy" if name.startswith("cm") else "csv"
    tf = "15m" if name == "MIXEDTZ.csv" else "1d"
    out = runner.invoke(app, ["ingest", "--source", src, "--path", str(f), "--timeframe", tf])
    assert out.exit_code == code, out.output
    assert "Traceback" not in out.output and out.exception is None or isinstance(out.exception, SystemExit)
    flat = " ".join(out.output.split())
    assert text in flat, out.output
    with BarStore(cfg) as st:
        q, log = st.table("bars_quarantine"), st.table("ingest_log")
    run = log[log.symbol.isna()]
    assert run.status.tolist() == ["failed" if code == EXIT_FAILED else "done"]
    if rule: assert rule in set(q.rule), q
    if code == EXIT_FAILED: assert q[q.rule == "file_error"].src_file.tolist() == [f"in/{name}"]
    else:
        with BarStore(cfg) as st: assert len(st.bars(None, tf)) >= 1   # the valid rows are kept
    if rule and rule != "file_error":                         # the quarantine names the file, the row and the rule
        assert (q.src_line > 1).all() and (q.src_file == f"in/{name}").all() and q.rule.tolist() == [rule]


def test_semicolon_with_sep_and_symbol_map_and_unicode_names(cfg, tmp_path):
    d = tmp_path / "in"; d.mkdir()
    (tmp_path / "SEMIDEC.csv").write_bytes(BAD_FILES["SEMIDEC.csv"][0])
    out = runner.invoke(app, ["ingest", "--path", str(tmp_path / "SEMIDEC.csv"), "--source", "csv", "--sep", ";"])
    assert out.exit_code == 0, out.output
    with BarStore(cfg) as st: assert st.bars("SEMIDEC").open.tolist() == [100.5]
    (d / "Tata Motors.csv").write_text(H + "2024-01-01,100,101,99,100,10\n")
    (d / "ＲＥＬＩＡＮＣＥ.csv").write_text(H + "2024-01-01,100,101,99,100,10\n")
    (tmp_path / "map.csv").write_text("file,symbol\nTata Motors.csv,TATAMOTORS\n")
    out = runner.invoke(app, ["ingest", "--path", str(d), "--source", "csv", "--symbol-map", str(tmp_path / "map.csv")])
    assert out.exit_code == 0, out.output
    with BarStore(cfg) as st: assert {"TATAMOTORS", "RELIANCE", "SEMIDEC"} <= set(st.symbols("1d"))


def test_out_of_order_rows_are_sorted(cfg, tmp_path):
    f = tmp_path / "OOO.csv"
    f.write_text(H + "2024-01-03,102,103,101,102,10\n2024-01-01,100,101,99,100,10\n2024-01-02,101,102,100,101,10\n")
    ingest(cfg, "csv", f, "1d", progress=False)
    with BarStore(cfg) as st: assert st.bars("OOO").close.tolist() == [100.0, 101.0, 102.0]


def test_folder_with_one_bad_file_exits_partial_and_names_it(cfg, tmp_path):
    d = tmp_path / "mixed"; d.mkdir()
    (d / "GOOD.csv").write_text(H + "2024-01-01,100,101,99,100,10\n")
    (d / "BAD.csv").write_bytes(_xlsx())
    out = runner.invoke(app, ["ingest", "--source", "csv", "--path", str(d)])
    assert out.exit_code == EXIT_PARTIAL
    assert "failed mixed/BAD.csv: excel_workbook" in " ".join(out.output.split())
    with BarStore(cfg) as st:
        log = st.table("ingest_log")
    assert log[log.symbol.isna()].status.tolist() == ["partial"]
    all_bad = tmp_path / "allbad"; all_bad.mkdir(); (all_bad / "X.csv").write_text("")
    assert runner.invoke(app, ["ingest", "--source", "csv", "--path", str(all_bad)]).exit_code == EXIT_FAILED


def test_timeframe_4h_and_5m_give_a_message(cfg):
    for tf, text in (("4h", "built from stored 15m bars"), ("5m", "aggregated into 15m bars")):
        out = runner.invoke(app, ["ingest", "--source", "csv", "--path", str(FIX / "INFY_5minute.csv"), "--timeframe", tf])
        assert out.exit_code == 1 and text in " ".join(out.output.split()) and "Traceback" not in out.output


KILLER = """
import os, signal, sys
from unittest import mock
from aitrader.core.config import get_config
from aitrader.data import store
from aitrader.data.ingest import ingest
n, real = [0], store.write_parquet_atomic
def dying(df, path):
    real(df, path); n[0] += 1
    if n[0] == int(os.environ["KILL_AFTER"]): os.kill(os.getpid(), signal.SIGKILL)   # kill -9 mid-store
with mock.patch.object(store, "write_parquet_atomic", dying):
    ingest(get_config(), "csv", sys.argv[1], "1d", progress=False)
"""


def _folder(d: Path, n: int = 24) -> Path:
    d.mkdir()
    days = pd.bdate_range("2024-01-01", periods=30)
    for k in range(n):
        c = 100 + k + np.arange(30) * 0.5
        rows = [f"{t:%Y-%m-%d},{x:.2f},{x + 1:.2f},{x - 1:.2f},{x:.2f},1000" for t, x in zip(days, c)]
        rows[5] = rows[5].replace(",1000", ",-5")            # one bad row per file: quarantined
        (d / f"S{k:02d}.csv").write_text(H + "\n".join(rows) + "\n")
    return d


def _snapshot(home: Path):
    cfg = get_config({"AITRADER_HOME": str(home)})
    with BarStore(cfg) as st:
        bars = {s: read_series(st.path("1d", s)).drop(columns=[]) for s in st.symbols("1d")}
        q = st.table("bars_quarantine")[["symbol", "ts", "rule", "src_file", "src_line", "src_hash"]]
        log = st.table("ingest_log")
    return bars, q.sort_values(["src_file", "src_line"]).reset_index(drop=True), log


def test_kill_9_mid_store_then_rerun_equals_uninterrupted(tmp_path):
    src = _folder(tmp_path / "in")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "AITRADER_HOME": str(tmp_path / "killed"), "KILL_AFTER": "9"}
    p = subprocess.run([sys.executable, "-c", KILLER, str(src)], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr
    half, _, log0 = _snapshot(tmp_path / "killed")
    assert len(half) == 9 and log0[log0.symbol.isna()].status.tolist() == ["running"]   # killed: the run shows as running
    ingest(get_config({"AITRADER_HOME": str(tmp_path / "killed")}), "csv", src, "1d", progress=False)   # the re-run repairs
    ingest(get_config({"AITRADER_HOME": str(tmp_path / "clean")}), "csv", src, "1d", progress=False)
    (b1, q1, log1), (b2, q2, _) = _snapshot(tmp_path / "killed"), _snapshot(tmp_path / "clean")
    assert sorted(b1) == sorted(b2) and len(b1) == 24
    for s in b1: pd.testing.assert_frame_equal(b1[s], b2[s])
    pd.testing.assert_frame_equal(q1, q2)
    assert log1[log1.symbol.isna()].status.tolist() == ["interrupted", "done"]
