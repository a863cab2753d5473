"""`aitrader evaluate --format json`: the summary plus a "strategies" map with the stack and the benchmark rows."""
import json
import numpy as np
import pandas as pd
from aitrader.cli.eval import evaluate_json
from aitrader.eval.evaluate import EvalResult, TABLE_COLS


def _result():
    table = pd.DataFrame([[0.1, 1.2, -0.2, 0.55, 1.4, 0.03, 12, 0.2]], columns=TABLE_COLS, index=["stack"])
    e = pd.DataFrame()
    return EvalResult(e, {}, {}, table, {"rank_ic_5d": 0.03}, e, "models:/aitrader/1",
                      pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-28"))


def test_evaluate_json_has_stack_and_benchmarks():
    bench = pd.DataFrame({"cagr": [0.12, np.nan], "sharpe": [1.0, 0.5], "max_drawdown": [-0.1, -0.2],
                          "turnover": [0.0, 2.0], "trades": [10, 40]}, index=["ew_buy_hold", "momentum_30"])
    out = json.loads(json.dumps(evaluate_json(_result(), bench)))   # plain JSON types only
    assert set(out["strategies"]) == {"stack", "ew_buy_hold", "momentum_30"}
    assert out["strategies"]["stack"]["trades"] == 12 and out["strategies"]["stack"]["turnover"] is None
    assert out["strategies"]["momentum_30"]["cagr"] is None          # NaN -> null, never NaN in JSON
    assert out["strategies"]["ew_buy_hold"]["rank_ic_5d"] is None     # a benchmark ranks nothing
    assert out["model_version"] == "models:/aitrader/1" and out["start"] == "2024-01-01"


def test_evaluate_json_without_benchmarks():
    assert set(evaluate_json(_result(), None)["strategies"]) == {"stack"}
