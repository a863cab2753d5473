"""Run two desk accounts through the sessions of a month on the stored signals (issue #16's demonstration).

Usage: AITRADER_HOME=<home with the month's signals> python scripts/desk_october.py [start end] [--no-eod]
Accounts: an aggressive weekly SIP (MAX_PROFIT) and a conservative lump sum in three tranches (RISK_MINIMIZED, earnings
blackout, a banned sector). Each session: `run_session` (funding, brackets to the close, cards synced, risk and kill
switches, new cards); then this script plays the person at the desk: it approves a card whose checklist has at most one
warning and whose rank is within the account's first two, and rejects the others with the reason; then the `eod` job.
Prints the month of both accounts side by side.
"""
import sys, time
import pandas as pd
from aitrader.core.config import get_config, project_root
from aitrader.core.calendar import nse_sessions
from aitrader.desk.accounts import FundingPlan, Mandate, accounts, create_account
from aitrader.desk.audit import verify
from aitrader.desk.approval import approve, reject, CardRefused
from aitrader.desk.cards import cards
from aitrader.desk.eod import run_session, eod_report
from aitrader.desk.events import ingest_events
from aitrader.desk.risk import kill_events, snapshots
from aitrader.jobs.catalog import run as run_job

args = [a for a in sys.argv[1:] if not a.startswith("--")]
start, end = (args + ["2024-10-01", "2024-10-31"])[:2]
cfg, person = get_config(), "desk-operator"
if "sip-aggressive" not in set(accounts(cfg, None).account_id):
    create_account(cfg, "SIP aggressive 24m", "SIP",
                   Mandate(objective="MAX_PROFIT", risk_per_trade_pct=0.015, max_positions=8, max_sector_pct=0.5, horizon_min=3, horizon_max=10,
                           stop_atr=1.5, target_atr=3.0, trailing=True, trail_atr=2.0, vol_target=0.25, kelly_fraction=0.5,
                           max_daily_loss_pct=0.03, max_drawdown_pct=0.15, vol_spike=2.5),
                   FundingPlan("SIP", start, sip_amount=50_000, sip_frequency="weekly", carry_forward=True, emergency_buffer_pct=0.05),
                   person, account_id="sip-aggressive")
    create_account(cfg, "Lump sum conservative", "LUMP_SUM",
                   Mandate(objective="RISK_MINIMIZED", risk_per_trade_pct=0.005, max_positions=5, max_sector_pct=0.3, horizon_min=5, horizon_max=10,
                           banned_sectors=["Metals & Mining"], blackout_days=3, liquidity_floor=50e7, stop_atr=2.0, target_atr=3.0,
                           trailing=False, vol_target=0.12, kelly_fraction=0.25, max_daily_loss_pct=0.015, max_drawdown_pct=0.08, vol_spike=2.0),
                   FundingPlan("LUMP_SUM", start, lump_amount=10_00_000, tranches=[0.4, 0.3, 0.3], tranche_every=5, emergency_buffer_pct=0.1),
                   person, account_id="lump-conservative")
    print(ingest_events(cfg, [project_root() / "tests" / "fixtures" / "events_2024_10.csv", project_root() / "tests" / "fixtures" / "events_2024_10.json"]))
for d in nse_sessions(start, end):
    t = time.perf_counter()
    s = run_session(cfg, d)
    ok = rej = 0
    for c in cards(cfg, status="PENDING", day=d).itertuples():
        try:
            if c.rank <= 2 and len(c.warnings) <= 1: approve(cfg, c.card_id, person, day=d); ok += 1
            else: reject(cfg, c.card_id, person, f"script: rank {c.rank}, {len(c.warnings)} warning(s): {'; '.join(c.warnings)[:200]}"); rej += 1
        except CardRefused as e: print("  refused:", e)
    eod = "" if "--no-eod" in sys.argv else run_job("eod", {"run_date": f"{d:%Y-%m-%d}"}, cfg)
    print(f"{d:%Y-%m-%d} session {s} approved {ok} rejected {rej} eod {getattr(eod, 'status', '-')} {time.perf_counter() - t:.1f}s", flush=True)
last = nse_sessions(start, end)[-1]
rep = eod_report(cfg, last)
from aitrader.desk.book import desk_brackets
brk, allc = desk_brackets(cfg), cards(cfg)
sn = snapshots(cfg, kind="eod")
side, kev = {}, kill_events(cfg)
for a in accounts(cfg).account_id:
    r = rep["summary"].set_index("account_id").loc[a]
    b = brk[(brk.account == f"desk:{a}") & (brk.status == "CLOSED")]
    pnl = pd.to_numeric(b.net_pnl, errors="coerce")
    c = allc[allc.account_id == a]
    s_ = sn[sn.account_id == a]
    side[a] = {"capital INR": r.capital, "equity INR": r.equity, "P&L INR": r.pnl, "P&L % of capital": 100 * r.pnl / r.capital,
               "max drawdown %": 100 * s_.drawdown.max(), "cards": len(c), "approved": int(c.bracket_id.notna().sum()),
               "rejected": int((c.status == "REJECTED").sum()), "expired unanswered": int((c.status == "EXPIRED").sum()),
               "entries filled": int(b.shape[0] + ((brk.account == f"desk:{a}") & (brk.status == "OPEN")).sum()),
               "entries not filled": int(((brk.account == f"desk:{a}") & brk.status.isin(["EXPIRED", "CANCELLED"])).sum()),
               "closed trades": len(b), "win rate %": 100 * float((pnl > 0).mean()) if len(b) else float("nan"),
               "mean net R": float(pd.to_numeric(b.get("net_r", pd.Series(dtype=float)), errors="coerce").mean()) if len(b) else float("nan"),
               "open at end": int(r.n_open), "kill-switch trips": int((kev.account_id.eq(a) & kev.engaged).sum()),
               "exit reasons": ", ".join(f"{k} {v}" for k, v in b.exit_reason.value_counts().items())}
print(pd.DataFrame(side).to_string())
print("kill events in the month:", len(kill_events(cfg)), "| eod reports:", len(list((cfg.runs_out / "eod").glob("*.html"))), "|", verify(cfg))
