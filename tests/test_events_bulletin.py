"""Events from the exchange's own bulletins (issue #27) on the real NSE bulletin files of 16-18 December 2025: every
physical line accounted for (event, set aside, quarantined with its rule), idempotent re-ingest, board meetings in the
earnings blackout, playbooks applied by the allocator, the fast path from one line to updated cards, the tagger
measurement; and malformed, oversized and duplicated input, each quarantined with rule, file and line."""

import json
from pathlib import Path
import pandas as pd
import pytest
from typer.testing import CliRunner
from aitrader.core.config import get_config

CLI = ["ingest-events", "--source", "nse-bulletin", "--path"]


@pytest.fixture(scope="module")
def bul():
    d = get_config().data_dir
    if d is None or not (d / "bulletin").is_dir():
        pytest.skip("no NSE bulletin folder: set AITRADER_DATA_DIR (needs nse/bulletin/)")
    return d / "bulletin"


@pytest.fixture(scope="module")
def parsed(bul):
    from aitrader.desk.bulletin import read_bulletin

    return read_bulletin(bul)


def run(*args):
    from aitrader.cli.main import app

    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


# --- the real files -------------------------------------------------------------------------------------------------
def test_real_counts(parsed):
    ev, aside, q = parsed.frames()
    assert ev.kind.value_counts().to_dict() == {"announcement": 1440, "board_meeting": 69, "corporate_action": 31}
    assert ev[ev.kind == "corporate_action"].event_id.nunique() == 13  # the same actions listed day after day
    assert (aside.reason == "mf_nav").sum() == 1363 and aside.reason.str.startswith("series:").sum() == 484
    assert q.rule.value_counts().to_dict() == {"duplicate_record": 38, "missing_ex_date": 2}
    assert int((ev.n_lines > 1).sum()) == 43  # wrapped gists joined
    assert q.src_line.gt(1).all() and q.src_file.str.match(r"^(an|bc|bm)\d{8}\.(txt|csv)$").all()


def test_every_line_accounted_for(bul, parsed):
    "Announcement and board-meeting records, and corporate-action rows, are each an event, set aside or quarantined."
    import csv, io
    from aitrader.desk.bulletin import records

    ev, aside, q = parsed.frames()
    for f in sorted(bul.iterdir()):
        got = sum((x.src_file == f.name).sum() for x in (aside, q))
        if f.name.startswith("bc"):
            rows = [r for r in csv.reader(io.StringIO(f.read_text())) if any(c.strip() for c in r)][1:]
            got += ev[ev.src_file == f.name].series.str.split(",").str.len().sum()
            assert got == len(rows), f.name
        else:
            assert got + (ev.src_file == f.name).sum() == len([r for r in records(f.read_bytes()) if r[2]]), f.name


def test_wrapped_gist_joined(bul, parsed):
    "A record wrapped over physical lines is one event whose text holds every line, joined by a space."
    ev = parsed.frames()[0]
    w = ev[ev.n_lines > 1]
    assert len(w) == 43 and ev.text.str.contains("\r|\n").sum() == 0
    for r in w.head(10).itertuples():
        lines = (bul / r.src_file).read_bytes().decode().split("\n")[r.src_line - 1 : r.src_line - 1 + r.n_lines]
        assert lines[0].endswith("\r") and not lines[-1].endswith("\r")
        assert lines[-1].strip() in r.text, (r.src_file, r.src_line)


def test_ingest_idempotent_and_blackout(home, bul, backend):
    "On DuckDB and on PostgreSQL."
    from aitrader.desk.audit import audit_log
    from aitrader.desk.bulletin_store import bulletin_counts
    from aitrader.desk.events import blackout

    out = run(*CLI, bul, "--tagger", "rules")
    assert "'events': 1522" in out and "'quarantine': 40" in out, out
    cfg = get_config()
    c1, n1 = bulletin_counts(cfg), len(audit_log(cfg))
    out = run("ingest-events", "--path", bul, "--tagger", "rules")  # layout recognised from the files
    assert "added {'events': 0, 'aside': 0, 'quarantine': 0, 'desk_events': 0}" in out, out
    assert bulletin_counts(cfg) == c1 and len(audit_log(cfg)) == n1  # the second run changes nothing
    assert c1["events"] == {"announcement": 1440, "board_meeting": 69, "corporate_action": 13}
    b = blackout(cfg, "2026-01-12", 5)
    assert b["INFY"].startswith("RESULTS 2026-01-14") and "ANGELONE" in b  # board meetings for results
    b = blackout(cfg, "2025-12-17", 3)
    assert b["UNIVASTU"].startswith("BOARD_MEETING 2025-12-19: Board meeting: Fund Raising")
    assert "MSUMI" not in b  # 'Other business matters' only


