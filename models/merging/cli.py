"""Out-of-core merge from the command line: safetensors in, safetensors (+ mergekit YAML) out.

    python -m models.merging.cli --base base.safetensors --models a.safetensors b.safetensors \
        --out merged.safetensors --method ties --density 0.2 --scale 1.0 --yaml merged.yml
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.common.errors import InputError
from models.merging.mergekit_yaml import to_mergekit_yaml
from models.merging.methods import METHODS, MergeSettings
from models.merging.outofcore import merge_files


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Merge fine-tuned safetensors checkpoints tensor by tensor.")
    p.add_argument("--base", required=True, help="pre-trained checkpoint theta_0")
    p.add_argument("--models", nargs="+", required=True, help="fine-tuned checkpoints theta_i (two or more)")
    p.add_argument("--out", required=True, help="merged .safetensors to write")
    p.add_argument("--method", default="task_arithmetic", choices=[m for m in METHODS if m != "fisher"])
    p.add_argument("--lambdas", type=float, nargs="+", help="lambda_i per model (default 1/number of models)")
    p.add_argument("--scale", type=float, default=1.0, help="TIES lambda")
    p.add_argument("--density", type=float, default=0.2, help="TIES density")
    p.add_argument("--drop-rate", type=float, default=0.9, help="DARE drop rate p")
    p.add_argument("--no-rescale", action="store_true", help="DARE without the 1/(1-p) rescale")
    p.add_argument("--sign-election", action="store_true", help="DARE with TIES sign election")
    p.add_argument("--t", type=float, default=0.5, help="SLERP t (between the first two models)")
    p.add_argument("--alpha", type=float, default=0.3, help="LiNeS first-layer scale")
    p.add_argument("--beta", type=float, default=0.5, help="LiNeS extra scale of the last layer")
    p.add_argument("--seed", type=int, default=0, help="DARE seed")
    p.add_argument("--yaml", help="also write the equivalent mergekit config here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    n = len(a.models)
    settings = MergeSettings(a.method, tuple(a.lambdas or [1.0 / n] * n), scale=a.scale, density=a.density,
                             drop_rate=a.drop_rate, rescale=not a.no_rescale, sign_election=a.sign_election,
                             t=a.t, alpha=a.alpha, beta=a.beta, seed=a.seed)
    def show(fraction: float, message: str) -> None:
        print(f"\r[{fraction:6.1%}] {message}", end="", file=sys.stderr, flush=True)
    try:
        notes = merge_files(a.base, a.models, a.out, settings, progress=show)
        if a.yaml:
            Path(a.yaml).write_text(to_mergekit_yaml(settings, a.base, a.models))
    except InputError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {a.out}" + (f" and {a.yaml}" if a.yaml else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
