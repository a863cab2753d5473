"""The decision layer re-chosen on a finished benchmark run's out-of-sample scores (issue 28); prints the tables.

Usage: .venv/bin/python bench/decision_grid.py --run RUN_ID [--model lgb_all_default] [--select-years 2015,2016,2017]
                                              [--max-weekly-turnover 0.20]
Reads the run's `scores.parquet` (every model's walk-forward test-year scores, logged by `aitrader benchmark`) from the
MLflow store of AITRADER_HOME, rebuilds the same bars, member mask and index (`eval.benchmark.benchmark_bars`), and runs
`eval.bench_portfolios.portfolio_grid` (PORTFOLIO_GRID: k, hold buffer, rebalance, weighting, regime overlay, sector
cap; ADV limit) with the benchmark portfolios on the same dates and costs. The config is chosen on the selection years
only (best Sharpe among configs at or under the weekly-turnover cap); the later years are its out-of-sample test. No
model is retrained, so the whole grid takes minutes instead of the benchmark's hour.
"""
import argparse, json, time
import pandas as pd
from rich.console import Console
from rich.table import Table
from aitrader.core.config import get_config
from aitrader.eval.benchmark import benchmark_bars
from aitrader.eval.bench_portfolios import PORTFOLIO_GRID, grid_summary, portfolio_grid, year_table
from aitrader.features.cross_section import industry_map
from aitrader.train.registry import mlflow_client


def show(df: pd.DataFrame, title: str):
    t = Table(title=title)
    df = df.reset_index()
    for c in df.columns:
        t.add_column(str(c))
    for r in df.itertuples(index=False):
        t.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r])
    Console(width=250).print(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="MLflow run id of an `aitrader benchmark` run")
    ap.add_argument("--model", default=None, help="whose scores (default: the recipe the run chose on validation)")
    ap.add_argument("--select-years", default=None, help="default: the run's first three test years")
    ap.add_argument("--max-weekly-turnover", type=float, default=0.20)
    ap.add_argument("--grid", default=None, help='a JSON dict replacing PORTFOLIO_GRID, e.g. \'{"k": [10, 20], "smooth": [1, 10]}\'')
    a = ap.parse_args()
    cfg, t0 = get_config(), time.perf_counter()
    c = mlflow_client(cfg)
    run = c.get_run(a.run)
    d = c.download_artifacts(a.run, "benchmark")
    scores = pd.read_parquet(f"{d}/scores.parquet")
    model = a.model or pd.read_csv(f"{d}/selection.csv", index_col=0).index[0]
    years = [int(y) for y in run.data.params["years"].split(",")]
    sel = tuple(int(y) for y in a.select_years.split(",")) if a.select_years else tuple(years[:3])
    universe = run.data.params.get("universe", "nifty50")
    bars, ix, member, notes = benchmark_bars(cfg, None, universe)
    s = scores[scores.model == model][["symbol", "ts", "score"]] if "model" in scores else scores
    eqs = {}
    grid = {k: tuple(v) for k, v in json.loads(a.grid).items()} if a.grid else PORTFOLIO_GRID
    g = portfolio_grid(bars, s, grid, select_years=sel, member=member, index_bars=ix, sectors=industry_map(cfg.data_dir),
                       equity_out=eqs, max_weekly_turnover=a.max_weekly_turnover)
    show(grid_summary(g, top=12), f"{model} on {universe}: {g.attrs['n_configs']} configurations, chosen on {list(sel)} "
         f"(weekly turnover <= {a.max_weekly_turnover:.0%}{'' if g.attrs['turnover_capped'] else ': none qualified'})")
    show(year_table(eqs).pivot_table(index="strategy", columns="year", values="total_return"), "total return by year")
    if g.attrs.get("walk_forward") is not None:
        show(pd.DataFrame(g.attrs["walk_forward"]).set_index("year"), "the decision layer re-chosen each year from every year before it "
             "(walk_forward row; a change of config is charged as a full switch of the book)")
    for n in notes:
        print("note:", n)
    print(f"chosen: {g.attrs['chosen']}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