def test_playbooks_in_the_allocator(home, bul):
    from aitrader.desk.accounts import Mandate
    from aitrader.desk.allocator import AccountState, allocate
    from aitrader.desk.bulletin_store import ingest_bulletin
    from aitrader.desk.playbooks import playbook_vetoes

    cfg = get_config()
    ingest_bulletin(cfg, bul, "rules")
    v = playbook_vetoes(cfg, "2025-12-18")
    assert v["LALPATHLAB"].startswith("playbook split_bonus_in_horizon: BONUS 2025-12-19 (in 1 session)")
    assert v["VCL"].startswith("playbook negative_news") and v["VIDYAWIRES"].startswith("playbook results_ahead")
    assert "IOC" not in v  # an ex-dividend date is a note, not a block
    syms = ["LALPATHLAB", "IOC"]
    sig = pd.DataFrame(
        dict(
            id=[f"x:{s}" for s in syms],
            symbol=syms,
            direction="BUY",
            confidence=0.8,
            exp_ret_3d=0.01,
            exp_ret_5d=0.01,
            exp_ret_10d=0.01,
            p_fail=0.3,
            entry=[100.0, 150.0],
            atr14=[2.0, 3.0],
        )
    )
    mk = pd.DataFrame(dict(symbol=syms, close=[100.0, 150.0], adv20=1e10, vol_ann=0.25))
    p = allocate(
        sig, Mandate(), AccountState(1e6, 1e6), mk, {}, vetoes=playbook_vetoes(cfg, "2025-12-18", syms)
    ).set_index("symbol")
    assert (
        p.decision.to_dict() == {"IOC": "CARD", "LALPATHLAB": "SKIP"}
        and "split_bonus_in_horizon" in p.reason["LALPATHLAB"]
    )


def test_default_tagger_tags_out_of_day(home, bul):
    "Each day is tagged by a learned tagger fitted on the other days only; a first lone day falls back to the rules."
    from aitrader.desk.bulletin_store import bulletin_events, ingest_bulletin
    cfg = get_config()
    assert ingest_bulletin(cfg, [bul / "an16122025.txt"])["tagger"] == "rules"  # no other day to learn from
    assert ingest_bulletin(cfg, [bul / "an17122025.txt"])["tagger"] == "tfidf-lr"  # fitted on the 16th only
    e = bulletin_events(cfg, kind="announcement")
    assert e.groupby("bulletin_date").tagger.first().tolist() == ["rules", "tfidf-lr"]
    g = e[e.nse_type == "GENERAL"]
    assert g.tag_type.ne("GENERAL").sum() > 0 and (g.event_type == g.tag_type).all()  # catch-alls read by the tagger


def test_tagger_eval_cli(home, bul):
    out = " ".join(run("events", "tagger-eval", "--path", bul).split())  # rich wraps long titles
    assert "rules (fixed rules, not trained), tested on 2025-12-18" in out
    assert "tfidf-lr (trained on 2025-12-16, 2025-12-17), tested on 2025-12-18" in out


def test_learned_tagger_is_the_better_default(parsed):
    from aitrader.desk.tagger import DEFAULT_TAGGER, evaluate_taggers

    t = evaluate_taggers(parsed.frames()[0]).set_index(["tagger", "test_day"])
    assert DEFAULT_TAGGER == "tfidf-lr"
    assert t.loc[("tfidf-lr", "all"), "accuracy"] > t.loc[("rules", "all"), "accuracy"]
    assert t.loc[("tfidf-lr", "all"), "macro_f1"] > t.loc[("rules", "all"), "macro_f1"]


