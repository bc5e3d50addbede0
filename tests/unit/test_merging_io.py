"""Out-of-core merge, bad checkpoints, mergekit YAML export and the CLI."""
import subprocess
import sys

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from models.common.errors import InputError
from models.merging.methods import MergeSettings, merge_state_dicts
from models.merging.mergekit_yaml import to_mergekit_yaml
from models.merging.outofcore import merge_files
from models.merging.validation import check_state_dicts


def _model(seed: int, dtype=torch.float32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"embed.weight": torch.randn(10, 6, generator=g).to(dtype),
            "layers.0.weight": torch.randn(6, 6, generator=g).to(dtype),
            "layers.1.weight": torch.randn(6, 6, generator=g).to(dtype),
            "layers.1.bias": torch.randn(6, generator=g).to(dtype),
            "position_ids": torch.arange(6)}


@pytest.fixture()
def checkpoints(tmp_path):
    paths = []
    for i in range(3):
        sd = _model(i)
        if i:  # fine-tuned models stay near the base, integer buffers differ on purpose
            sd = {k: (v if not v.is_floating_point() else _model(0)[k] + 0.1 * v) for k, v in sd.items()}
        paths.append(tmp_path / f"m{i}.safetensors")
        save_file(sd, str(paths[-1]))
    return paths


@pytest.mark.parametrize("settings", [
    MergeSettings("task_arithmetic", (0.5, 0.8)), MergeSettings("ties", density=0.3, scale=1.2),
    MergeSettings("dare", (1.0, 1.0), drop_rate=0.5, sign_election=True, seed=4),
    MergeSettings("slerp", t=0.3), MergeSettings("lines", (1.0, 1.0), alpha=0.1, beta=0.9),
    MergeSettings("linear", (1.0, 2.0))])
def test_out_of_core_equals_in_memory(checkpoints, tmp_path, settings):
    out = tmp_path / "merged.safetensors"
    seen = []
    notes = merge_files(checkpoints[0], checkpoints[1:], out, settings, progress=lambda f, m: seen.append(f))
    expected = merge_state_dicts(load_file(str(checkpoints[0])), [load_file(str(p)) for p in checkpoints[1:]], settings)
    got = load_file(str(out))  # readable by the official library
    assert set(got) == set(expected)
    for k in expected:
        assert got[k].dtype == expected[k].dtype
        assert torch.allclose(got[k], expected[k], atol=1e-6), k
    assert torch.equal(got["position_ids"], torch.arange(6))
    assert any("position_ids" in n for n in notes)
    assert seen[-1] == 1.0


def test_out_of_core_keeps_half_precision(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"h{i}.safetensors")
        save_file({k: v for k, v in _model(i, torch.float16).items() if k != "position_ids"}, str(paths[-1]))
    merge_files(paths[0], paths[1:], tmp_path / "o.safetensors", MergeSettings("task_arithmetic", (0.5, 0.5)))
    assert load_file(str(tmp_path / "o.safetensors"))["embed.weight"].dtype == torch.float16


def test_shape_mismatch_names_the_tensor(checkpoints, tmp_path):
    bad = _model(1)
    bad["layers.1.weight"] = torch.zeros(6, 7)
    save_file(bad, str(tmp_path / "bad.safetensors"))
    with pytest.raises(InputError, match=r"layers\.1\.weight \(6, 6\) vs \(6, 7\)"):
        merge_files(checkpoints[0], [checkpoints[1], tmp_path / "bad.safetensors"], tmp_path / "o.safetensors",
                    MergeSettings("task_arithmetic", (1.0, 1.0)))


def test_missing_and_extra_tensors_are_named():
    base = _model(0)
    missing = {k: v for k, v in base.items() if k != "layers.0.weight"}
    with pytest.raises(InputError, match=r"lacks 1 tensor.*layers\.0\.weight"):
        check_state_dicts(base, [("a", base), ("b", missing)])
    with pytest.raises(InputError, match=r"has 1 tensor.*extra\.w"):
        check_state_dicts(base, [("a", base), ("b", {**base, "extra.w": torch.zeros(1)})])


def test_empty_and_single_model_lists_are_rejected():
    base = _model(0)
    with pytest.raises(InputError, match="No fine-tuned models"):
        check_state_dicts(base, [])
    with pytest.raises(InputError, match="Only one fine-tuned model"):
        check_state_dicts(base, [("a", base)])


