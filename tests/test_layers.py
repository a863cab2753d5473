"""The layer contract (pyproject.toml [tool.importlinter]): an import that runs up a layer fails the build."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_contract_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout


def test_old_module_paths_are_gone():
    "The moved modules do not linger beside their new homes (a stale file would shadow the layer map)."
    for old in ["config", "db", "migrations", "pgserver", "apistore", "jobs.py", "cli.py"]:
        p = ROOT / "aitrader" / (old if old.endswith(".py") else old + ".py")
        assert not p.exists(), p
