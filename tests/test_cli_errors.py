"""CLI hygiene (issue #25): every top-level command given bad input (bad date, unknown symbol, universe or scan, missing
file, bad data folder) exits non-zero with a one-line error and never a traceback. In process (typer's CliRunner with
`catch_exceptions=False`, so an unhandled exception fails the test), on a home holding the real RELIANCE daily bars."""
import contextlib, io
import pytest
from typer.testing import CliRunner
from aitrader.core.config import get_config

BAD = "2024-13-45"
CASES = [
    "serve --workers 2",
    "ingest --source csv --path /nonexistent/x.csv", "ingest --source nosuch",
    "bars NOSUCHSYM", f"bars reliance --start {BAD}", "bars RELIANCE --timeframe 7x",
    "universe --as-of 2024-13-45", "universe --as-of 01-07-2024",
    "train --folds abc", "train --universe nifty7", "train --config huge",
    "promote --force",
    f"evaluate --start {BAD} --end 2024-01-31", "evaluate --start 2024-01-01 --end 2024-01-31 --universe nifty7",
    "benchmark --universe nifty7", "benchmark --years abc",
    "report --start 01-07-2024 --end 2024-01-31",
    "scan nope", f"scan nr7 --date {BAD}", "scan nr7 --universe nifty7", "scan nr7 --date 1990-01-02",
    f"replay --start {BAD} --end 2024-01-31", "replay --start 2024-01-01 --end 2024-01-31 --universe nifty7",
    f"track-record --from {BAD}", "track-record --from 01-07-2024",
    f"regimes --start {BAD}",
    "ingest-events --path /nonexistent/dir",
    "data actions NOSUCHSYM",
    f"run daily --date {BAD}", "run daily --universe nifty7", "run hourly --at notatime",
    "keys create nosuchtier", "keys revoke nosuchkey",
    "exits evaluate --years abc", f"exits step --until {BAD}",
    "desk show NOSUCHCARD", f"desk cards --date {BAD}", f"desk session --date {BAD}", f"desk eod --date {BAD}",
    "desk transfer A B 100 --date 2024-01-02", "desk session --date 01-07-2024", "desk cards --date 01-07-2024",
    "exits step --until 01-07-2024", "desk eod --date 2024-7-1",
    f"audit log --date {BAD}",
    f"events show --date {BAD}", "events tagger-eval --path /nonexistent/x.csv",
    "db copy --to /nonexistent/dir/x.duckdb",
]
ENV_CASES = [("main", {"AITRADER_DATA_DIR": "/nonexistent/nse"}),
             ("data status", {"AITRADER_DATA_DIR": "/nonexistent/nse"})]
BOX = set("╭╰─│ ")


@pytest.fixture(scope="module")
def home(tmp_path_factory, data_dir):
    from aitrader.data.ingest import ingest
    h = tmp_path_factory.mktemp("clihome")
    cfg = get_config({"AITRADER_HOME": str(h), "AITRADER_DATA_DIR": str(data_dir)})
    with contextlib.redirect_stderr(io.StringIO()):
        ingest(cfg, "csv", path=data_dir / "daily" / "RELIANCE.csv", timeframe="1d")
    return h


def message_lines(out: str) -> list[str]:
    "The lines that say something: without typer's usage lines and the border of its error box."
    keep = []
    for x in out.splitlines():
        t = x.strip().strip("│").strip()
        if not t or set(t) <= BOX or t.startswith(("Usage:", "Try ", "╭", "╰")):
            continue
        keep.append(t)
    return keep


@pytest.mark.parametrize("args,env", [(c, {}) for c in CASES] + ENV_CASES)
def test_bad_input_is_one_line_and_nonzero(home, data_dir, args, env):
    from aitrader.cli.main import app
    e = {"AITRADER_HOME": str(home), "AITRADER_DATA_DIR": str(data_dir), "COLUMNS": "250", **env}
    r = CliRunner().invoke(app, args.split(), env=e, catch_exceptions=False)
    out = r.output
    assert r.exit_code != 0, (args, out)
    assert "Traceback" not in out, (args, out)
    lines = message_lines(out)
    assert len(lines) == 1, (args, lines)
