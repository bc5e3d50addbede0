"""Merging benchmark: accuracy per family and method, slider latency, out-of-core memory.

For every family (digits MLP; MiniLM if its checkpoints exist) and method: per-task test
accuracy and normalised average (merged / fine-tuned, averaged over tasks) at the default
knobs and at the best knobs of a small grid chosen on the validation split; AdaMerging's
learnt lambdas. Latency from a slider change to updated numbers, twice: the merge plus the
evaluation on every task's test set, and the page's whole handler (tables, figures, files).
Peak memory of the out-of-core merge relative to the checkpoint size. Prints JSON lines and
writes benchmarks/results/merging.md.

    python benchmarks/merging.py                    # everything (~10 min on 2 busy cores)
    python benchmarks/merging.py --families digits --skip-memory
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.merging.adamerging import adamerging  # noqa: E402
from models.merging.families import TITLES, family_reference, load_family  # noqa: E402
from models.merging.family import Family, Reference, reference  # noqa: E402
from models.merging.methods import METHODS, MergeSettings  # noqa: E402
from models.merging.sweeps import evaluate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TARGET_S = {"digits": 0.3, "minilm": 3.0}


def defaults(n: int) -> dict[str, MergeSettings]:
    """The page's default knobs per method."""
    return {"linear": MergeSettings("linear", (1.0,) * n), "task_arithmetic": MergeSettings("task_arithmetic", (0.3,) * n),
            "ties": MergeSettings("ties", density=0.2, scale=1.0), "dare": MergeSettings("dare", (0.3,) * n, drop_rate=0.9),
            "slerp": MergeSettings("slerp", t=0.5), "fisher": MergeSettings("fisher", (1.0,) * n),
            "lines": MergeSettings("lines", (1.0,) * n, alpha=0.3, beta=0.5)}


def grid(method: str, base: MergeSettings, n: int) -> list[MergeSettings]:
    """The small validation grid per method (methods without knobs: just the default)."""
    if method == "task_arithmetic":
        return [base.with_lambdas((x,) * n) for x in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)]
    if method == "ties":
        return [replace(base, density=d, scale=s) for d, s in itertools.product((0.1, 0.2, 0.5, 0.8), (0.5, 0.75, 1.0, 1.5))]
    if method == "dare":
        return [replace(base, drop_rate=p, lambdas=(x,) * n, sign_election=e)
                for p, x, e in itertools.product((0.5, 0.9), (0.2, 0.3, 0.5, 0.7), (False, True))]
    if method == "slerp":
        return [replace(base, t=t) for t in (0.1, 0.3, 0.5, 0.7, 0.9)]
    if method == "lines":
        return [replace(base, alpha=a, beta=b) for a, b in itertools.product((0.1, 0.2, 0.3, 0.5), (0.2, 0.5, 0.8))]
    return [base]


def knobs(s: MergeSettings) -> str:
    lam = s.lambdas[0] if s.lambdas else 1.0
    return {"linear": "w=1", "fisher": "w=1",
            "task_arithmetic": f"lambda={lam:g}",
            "ties": f"k={s.density:g}, lambda={s.scale:g}",
            "dare": f"p={s.drop_rate:g}, lambda={lam:g}" + (", sign election" if s.sign_election else ""),
            "slerp": f"t={s.t:g} ({s.pair[0] + 1}&{s.pair[1] + 1})",
            "lines": f"alpha={s.alpha:g}, beta={s.beta:g}",
            "adamerging": "lambda=" + "/".join(f"{x:.2f}" for x in s.lambdas)}.get(s.method, "")


