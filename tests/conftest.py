"""Shared pytest fixtures: the real NSE data folder (skipped with a reason when absent) and a fresh AITRADER_HOME."""
import os
import pytest
from aitrader.config import get_config


@pytest.fixture(scope="session")
def data_dir():
    d = get_config().data_dir
    if d is None or not d.is_dir():
        pytest.skip("no NSE data folder: set AITRADER_DATA_DIR or place ../shared/data/nse beside the project")
    return d


@pytest.fixture()
def home(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path))
    monkeypatch.setenv("AITRADER_DATA_DIR", str(data_dir))
    return tmp_path
