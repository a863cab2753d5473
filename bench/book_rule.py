"""The daily job's published book (signals.daily.BOOK_PARAMS) simulated as a portfolio on a benchmark run's
out-of-sample scores, with and without its minimum hold, next to equal-weight buy-and-hold (bought once) and the
equal-weight universe rebalanced monthly (issues #25, #28).

Usage: .venv/bin/python bench/book_rule.py --run RUN_ID [--model stack]
Reads the run's `scores.parquet` (walk-forward test-year scores) from the MLflow store of AITRADER_HOME and the same
bars (`eval.benchmark.benchmark_bars`). Every row decides at the close of each session (rebalance 1, as the daily job
does), fills at the next open, pays the Indian delivery cost stack (`trading.costs.CostModel`, 5 bps slippage) and is
marked at every close. Prints CAGR, Sharpe, max drawdown, weekly turnover, cost drag and the mean holding period; no
number is typed in. The minimum hold of 10 sessions was set from the liquid200 decision grid, not on these scores.
"""
import argparse, time
import pandas as pd
from aitrader.core.config import get_config
from aitrader.eval.bench_portfolios import buy_and_hold, equal_weight, mean_hold
from aitrader.eval.benchmark import benchmark_bars
from aitrader.eval.portfolio import PortfolioConfig, topk_portfolio
from aitrader.signals.daily import BOOK_PARAMS
from aitrader.trading.metrics import portfolio_metrics
from aitrader.train.registry import mlflow_client


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="MLflow run id of an `aitrader benchmark` run")
    ap.add_argument("--model", default="stack")
    a = ap.parse_args()
    cfg, t0 = get_config(), time.perf_counter()
    c = mlflow_client(cfg)
    d = c.download_artifacts(a.run, "benchmark")
    s = pd.read_parquet(f"{d}/scores.parquet")
    s = s[s.model == a.model][["symbol", "ts", "score"]]
    universe = c.get_run(a.run).data.params.get("universe", "nifty50")
    bars, ix, member, notes = benchmark_bars(cfg, None, universe)
    lo, hi = s.ts.min(), s.ts.max()
    base = PortfolioConfig()
    k, b, mh = BOOK_PARAMS.k, BOOK_PARAMS.buffer, BOOK_PARAMS.min_hold
    rows = {
        f"book k{k} b{b} daily, no min_hold": PortfolioConfig(k=k, buffer=b, rebalance=1),
        f"book k{k} b{b} daily, min_hold {mh} (BOOK_PARAMS)": PortfolioConfig(k=k, buffer=b, rebalance=1, min_hold=mh),
        f"top-k k10 b5 weekly (benchmark default)": PortfolioConfig(k=10, buffer=5, rebalance=5),
    }
    out = {}
    for name, pc in rows.items():
        r = topk_portfolio(bars, s, pc)  # the scores' span
        m = portfolio_metrics(r.equity, pc.initial_capital)
        out[name] = dict(cagr=m["cagr"], sharpe=m["sharpe"], max_drawdown=m["max_drawdown"],
                         weekly_turnover=m["weekly_turnover"], cost_drag=m["cost_drag"],  # one-way; per year
                         mean_hold_sessions=mean_hold(r, pc.rebalance))
    bh = buy_and_hold(bars, lo, hi, base.cost)
    m = portfolio_metrics(bh.equity, base.initial_capital)
    out["ew_buy_hold"] = dict(cagr=m["cagr"], sharpe=m["sharpe"], max_drawdown=m["max_drawdown"])
    ew = equal_weight(bars, member, lo, hi, base.cost)  # equal weight, rebalanced monthly
    m = portfolio_metrics(ew.equity, base.initial_capital)
    out["ew_universe (monthly)"] = dict(cagr=m["cagr"], sharpe=m["sharpe"], max_drawdown=m["max_drawdown"],
                                        weekly_turnover=m["weekly_turnover"], cost_drag=m["cost_drag"])
    t = pd.DataFrame(out).T
    print(f"{a.model} scores of run {a.run} on {universe}, {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}; survivorship: {notes[0]}")
    print(t.astype(float).round(3).to_string())
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