def test_cross_check_with_the_bar_store(home, data_dir):
    "Bulletin-shaped rows against the real unadjusted HDFCBANK bars (1:5 split on 2011-07-14), one status each."
    from aitrader.data.ingest import ingest
    from aitrader.data.store import BarStore
    from aitrader.desk.bulletin import Bulletin, parse_actions
    from aitrader.desk.bulletin_store import cross_check

    cfg = get_config()
    ingest(cfg, "csv", data_dir / "unadjusted" / "HDFCBANK.csv", "1d", adjusted=False, progress=False)
    b = Bulletin()
    rows = (
        "EQ,HDFCBANK,HDFC Bank,2011-07-13,,,2011-07-14,,,FVSPLT FRM RS 10 TO RS 2\n"
        "EQ,HDFCBANK,HDFC Bank,2011-07-13,,,2011-07-14,,,BONUS 1:1\n"
        "EQ,HDFCBANK,HDFC Bank,2015-01-01,,,2015-01-01,,,BONUS 1:1\n"
        "EQ,HDFCBANK,HDFC Bank,2030-01-01,,,2030-01-01,,,BONUS 1:1\n"
        "EQ,HDFCBANK,HDFC Bank,2030-01-01,,,2030-01-01,,,INTDIV - RS 5 PER SH\n"
        "EQ,LALPATHLAB,Dr Lal,2025-12-19,,,2025-12-19,,,BONUS 1:1\n"
    )
    parse_actions(b"SERIES\n" + rows.encode(), pd.Timestamp("2011-07-13"), b, "bc13072011.csv")
    with BarStore(cfg) as st:
        det, cov = st.table("corporate_actions"), st.status()
    x = cross_check(b.frames()[0], det, cov[cov.timeframe == "1d"])
    assert x.status.tolist() == [
        "match",
        "ratio_mismatch",
        "missing_in_bars",
        "no_overlap",
        "not_checked",
        "no_bars",
    ], x


# --- malformed, oversized and duplicated input ------------------------------------------------------------------------
AN_HEAD = b"COMPANY NAME    SYMBOL    : ANNOUNCEMENTS\n"


def write_bad(tmp: Path) -> Path:
    d = tmp / "bad"
    d.mkdir()
    good = (
        b"Tata Consultancy Services Limited TCS : Updates TCS : TCS has informed the Exchange about a purchase order\n"
    )
    (d / "an01122025.txt").write_bytes(
        AN_HEAD
        + good  # line 2
        + b"no delimiter here at all\n"  # 3 no_symbol
        + b"Lower Case Ltd tcs1 : Updates tcs1 : lower-case symbol\n"  # 4 bad_symbol
        + b"Big Ltd BIG : Updates BIG : "
        + b"x" * 25_000
        + b"\n"  # 5 oversized_record
        + good  # 6 duplicate_record
        + b"Odd Ltd ODD : Nothing NSE files has informed the Exchange\n"  # 7 category_undelimited
        + b"Empty Ltd EMPTY : Updates EMPTY : \n"  # 8 empty_gist
        + b"Wrap Ltd WRAP : Resignation WRAP : Mr. A has resigned as\r\nChief Financial Officer\n"  # 9-10 joined
        + b"Bin Ltd BIN : Updates BIN : \xff\xfe\x00 bytes that are not UTF-8\n"
    )  # 11 kept, replaced
    (d / "bc01122025.csv").write_bytes(
        b"SERIES,SYMBOL,SECURITY,RECORD_DT,BC_STRT_DT,BC_END_DT,EX_DT,ND_STRT_DT,ND_END_DT,PURPOSE\n"
        b"EQ,IOC,Indian Oil,2025-12-18,,,2025-12-18,,,INTDIV - RS 5 PER SH\n"  # 2 event
        b"EQ,IOC,Indian Oil,2025-12-18,,,2025-12-18\n"  # 3 wrong_field_count
        b"EQ,IOC,Indian Oil,2025-12-18,,,18/12/2025,,,INTDIV - RS 5 PER SH\n"  # 4 bad_date
        b"EQ,IOC,Indian Oil,2025-12-18,,,2025-12-18,,,FREE LUNCH\n"  # 5 unknown_purpose
        b"EQ,IOC,Indian Oil,2025-12-18,,,2025-12-18,,,INTDIV - RS 5 PER SH\n"  # 6 duplicate_record
        b"NC,1003IIFL29,NCD,2025-12-17,,,2025-12-17,,,INTEREST PAYMENT\n"
    )  # 7 aside
    (d / "bm01122025.txt").write_bytes(
        b"COMPANY NAME    SYMBOL     : BM DATE    : BM PURPOSE\n"
        b"Infosys Limited INFY : 14-JAN-2026 : Financial Results To consider results\n"  # 2 event
        b"Infosys Limited INFY : 31-FEB-2026 : Financial Results To consider results\n"  # 3 bad_date
        b"Infosys Limited INFY : 14-JAN-2026 : Lunch with the board\n"
    )  # 4 unknown_purpose
    (d / "notes01122025.txt").write_bytes(b"these are my notes\n")  # unknown_layout
    (d / "an_undated.txt").write_bytes(AN_HEAD + good)  # no_file_date
    return d