def test_nan_weights_are_rejected():
    bad = _model(1)
    bad["layers.0.weight"][0, 0] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        check_state_dicts(_model(0), [("a", _model(2)), ("b", bad)])


def test_out_of_core_rejects_nan_and_leaves_no_partial_file(checkpoints, tmp_path):
    bad = _model(2)
    bad["layers.1.bias"][0] = float("inf")
    save_file(bad, str(tmp_path / "inf.safetensors"))
    out = tmp_path / "o.safetensors"
    with pytest.raises(InputError, match=r"inf\.safetensors contains NaN or infinite values in layers\.1\.bias"):
        merge_files(checkpoints[0], [checkpoints[1], tmp_path / "inf.safetensors"], out,
                    MergeSettings("task_arithmetic", (1.0, 1.0)))
    assert not out.exists() and not out.with_suffix(".part").exists()


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\xff" * 8 + b"{}"])
def test_corrupted_files_raise_input_error(checkpoints, tmp_path, content):
    bad = tmp_path / "corrupt.safetensors"
    bad.write_bytes(content)
    with pytest.raises(InputError, match=r"corrupt\.safetensors"):
        merge_files(checkpoints[0], [checkpoints[1], bad], tmp_path / "o.safetensors",
                    MergeSettings("task_arithmetic", (1.0, 1.0)))


def test_truncated_file_raises_input_error(checkpoints, tmp_path):
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(checkpoints[1].read_bytes()[:-40])
    with pytest.raises(InputError, match="truncated"):
        merge_files(checkpoints[0], [checkpoints[1], bad], tmp_path / "o.safetensors",
                    MergeSettings("task_arithmetic", (1.0, 1.0)))


@pytest.mark.parametrize("settings,method,check", [
    (MergeSettings("task_arithmetic", (0.3, 0.6)), "task_arithmetic",
     lambda c: [m["parameters"]["weight"] for m in c["models"]] == [0.3, 0.6]),
    (MergeSettings("ties", density=0.2, scale=1.1), "ties",
     lambda c: c["parameters"]["lambda"] == 1.1 and c["models"][0]["parameters"]["density"] == 0.2),
    (MergeSettings("dare", (1.0, 0.5), drop_rate=0.9, sign_election=True), "dare_ties",
     lambda c: c["models"][1]["parameters"] == {"weight": 0.5, "density": 0.1}),
    (MergeSettings("slerp", t=0.25, pair=(1, 0)), "slerp",
     lambda c: c["parameters"]["t"] == 0.25 and c["base_model"] == "ft_b"),
    (MergeSettings("linear", (1.0, 3.0)), "linear", lambda c: c["parameters"]["normalize"] is True),
    (MergeSettings("lines", (1.0, 1.0), alpha=0.2, beta=0.5), "task_arithmetic",
     lambda c: c["models"][0]["parameters"]["weight"] == [0.2, 0.7]),
])
def test_yaml_export_parses_and_names_method_and_parameters(settings, method, check):
    text = to_mergekit_yaml(settings, "base", ["ft_a", "ft_b"])
    cfg = yaml.safe_load(text)
    assert cfg["merge_method"] == method and check(cfg)
    config = pytest.importorskip("mergekit.config")
    config.MergeConfiguration.model_validate(cfg)  # mergekit itself accepts it


def test_cli_merges_and_writes_yaml(checkpoints, tmp_path):
    out = tmp_path / "cli.safetensors"
    cmd = [sys.executable, "-m", "models.merging.cli", "--base", str(checkpoints[0]), "--models",
           str(checkpoints[1]), str(checkpoints[2]), "--out", str(out), "--method", "ties", "--density", "0.5",
           "--yaml", str(tmp_path / "cfg.yml")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = merge_state_dicts(load_file(str(checkpoints[0])), [load_file(str(p)) for p in checkpoints[1:]],
                                 MergeSettings("ties", density=0.5))
    assert torch.allclose(load_file(str(out))["layers.0.weight"], expected["layers.0.weight"])
    assert yaml.safe_load((tmp_path / "cfg.yml").read_text())["merge_method"] == "ties"
    bad = subprocess.run([*cmd[:6], str(checkpoints[1]), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Only one fine-tuned model" in bad.stderr and "Traceback" not in bad.stderr
