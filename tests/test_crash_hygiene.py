"""#24 crash hygiene: a job killed with -9 leaves a `running` row, a `*.running.ipynb` and its lock; the next start of
ANY job repairs them (the row `failed` with a 'killed' reason, the notebook renamed `.killed-<hex>.ipynb`), and
`aitrader runs doctor` lists them (exit 1) and `--fix` repairs them (exit 0). The jobs are real subprocesses killed
with SIGKILL; the notebooks are tiny test notebooks (a sleep, a glue), no model output."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from typer.testing import CliRunner

from aitrader.core.config import get_config
from aitrader.jobs.runner import Job, register, run
from aitrader.signals.store import SignalStore

ROOT = Path(__file__).resolve().parents[1]

JOB = '''
import sys
from pathlib import Path
from aitrader.core.config import get_config
from aitrader.jobs.runner import Job, register, run
job, out = sys.argv[2], sys.argv[3]  # the job's name and its executed notebook, as the catalog names them
register(Job(job, "unused.ipynb", lambda p, c: ({}, "2024-11-22", c.runs_out / job / out)))
run(job, {}, get_config(), notebook=Path(sys.argv[1]), timeout=300)
'''
# the job names and notebook names of the catalog's daily, hourly and train jobs (a test notebook runs in each)
KILLED = [("daily", "2024-11-22.ipynb"), ("hourly", "2024-11-22T1015.ipynb"), ("train", "20241122T101500Z.ipynb")]

LOCKER = '''
import time
from aitrader.core.config import get_config
from aitrader.signals.store import SignalStore
cfg = get_config()
rid = SignalStore(cfg).start_run("hourly", "2024-11-22")
d = cfg.runs_out / "hourly"
d.mkdir(parents=True, exist_ok=True)
(d / f"2024-11-22T1015.{rid[-6:]}.running.ipynb").write_text("{}")
print(rid, flush=True)
time.sleep(300)
'''


def _nb(d: Path, name: str, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('run_id = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    f = d / name
    nbformat.write(nb, f)
    return f


def _spawn(home: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "AITRADER_HOME": str(home), "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.Popen([sys.executable, "-c", *args], env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)


def _kill9(p: subprocess.Popen) -> None:
    "SIGKILL the job and every process it started (its papermill kernel), then reap it."
    kids = psutil.Process(p.pid).children(recursive=True)
    os.kill(p.pid, signal.SIGKILL)
    for k in kids:
        try:
            k.kill()
        except psutil.NoSuchProcess:
            pass
    p.wait(timeout=30)
    psutil.wait_procs(kids, timeout=30)


def _running(cfg):
    df = SignalStore(cfg)._df("SELECT run_id, job FROM runs WHERE status = 'running'")
    return [] if df.empty else list(df.run_id)


def _doctor(*args):
    from aitrader.cli.main import app
    return CliRunner().invoke(app, ["runs", "doctor", *args], terminal_width=200)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path / "home"))
    return tmp_path / "home", get_config({"AITRADER_HOME": str(tmp_path / "home")})


@pytest.mark.parametrize("job,nb", KILLED)
def test_kill9_job_repaired_by_next_start_of_another_job(tmp_path, home, job, nb):
    h, cfg = home
    sleepy = _nb(tmp_path, "sleepy.ipynb", "import time\ntime.sleep(240)")
    p = _spawn(h, JOB, str(sleepy), job, nb)
    out = cfg.runs_out / job
    t0 = time.time()
    while not list(out.glob("*.running.ipynb")) or not _running(cfg):
        assert p.poll() is None, "the job ended before it could be killed"
        assert time.time() - t0 < 120, "the job never started"
        time.sleep(0.5)
    time.sleep(1.0)
    _kill9(p)
    (rid,) = _running(cfg)
    assert rid.startswith(f"{job}-2024-11-22-") and len(list(out.glob("*.running.ipynb"))) == 1
    r = _doctor()
    assert r.exit_code == 1 and rid in r.output and "running notebook" in r.output, r.output
    # the next start of ANOTHER job cleans up
    register(Job("quick", "unused.ipynb", lambda p, c: ({}, None, c.runs_out / "quick" / "out.ipynb")))
    quick = _nb(tmp_path, "quick.ipynb", "from aitrader.jobs.runner import glue\nglue('n', 1)")
    q = run("quick", {}, cfg, notebook=quick, timeout=120)
    assert q.ok, q.error
    assert _running(cfg) == []
    assert list(cfg.runs_out.rglob("*.running.ipynb")) == []
    old = SignalStore(cfg).get_run(rid)
    assert old["status"] == "failed" and old["errors"]["_run"].startswith("killed: pid"), old
    assert "start of a quick job" in old["errors"]["_run"]
    stem = nb[: -len(".ipynb")]
    assert old["notebook"] == f"runs/out/{job}/{stem}.killed-{rid[-6:]}.ipynb" and (h / old["notebook"]).exists()
    assert not SignalStore(cfg).lock_path(job).exists()
    r = _doctor()
    assert r.exit_code == 0 and "no leftovers" in r.output, r.output


def test_runs_doctor_lists_then_fixes(home):
    h, cfg = home
    p = _spawn(h, LOCKER)
    rid = p.stdout.readline().strip()
    assert rid.startswith("hourly-2024-11-22"), rid
    r = _doctor()
    assert r.exit_code == 0 and "no leftovers" in r.output, r.output  # alive: nothing to repair
    _kill9(p)
    r = _doctor()
    assert r.exit_code == 1, r.output
    assert rid in r.output and "running notebook" in r.output and "lock file" in r.output, r.output
    assert _running(cfg) == [rid]  # listing repairs nothing
    r = _doctor("--fix")
    assert r.exit_code == 0 and "repaired" in r.output, r.output
    assert _running(cfg) == [] and list(cfg.runs_out.rglob("*.running.ipynb")) == []
    assert (cfg.runs_out / "hourly" / f"2024-11-22T1015.killed-{rid[-6:]}.ipynb").exists()
    assert SignalStore(cfg).get_run(rid)["errors"]["_run"].startswith("killed:")
    assert _doctor().exit_code == 0
    # a new run of the same job starts (the dead owner's lock is gone)
    with SignalStore(cfg).run("hourly", "2024-11-22") as rid2:
        assert _running(cfg) == [rid2]
