"""Start-up time: from launching ``python app.py`` to the first served page (target < 15 s).

Prints one JSON line per run and a summary, and writes benchmarks/results/startup.md.
Run: ``python -m benchmarks.startup [--runs 3]``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402


def time_to_first_page(path: str = "/") -> float:
    """Seconds from process spawn until ``path`` answers 200 (the server is then stopped)."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        while time.perf_counter() - start < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("app did not serve within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds = []
    for run in range(args.runs):
        seconds.append(time_to_first_page())
        print(json.dumps({"benchmark": "startup", "run": run, "seconds_to_first_page": round(seconds[-1], 2)}))
    median = statistics.median(seconds)
    print(json.dumps({"benchmark": "startup", "median_seconds": round(median, 2), "runs": args.runs,
                      "cpu_cores": os.cpu_count(), "target_seconds": 15}))
    table = ("| measure | value |\n|---|---|\n"
             f"| start-up to first served page, median of {args.runs} runs | {median:.1f} s (target < 15 s) |\n"
             f"| runs (s) | {', '.join(f'{s:.1f}' for s in seconds)} |\n"
             f"| machine | {os.cpu_count()} CPU cores, no GPU |\n")
    (ROOT / "benchmarks" / "results" / "startup.md").write_text(table)


if __name__ == "__main__":
    main()
