"""Progress bars (issue #25): train, benchmark, replay, evaluate and ingest draw a rich bar on stderr while their loop
runs; stdout stays what it was (`--format json` still parses, no bar) and nothing ends in a traceback. In process
(typer's CliRunner, stdout and stderr apart); ingest runs for real on three stored CSVs, the other commands' library
loops are replaced by fakes that report steps the way the real ones do (`core.progress`)."""
import json, re, shutil
import pandas as pd
import pytest
from typer.testing import CliRunner


def _run(args, env):
    from aitrader.cli.main import app
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200", **env}, catch_exceptions=False)
    assert "Traceback" not in r.output, r.output
    return r


@pytest.fixture()
def env(tmp_path, data_dir):
    return {"AITRADER_HOME": str(tmp_path / "home"), "AITRADER_DATA_DIR": str(data_dir),
            "MLFLOW_DISABLE_TELEMETRY": "true"}


def test_ingest_bar_on_stderr_stdout_unchanged(tmp_path, data_dir, env):
    src = tmp_path / "daily"
    src.mkdir()
    for s in ("RELIANCE", "TCS", "INFY"):
        shutil.copy(data_dir / "daily" / f"{s}.csv", src)
    args = ["ingest", "--source", "csv", "--path", str(src), "--timeframe", "1d"]
    on = _run(args, env)
    off = _run(args, {**env, "AITRADER_HOME": str(tmp_path / "home2"), "AITRADER_PROGRESS": "0"})
    assert on.exit_code == off.exit_code == 0, on.output
    assert "ingest csv daily" in on.stderr and "ingest store csv 1d" in on.stderr and "3/3" in on.stderr
    assert "ingest csv" not in on.stdout and off.stderr == ""
    secs = lambda s: re.sub(r" +", " ", re.sub(r"\d+(\.\d+)?", "0", s))  # the seconds differ run to run
    assert secs(on.stdout) == secs(off.stdout)  # the bar changes nothing on stdout


def test_replay_bar(monkeypatch, env):
    import aitrader.track.replay as rp

    def fake(start, end, universe, roles, on_step=None, **kw):
        days = ["2024-01-01", "2024-01-02", "2024-01-03"]
        for i, d in enumerate(days):
            on_step(i, len(days), d)
        on_step(len(days), len(days), days[-1])
        return dict(run_id="R1", sessions=3, signals={"champion": 2}, score_seconds=1.0, s_per_session=0.33,
                    outcomes={})

    monkeypatch.setattr(rp, "replay", fake)
    r = _run(["replay", "--start", "2024-01-01", "--end", "2024-01-03"], env)
    assert r.exit_code == 0, r.output
    assert r.stdout == ("replay R1: 3 sessions, signals {'champion': 2}, 1.0 s scoring (0.33 s/session), "
                        "outcomes {}\n")
    assert "replay 2024-01-03" in r.stderr and "3/3" in r.stderr


def _eval_result():
    from aitrader.eval.evaluate import EvalResult, TABLE_COLS
    table = pd.DataFrame([[0.1, 1.2, -0.2, 0.55, 1.4, 0.03, 12, 0.2]], columns=TABLE_COLS, index=["stack"])
    return EvalResult(pd.DataFrame({"symbol": ["TCS"]}), {}, {}, table, {"rank_ic_5d": 0.03}, pd.DataFrame(),
                      "models:/aitrader/1", pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_evaluate_bar_off_for_json(monkeypatch, env, fmt):
    import aitrader.cli.eval as ce
    seen = []

    def fake(*a, progress=False, **kw):
        seen.append(progress)
        if progress:
            for i in range(3):
                progress(i, 2, f"scoring 2024-01-0{i + 1}")
        return _eval_result()

    monkeypatch.setattr(ce, "evaluate", fake)
    monkeypatch.setattr(ce, "benchmark_rows", lambda *a, **k: None)
    r = _run(["evaluate", "--start", "2024-01-01", "--end", "2024-01-31", "--format", fmt], env)
    assert r.exit_code == 0, r.output
    if fmt == "json":
        assert seen == [None] and r.stderr == ""
        assert json.loads(r.stdout)["model_version"] == "models:/aitrader/1"
    else:
        assert callable(seen[0]) and "evaluate scoring 2024-01-03" in r.stderr and "2/2" in r.stderr
        assert r.stdout.startswith("model models:/aitrader/1, 2024-01-01 .. 2024-01-31, 1 symbols")
        assert "scoring" not in r.stdout


def test_benchmark_bar_and_json(monkeypatch, env):
    import aitrader.eval.benchmark as eb
    seen = []

    def fake(cfg, symbols, on_step=None, log=print, **kw):
        seen.append(on_step)
        log("year 2023: rank IC 0.05")  # the benchmark's own per-year line
        if on_step is not None:
            on_step(0, 2, "2023: tuning")
            on_step(1, 2, "2024: checks")
            on_step(2, 2, "2024: done")
            raise ValueError("no daily bars for the universe")  # the table needs a real result: stop here
        return object()

    monkeypatch.setattr(eb, "benchmark", fake)
    monkeypatch.setattr(eb, "benchmark_json", lambda r: {"strategies": {}})
    r = _run(["benchmark", "--years", "2023,2024"], env)
    assert r.exit_code == 2 and "benchmark 2024: done" in r.stderr and "2/2" in r.stderr
    assert r.stdout.strip() == "year 2023: rank IC 0.05\nno daily bars for the universe"
    j = _run(["benchmark", "--years", "2023,2024", "--format", "json"], env)
    assert j.exit_code == 0 and seen[-1] is None and j.stderr == "year 2023: rank IC 0.05\n"  # no bar; the log on stderr
    assert json.loads(j.stdout) == {"strategies": {}}  # stdout is the JSON alone


def test_train_bar_from_the_job_kernel(monkeypatch, env):
    "The train job runs in a papermill kernel: its steps come back through AITRADER_PROGRESS_FILE (`watch_steps`)."
    import aitrader.cli.research as cr
    from aitrader.core.progress import file_step, steps
    from aitrader.jobs.runner import JobRun

    def fake_job(job, params, cfg=None):
        list(steps([2023, 2024], file_step(), label=lambda y: f"fold {y}"))  # what runs/train.ipynb does
        return JobRun("train", "T1", "success", None, None, {}, None, None, 1.0)

    monkeypatch.setattr(cr, "_run_job", fake_job)
    r = _run(["train", "--folds", "2023,2024", "--config", "tiny"], env)
    assert r.exit_code == 0, r.output
    assert "train fold 2024" in r.stderr and "2/2" in r.stderr and "fold 2024" not in r.stdout
    assert "train run T1" in r.stdout


def test_benchmark_challenger_flags(monkeypatch, env):
    "`--lstm` / `--cnn` hand the challengers' configurations to the benchmark; without them nothing extra is fitted."
    import aitrader.eval.benchmark as eb
    from aitrader.train.cnn_member import CNNConfig
    from aitrader.train.lstm_member import LSTMConfig
    seen = []

    def fake(cfg, symbols, **kw):
        seen.append(kw)
        raise ValueError("stop here")

    monkeypatch.setattr(eb, "benchmark", fake)
    _run(["benchmark", "--years", "2024", "--lstm", "--cnn"], env)
    _run(["benchmark", "--years", "2024"], env)
    assert seen[0]["lstm"] == LSTMConfig() and seen[0]["cnn"] == CNNConfig()
    assert "lstm" not in seen[1] and "cnn" not in seen[1]
