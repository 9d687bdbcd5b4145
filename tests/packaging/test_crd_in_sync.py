"""crds/req1instances.yaml must be exactly what `make crds` generates from the spec package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from req1_operator.crd import build_crd, render_yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "crds" / "req1instances.yaml"


def test_checked_in_crd_matches_the_generator() -> None:
    assert CHECKED_IN.read_text() == render_yaml(), "crds/ is stale: run `make crds` and commit the result"


def test_module_entry_point_prints_the_same_crd() -> None:
    out = subprocess.run([sys.executable, "-m", "req1_operator.crd"], check=True, capture_output=True, text=True).stdout
    assert out == CHECKED_IN.read_text()


def test_checked_in_crd_parses_to_the_built_object() -> None:
    assert yaml.safe_load(CHECKED_IN.read_text()) == build_crd()
