"""Where the course material lives (the repository this package is installed from)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
SAMPLES_DIR = REPO_ROOT / "samples"