def test_malformed_input_quarantined(tmp_path):
    from aitrader.desk.bulletin import read_bulletin

    ev, aside, q = read_bulletin(write_bad(tmp_path)).frames()
    got = sorted(zip(q.src_file, q.src_line, q.rule))
    assert got == sorted(
        [
            ("an01122025.txt", 3, "no_symbol"),
            ("an01122025.txt", 4, "bad_symbol"),
            ("an01122025.txt", 5, "oversized_record"),
            ("an01122025.txt", 6, "duplicate_record"),
            ("an01122025.txt", 7, "category_undelimited"),
            ("an01122025.txt", 8, "empty_gist"),
            ("bc01122025.csv", 3, "wrong_field_count"),
            ("bc01122025.csv", 4, "bad_date"),
            ("bc01122025.csv", 5, "unknown_purpose"),
            ("bc01122025.csv", 6, "duplicate_record"),
            ("bm01122025.txt", 3, "bad_date"),
            ("bm01122025.txt", 4, "unknown_purpose"),
            ("notes01122025.txt", 1, "unknown_layout"),
            ("an_undated.txt", 1, "no_file_date"),
        ]
    ), got
    assert q.detail.str.len().max() <= 500 and q[q.rule == "oversized_record"].detail.iat[0].startswith("25028 chars")
    assert "same as line 2" in q[(q.rule == "duplicate_record") & (q.src_file == "an01122025.txt")].detail.iat[0]
    assert sorted(zip(ev.src_file, ev.src_line)) == [
        ("an01122025.txt", 2),
        ("an01122025.txt", 9),
        ("an01122025.txt", 11),
        ("bc01122025.csv", 2),
        ("bm01122025.txt", 2),
    ]
    w = ev[ev.symbol == "WRAP"].iloc[0]
    assert w.text == "Mr. A has resigned as Chief Financial Officer" and w.n_lines == 2
    assert aside.reason.tolist() == ["series:NC"]


def test_malformed_input_stored_with_rule_file_line(home, tmp_path, backend):
    from aitrader.desk.audit import AUDIT_DDL, desk_db
    from aitrader.desk.bulletin_store import BULLETIN_DDL, bulletin_events

    d = write_bad(tmp_path)
    run(*CLI, d, "--tagger", "rules")
    run(*CLI, d, "--tagger", "rules")
    with desk_db(get_config(), AUDIT_DDL, BULLETIN_DDL) as db:
        q = db.all("SELECT src_file, src_line, rule, detail FROM bulletin_quarantine ORDER BY src_file, src_line")
    assert len(q) == 14 and ("an01122025.txt", 5, "oversized_record") in [r[:3] for r in q]
    e = bulletin_events(get_config())
    assert len(e) == 5 and e.set_index("symbol").loc["WRAP", "stance_rule"] == "key_officer_resignation"


def test_duplicated_files_change_nothing(home, bul, tmp_path):
    "The same day's files copied under a second folder (and each line repeated inside a copy) add no event."
    import shutil
    from aitrader.desk.bulletin_store import bulletin_counts

    run(*CLI, bul, "--tagger", "rules")
    c = bulletin_counts(get_config())
    d = tmp_path / "copy"
    d.mkdir()
    shutil.copy(bul / "an16122025.txt", d / "an16122025.txt")
    raw = (bul / "bm17122025.txt").read_bytes()
    (d / "bm17122025.txt").write_bytes(raw + raw.split(b"\n", 1)[1])  # every record twice
    run(*CLI, d, "--tagger", "rules")
    c2 = bulletin_counts(get_config())
    assert c2["events"] == c["events"] and c2["aside"] == c["aside"]
    assert c2["quarantine"]["duplicate_record"] > c["quarantine"]["duplicate_record"]  # the repeats, by file and line