def median_seconds(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` after a warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def page_handler(family_name: str):
    """The Gradio page's live handler bound to default widget values, as the server calls it."""
    from apps.gradio_pages import merging as page

    fam = load_family(family_name)
    request = types.SimpleNamespace(session_hash="benchmark")
    pair = page.pair_choices(fam.task_names)[0]
    def call(method: str) -> None:
        page.live(TITLES[family_name], method, 0.3, 0.3, 0.3, 1.0, 0.2, 0.9, True, False, 0.5, pair, 0.3, 0.5,
                  request=request)
    return call


def load_average() -> float:
    """1-minute load average: how busy the shared machine was while we measured."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def bench_family(name: str, repeats: int) -> list[dict]:
    t0 = time.perf_counter()
    fam: Family = load_family(name)
    ref = family_reference(name)
    val_ref: Reference = reference(fam, "val")
    load_s = time.perf_counter() - t0
    n = len(fam.tuned)
    rows = []
    tasks = list(fam.task_names)
    base_row = {"family": name, "method": "base (pre-trained)", "default_knobs": "", "default_acc": ref.base,
                "default_norm": sum(b / t for b, t in zip(ref.base, ref.tuned)) / n}
    tuned_row = {"family": name, "method": "fine-tuned (own task)", "default_knobs": "", "default_acc": ref.tuned,
                 "default_norm": 1.0}
    rows += [base_row, tuned_row]
    handler = page_handler(name)
    for method, s in defaults(n).items():
        ev = evaluate(fam, s, ref)
        scored = [(evaluate(fam, g, val_ref, "val").normalised, g) for g in grid(method, s, n)]
        best = max(scored, key=lambda x: x[0])[1]
        best_ev = evaluate(fam, best, ref)
        core, core_cpu = median_seconds(lambda s=s: evaluate(fam, s, ref), repeats)
        page, _ = median_seconds(lambda method=method: handler(method), max(1, repeats // 2))
        rows.append({"family": name, "method": METHODS[method], "default_knobs": knobs(s), "default_acc": ev.accuracies,
                     "default_norm": ev.normalised, "best_knobs": knobs(best), "best_acc": best_ev.accuracies,
                     "best_norm": best_ev.normalised, "kept": ev.kept,
                     "latency_s": core, "latency_cpu_s": core_cpu, "page_latency_s": page,
                     "grid_size": len(scored), "load_avg": load_average()})
        print(json.dumps({**rows[-1], "tasks": tasks}), flush=True)
    t_ada = time.perf_counter()
    lam = adamerging(fam, steps=100 if name == "digits" else 25)
    ada_s = time.perf_counter() - t_ada
    ada = MergeSettings("task_arithmetic", tuple(lam))
    ev = evaluate(fam, ada, ref)
    rows.append({"family": name, "method": "AdaMerging (task-wise)", "default_knobs": knobs(replace(ada, method="adamerging")),
                 "default_acc": ev.accuracies, "default_norm": ev.normalised, "kept": ev.kept,
                 "latency_s": ada_s, "note": "learning time, not a slider"})
    print(json.dumps({**rows[-1], "tasks": tasks, "load_s": load_s}), flush=True)
    for r in rows:
        r["tasks"] = tasks
    return rows


MEMORY_SNIPPET = r"""
import json, sys, time
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
from models.merging.methods import MergeSettings
from models.merging.outofcore import merge_files
warm, big = sys.argv[1:5], sys.argv[5:9]
settings = MergeSettings('ties', density=0.2)
merge_files(warm[0], warm[1:3], warm[3], settings)  # one tensor: torch's lazy kernel/thread-pool set-up
before = rss('VmRSS:')
t0 = time.time()
merge_files(big[0], big[1:3], big[3], settings)
print(json.dumps({'baseline_rss': before, 'peak_rss': rss('VmHWM:'), 'seconds': time.time() - t0}))
"""


def _checkpoints(folder: Path, tag: str, n_tensors: int, rows: int, cols: int) -> list[str]:
    """Base + 2 random float32 checkpoints of ``n_tensors`` (rows x cols) tensors, and the output path."""
    from safetensors.torch import save_file

    paths = []
    for i in range(3):
        g = torch.Generator().manual_seed(i)
        paths.append(folder / f"{tag}{i}.safetensors")
        save_file({f"model.layers.{k}.weight": torch.randn(rows, cols, generator=g) for k in range(n_tensors)},
                  str(paths[-1]))
    return [*map(str, paths), str(folder / f"{tag}_out.safetensors")]


def bench_memory(sizes: tuple[int, ...] = (8, 64), rows: int = 1024, cols: int = 1024) -> list[dict]:
    """Out-of-core TIES on checkpoints of ``sizes`` tensors each: peak RSS above the warmed-up process.

    Memory bounded by a few tensors means the peak stays flat as the checkpoint grows.
    """
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = _checkpoints(Path(tmp), "warm", 1, rows, cols)
        for n in sizes:
            big = _checkpoints(Path(tmp), f"n{n}_", n, rows, cols)
            done = subprocess.run([sys.executable, "-c", MEMORY_SNIPPET, *warm, *big],
                                  capture_output=True, text=True, cwd=ROOT, check=True)
            m = json.loads(done.stdout.strip().splitlines()[-1])
            size = Path(big[0]).stat().st_size
            extra = m["peak_rss"] - m["baseline_rss"]
            out.append({"checkpoint_mb": size / 1e6, "models": 3, "largest_tensor_mb": rows * cols * 4 / 1e6,
                        "peak_extra_mb": extra / 1e6, "peak_over_checkpoint": extra / size, "seconds": m["seconds"]})
            for p in big:
                Path(p).unlink(missing_ok=True)
    return out


def pct(xs) -> str:
    return " / ".join(f"{100 * x:.1f}" for x in xs)


def markdown(rows: list[dict], memory: list[dict] | None) -> str:
    out = ["# Merging benchmark", "",
           "Test accuracy (%) per task and normalised average (merged / fine-tuned accuracy, mean over tasks). "
           "'Best' knobs are chosen by a small grid on the validation split, then reported on test. "
           "Latency = merge + evaluation on every task's test set after a slider change (median wall time, and "
           "CPU time of our process, which is what an idle machine would take); page = the page's whole handler "
           "(tables, figures, downloads), wall time. Measured on a shared 2-core machine whose load average is "
           "given below. Produced by `python benchmarks/merging.py`.", ""]
    for family in dict.fromkeys(r["family"] for r in rows):
        fr = [r for r in rows if r["family"] == family]
        out += [f"## {TITLES[family]}: tasks {', '.join(fr[0]['tasks'])}", "",
                "| method | default knobs | acc % (per task) | norm. avg % | best knobs (val) | acc % | norm. avg % | "
                "params changed % | latency s (CPU s) | page s |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in fr:
            best = (f"{r['best_knobs']} | {pct(r['best_acc'])} | {100 * r['best_norm']:.1f}"
                    if "best_knobs" in r else " | | ")
            kept = f"{100 * r['kept']:.0f}" if "kept" in r else ""
            lat = f"{r['latency_s']:.3f} ({r['latency_cpu_s']:.3f})" if "latency_cpu_s" in r else (
                f"{r['latency_s']:.1f} (learning)" if "latency_s" in r else "")
            page = f"{r['page_latency_s']:.2f}" if "page_latency_s" in r else ""
            out.append(f"| {r['method']} | {r['default_knobs']} | {pct(r['default_acc'])} | {100 * r['default_norm']:.1f} | "
                       f"{best} | {kept} | {lat} | {page} |")
        timed = [r for r in fr if "latency_cpu_s" in r]
        wall, cpu = max(r["latency_s"] for r in timed), max(r["latency_cpu_s"] for r in timed)
        load = sum(r["load_avg"] for r in timed) / len(timed)
        target = TARGET_S[family]
        out += ["", f"Slowest method: {wall:.3f} s wall, {cpu:.3f} s CPU (target < {target} s: "
                f"wall {'met' if wall < target else 'NOT met'}, CPU {'met' if cpu < target else 'NOT met'}); "
                f"machine load average while measuring: {load:.1f} on 2 cores.", ""]
    if memory:
        out += ["## Out-of-core merge memory (TIES, base + 2 models, float32)", "",
                "| models | checkpoint MB each | largest tensor MB | peak RSS above baseline MB | peak / checkpoint | seconds |",
                "|---|---|---|---|---|---|"]
        out += [f"| {m['models']} | {m['checkpoint_mb']:.0f} | {m['largest_tensor_mb']:.1f} | {m['peak_extra_mb']:.0f} | "
                f"{m['peak_over_checkpoint']:.3f} | {m['seconds']:.1f} |" for m in memory]
        out += ["", "Peak = VmHWM minus the RSS after a one-tensor warm-up merge (torch's lazy set-up), in a fresh "
                "process; it stays flat while the checkpoint grows 8x.", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["digits", "minilm"], choices=list(TITLES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.families:
        rows += bench_family(name, args.repeats if name == "digits" else min(args.repeats, 3))
    memory = None if args.skip_memory else bench_memory()
    for m in memory or []:
        print(json.dumps({"out_of_core": m}), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "merging.md").write_text(markdown(rows, memory))
    print(f"wrote {RESULTS / 'merging.md'}")


if __name__ == "__main__":
    main()
