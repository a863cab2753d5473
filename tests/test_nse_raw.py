"""The raw NSE daily-price files (nse/nifty500_raw, issue 23) on the real data.

One ingest of all 496 files into a fresh store (about 2 minutes on 2 cores) serves every test; skipped with a
message when the data folder is absent. Tests run in file order: the re-ingest and the Yahoo ingest come last.
"""
import numpy as np, pandas as pd
import pytest
from typer.testing import CliRunner
from aitrader.core.config import get_config
from aitrader.cli.main import app
from aitrader.data.ingest import ingest, data_status
from aitrader.data.store import BarStore
from aitrader.data.corporate_actions import return_match

IST = "Asia/Kolkata"
runner = CliRunner()


def _raw_dir():
    d = get_config().data_dir
    if d is None or not (d / "nifty500_raw").is_dir():
        pytest.skip("SKIP: no nse/nifty500_raw folder (set AITRADER_DATA_DIR to the shared NSE data)")
    return d / "nifty500_raw"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    "(cfg, report, monkeypatched env) of one ingest of every raw file into a fresh AITRADER_HOME."
    path = _raw_dir()
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("AITRADER_HOME", str(home))
    mp.delenv("AITRADER_SOURCE_PRIORITY", raising=False)
    cfg = get_config({"AITRADER_HOME": str(home)})
    rep = ingest(cfg, "csv", path, "1d", progress=False)
    yield cfg, rep
    mp.undo()


def _bars(cfg, symbol, start=None, end=None):
    with BarStore(cfg) as st: return st.bars(symbol, "1d", start=start, end=end)


def _ret(cfg, symbol, day):
    "Close-to-close return into `day` (from the bar before it)."
    b = _bars(cfg, symbol, end=day).tail(2)
    assert str(b.ts.iat[-1].date()) == day
    return b.close.iat[-1] / b.close.iat[-2] - 1


def test_every_row_is_a_bar_or_a_reject(raw):
    cfg, rep = raw
    assert (rep.status, rep.exit_code, rep.symbols, rep.failed) == ("done", 0, 496, {})
    q = rep.rejected
    print("rows kept:", rep.total("new"), "quarantined by rule:", q)
    assert {"other_series", "duplicate_date", "zero_price"} <= set(q)
    assert q["other_series"] == rep.other_series > 100_000   # BE/BL, bonds, odd lots, rows before a listing
    assert rep.total("read") == 1_849_044                    # every data line of the 496 files
    assert rep.total("new") + rep.total("quarantined") == rep.total("read")


def test_data_status_counts_rules(raw):
    cfg, _ = raw
    r = runner.invoke(app, ["data", "status"])
    assert r.exit_code == 0, r.output
    assert "quarantined by rule:" in r.output and "other_series=" in r.output


def test_no_step_at_known_actions(raw):
    cfg, _ = raw
    known = [("RELIANCE", "2017-09-07"), ("TCS", "2018-05-31"), ("HDFCBANK", "2019-09-20"), ("ASTRAL", "2021-03-18")]
    for sym, day in known:
        assert abs(_ret(cfg, sym, day)) < 0.1, (sym, day)
    assert _bars(cfg, "HDFCBANK", "2019-09-19", "2019-09-19").empty          # missing in the file, not invented


def test_actions_listed(raw):
    cfg, _ = raw
    r = runner.invoke(app, ["data", "actions", "HDFCBANK", "--format", "csv"])
    assert r.exit_code == 0, r.output
    from io import StringIO
    a = pd.read_csv(StringIO(r.output))
    assert list(a.columns) == ["symbol", "ex_date", "factor", "kind", "evidence"]
    assert a.loc[a.ex_date == "2019-09-19", "factor"].tolist() == [0.5]    # across the missing session
    r = runner.invoke(app, ["data", "actions", "ADANIENT", "--format", "csv"])
    a = pd.read_csv(StringIO(r.output))
    assert a[(a.ex_date == "2023-02-02") & a.factor.notna()].empty          # the crash is no bonus
    r = runner.invoke(app, ["data", "actions", "ASTRAL", "--format", "csv"])
    a = pd.read_csv(StringIO(r.output))
    assert a.loc[a.ex_date == "2021-03-18", "factor"].tolist() == [0.75]


def test_one_bar_a_date_eq_row(raw):
    cfg, _ = raw
    b = _bars(cfg, "TCS", "2024-01-25", "2024-01-25")
    assert b.volume.tolist() == [2_205_154.0]                               # the EQ row, not the flat odd lot
    assert str(_bars(cfg, "IRFC").ts.min().date()) == "2021-01-29"          # the bond rows before are rejects


def test_returns_agree_with_yahoo(raw):
    cfg, _ = raw
    from aitrader.data.csv_source import read_csv_folder
    y = read_csv_folder(cfg.data_dir / "daily", progress=False).bars
    with BarStore(cfg) as st: b = st.bars(sorted(set(y.symbol) & set(st.symbols("1d"))), "1d")
    m = return_match(b, y, start="2012-01-01", end="2024-03-28", tol=0.005)
    assert len(m) >= 45
    share = (m.share * m.dates).sum() / m.dates.sum()
    print(f"Yahoo agreement: {share:.4%} of {m.dates.sum()} dates, worst symbol {m.share.min():.4f}")
    assert share >= 0.995 and m.share.min() >= 0.99