# --- the fast path on real cards --------------------------------------------------------------------------------
def publish_test_signals(cfg, day, symbols):
    "BUY rows for `symbols` on `day`: entry = the real close, ATR14 from the real bars; TEST rows, never model output."
    from aitrader.data.window import read_window
    from aitrader.signals.store import SignalStore

    d = pd.Timestamp(day)
    b = read_window(cfg, symbols, d - pd.Timedelta(days=40), d)
    rows = []
    for s, g in b.groupby("symbol"):
        tr = pd.concat([g.high - g.low, (g.high - g.close.shift()).abs(), (g.low - g.close.shift()).abs()], axis=1).max(
            axis=1
        )
        e, atr = float(g.close.iat[-1]), float(tr.tail(14).mean())
        rows.append(
            dict(
                symbol=s,
                direction="BUY",
                confidence=0.8,
                exp_ret_3d=0.006,
                exp_ret_5d=0.01,
                exp_ret_10d=0.015,
                p_fail=0.3,
                entry=e,
                stop_loss=e - 1.5 * atr,
                take_profit=e + 3 * atr,
                risk_reward=2.0,
                atr14=atr,
                vol_10d=0.02,
                tf_align=[1, 0, 0, 0, 0],
                smc_flags={},
                reasons=[f"BUY: TEST row for {s}"],
                model_version="TEST",
                feature_schema_hash="TEST",
                kronos_status="disabled",
            )
        )
    st = SignalStore(cfg)
    with st.run("daily", d.date()) as rid:
        st.publish_signals(rid, d.date(), pd.DataFrame(rows), drop_events=True)


def desk_with_cards(cfg, data_dir, day, syms, signal_syms):
    from aitrader.desk.accounts import FundingPlan, Mandate, create_account
    from aitrader.desk.funding import apply_funding
    from aitrader.desk.cards import make_cards
    from aitrader.testing import ingest_real

    ingest_real(cfg, data_dir, syms)
    for a in ("a", "b"):
        create_account(
            cfg,
            a.upper(),
            "LUMP_SUM",
            Mandate(),
            FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6, tranches=[1.0]),
            "tester",
            account_id=a,
        )
        apply_funding(cfg, a, "2024-10-01")
    publish_test_signals(cfg, day, signal_syms)
    return make_cards(cfg, day)


def test_fast_path_line_to_cards(home, data_dir, bul):
    from aitrader.desk.audit import audit_log
    from aitrader.desk.cards import cards, make_cards
    from aitrader.desk.fastpath import FastPath

    cfg, d = get_config(), "2024-10-14"
    made = desk_with_cards(cfg, data_dir, d, ["TCS", "COALINDIA"], ["TCS"])
    assert set(made.symbol) == {"TCS"} and set(made.account_id) == {"a", "b"}
    fp = FastPath(cfg)  # nothing stored yet: the rule tagger
    line = next(l for l in (bul / "an17122025.txt").read_text().splitlines() if " TCS : " in l)  # a real TCS line
    r = fp.on_line(line, d)
    assert r["event"]["symbol"] == "TCS" and len(r["cards"]) == 2 and r["ms"]["total"] < 5000
    c = cards(cfg, "PENDING", day=d)
    assert all(r["event"]["event_id"] in w[-1] for w in c.warnings)
    n = len(audit_log(cfg, kind="card"))
    assert fp.on_line(line, d)["cards"] == [] and len(audit_log(cfg, kind="card")) == n  # the same line again: nothing
    neg = "Tata Consultancy Services Limited TCS : Resignation TCS : Mr. X has resigned as Chief Financial Officer"
    r = fp.on_line(neg, d)
    assert r["event"]["stance"] == "NEGATIVE" and len(r["cards"]) == 2
    cl = {x["check"]: x for x in cards(cfg, "PENDING", day=d, account_id="a").checklist.iat[0]}
    assert cl["event window"]["ok"] is False and "negative_news" in cl["event window"]["note"]
    r = fp.on_line(
        neg.replace("Tata Consultancy Services Limited TCS", "Coal India Limited COALINDIA").replace(
            "TCS :", "COALINDIA :"
        ),
        d,
    )
    assert r["event"]["symbol"] == "COALINDIA" and r["cards"] == []  # no card of that symbol anywhere
    d2 = "2024-10-15"  # the next session: the playbook refuses a new entry
    publish_test_signals(cfg, d2, ["COALINDIA"])
    assert make_cards(cfg, d2).empty
    al = json.loads(audit_log(cfg, kind="allocation", account_id="a").payload.iat[-1])
    assert al["skipped"]["COALINDIA"].startswith("playbook negative_news: Resignation 2024-10-14 (1 session ago)"), al