def test_point_in_time_universe(raw):
    cfg, _ = raw
    from aitrader.data.pit_universe import universe_members, universe_at_rebalances, universe_table
    u = universe_table("2010-06-30", 200, cfg)
    assert len(u) == 200 and (pd.to_datetime(u.first_bar) <= pd.Timestamp("2009-07-01")).all()
    assert "IRFC" not in universe_members("liquid400", "2020-12-31", cfg)   # listed in 2021
    assert "IRFC" in universe_members("liquid400", "2023-12-29", cfg)
    r = universe_at_rebalances("liquid100", ["2015-01-01", "2020-01-01"], cfg)
    assert r.groupby("date").size().tolist() == [100, 100]
    out = runner.invoke(app, ["universe", "--as-of", "2024-03-28", "--top", "5", "--format", "csv"])
    assert out.exit_code == 0 and out.output.splitlines()[0] == "symbol,rank,median_traded_value_inr,first_bar"


def test_universe_mask_is_point_in_time(raw):
    "The liquid200 membership of every row equals the one computed on bars truncated at that row's date."
    cfg, _ = raw
    from aitrader.data.pit_universe import universe_mask, universe_symbols, universe_table
    with BarStore(cfg) as st:
        bars = st.bars(None, "1d", start="2016-01-01", end="2020-12-31")
    m = universe_mask("liquid200", bars, cfg)
    per_day = pd.Series(m).groupby(bars.ts.to_numpy()).sum()
    assert per_day.max() <= 200 and per_day[per_day.index >= pd.Timestamp("2018-01-01", tz=IST)].min() >= 190
    cut = pd.Timestamp("2019-06-14", tz=IST)
    early = (bars.ts <= cut).to_numpy()
    m_cut = universe_mask("liquid200", bars[early].reset_index(drop=True), cfg)
    assert (m_cut == m[early]).all()   # later bars change no earlier membership
    first = bars.ts[early].min()
    assert not m[(bars.ts < first + pd.Timedelta(days=300)).to_numpy()].any()   # 250 prior sessions needed
    on = sorted(universe_table("2020-06-30", 100, cfg).symbol)
    assert universe_symbols("liquid100", cfg, "2020-06-30") == on and len(on) == 100


def test_session_members_follow_the_monthly_rebalance(raw):
    cfg, _ = raw
    from aitrader.data.pit_universe import session_members, universe_table
    members = session_members("liquid100", "2021-01-13", "2021-03-31", cfg)
    assert members("2021-01-20") == sorted(universe_table("2021-01-13", 100, cfg).symbol)   # the window's first day
    assert members("2021-02-26") == sorted(universe_table("2021-02-01", 100, cfg).symbol)   # February's rebalance
    assert members("2021-03-01") != members("2021-02-26")                                   # March re-ranked


def test_bars_machine_readable(raw):
    r = runner.invoke(app, ["bars", "TCS", "--tail", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    from io import StringIO
    d = pd.read_json(StringIO(r.output))
    assert len(d) == 2 and d.close.iat[-1] == 3876.3


def test_reingest_changes_nothing(raw):
    cfg, rep = raw
    s1 = data_status(cfg)
    with BarStore(cfg) as st: n1 = {t: len(st.table(t)) for t in ("bars_quarantine", "corporate_actions")}
    r2 = ingest(cfg, "csv", _raw_dir(), "1d", progress=False)
    assert (r2.total("new"), r2.total("conflicts"), r2.total("quarantine_new"), r2.status) == (0, 0, 0, "done")
    pd.testing.assert_frame_equal(s1, data_status(cfg))
    with BarStore(cfg) as st: assert n1 == {t: len(st.table(t)) for t in ("bars_quarantine", "corporate_actions")}


def test_raw_outranks_yahoo(raw):
    "Yahoo's NIFTY 50 files ingested after the raw set: the exchange's bars (kind nse) are kept, conflicts listed."
    cfg, _ = raw
    r = ingest(cfg, "csv", cfg.data_dir / "daily", "1d", progress=False)
    assert r.status == "done"
    with BarStore(cfg) as st:
        c = st.conflict_summary()
        tcs = st.bars("TCS", "1d", "2024-03-28", "2024-03-28")
    assert tcs.volume.tolist() == [4_311_783.0]
    if len(c): assert set(c.kept.str.split(",").explode()) <= {"nse"} | {"yahoo"} and "nse" in set(c.kept)


def test_empty_folder_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path / "home"))
    d = tmp_path / "nothing"; d.mkdir(); (d / "README.txt").write_text("no data")
    r = runner.invoke(app, ["ingest", "--source", "csv", "--path", str(d), "--timeframe", "1d"])
    assert r.exit_code == 1 and "no_files" in r.output
