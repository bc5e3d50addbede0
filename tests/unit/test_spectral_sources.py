"""Streaming analysis from files equals the in-memory one; LoRA merging matches peft; bad input is refused."""
import math

import pytest
import torch
from safetensors.torch import save_file

from models.common.errors import InputError
from models.spectral import sources
from models.spectral.analysis import load_spectra, save_spectra
from models.spectral.sources import (DictSource, LoraMergedSource, analyse_checkpoints, analyse_sources,
                                     open_checkpoint)

PATTERN = r"dense\.weight$"


def tiny_state(seed: int, delta: float = 0.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    state = {f"encoder.layer.{i}.{n}.dense.weight": torch.randn(24, 16, generator=g) for i in range(2)
             for n in ("intermediate", "output")}
    state["encoder.layer.0.output.dense.bias"] = torch.randn(24, generator=g)
    if delta:
        g2 = torch.Generator().manual_seed(seed)
        state = {k: v + delta * torch.randn(v.shape, generator=g2) for k, v in state.items()}
    return state


@pytest.fixture()
def files(tmp_path):
    base, tuned = tiny_state(0), tiny_state(1, delta=0.3)
    save_file(base, str(tmp_path / "base.safetensors"))
    save_file({f"bert.{k}": v for k, v in tuned.items()}, str(tmp_path / "tuned.safetensors"))  # prefixed names
    return tmp_path, base, tuned


def test_streaming_equals_in_memory(files):
    folder, base, tuned = files
    streamed, _notes = analyse_checkpoints(folder / "base.safetensors", folder / "tuned.safetensors", pattern=PATTERN)
    in_memory, _ = analyse_sources(DictSource(base, "base"), DictSource(tuned, "tuned"), pattern=PATTERN)
    assert [s.name for s in streamed] == [s.name for s in in_memory] and len(streamed) == 4
    for a, b in zip(streamed, in_memory, strict=True):
        assert torch.equal(a.sim, b.sim) and torch.equal(a.tuned_sigma, b.tuned_sigma)
        assert a.delta_rank == b.delta_rank == 16
    progress = []
    analyse_checkpoints(folder / "base.safetensors", folder / "tuned.safetensors", pattern=PATTERN,
                        progress=lambda f, m: progress.append(f))
    assert progress[-1] == 1.0 and len(progress) == 5


def test_spectra_file_round_trip(files, tmp_path):
    _folder, base, tuned = files
    spectra, _ = analyse_sources(DictSource(base, "b"), DictSource(tuned, "t"), pattern=PATTERN)
    loaded, config = load_spectra(save_spectra(tmp_path / "x.spectra.safetensors", spectra, {"run": "x"}))
    assert config == {"run": "x"}
    assert all(torch.equal(a.sim, b.sim) and a.shape == b.shape for a, b in zip(spectra, loaded, strict=True))


@pytest.mark.parametrize("rslora", [False, True])
def test_adapter_merge_equals_peft_and_w0_plus_scaled_ba(tmp_path, rslora):
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=16)
    model = BertModel(cfg, add_pooling_layer=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "base.safetensors"))
    base_W = {k: v.clone() for k, v in model.state_dict().items()}
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=6, use_rslora=rslora,
                                                  target_modules=["query", "value", "dense"]))
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p)  # B starts at zero; make the update visible
    peft_model.save_pretrained(str(tmp_path / "adapter"))
    merged = peft_model.merge_and_unload().state_dict()

    source = LoraMergedSource(open_checkpoint(tmp_path / "base.safetensors", "base"), tmp_path / "adapter")
    key = "encoder.layer.1.attention.self.query.weight"
    assert torch.allclose(source.get(key), merged[key], atol=1e-5)
    A, B = source.factors[key]
    scale = 6 / math.sqrt(4) if rslora else 6 / 4
    assert torch.allclose(source.get(key), base_W[key] + scale * B @ A, atol=1e-5)
    spectra, _ = analyse_checkpoints(tmp_path / "base.safetensors", adapter_path=tmp_path / "adapter")
    assert len(spectra) == len(source.adapted()) and all(s.delta_rank == 4 for s in spectra)


def test_adapter_for_another_base_is_refused(tmp_path, files):
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertModel

    cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=24, max_position_embeddings=16)
    for name, targets in (("other_names", ["dense"]), ("other_shapes", r".*layer\.\d+\.(intermediate|output)\.dense")):
        get_peft_model(BertModel(cfg, add_pooling_layer=False),
                       LoraConfig(r=2, target_modules=targets)).save_pretrained(str(tmp_path / name))
    folder, _, _ = files
    with pytest.raises(InputError, match=r"does not have, e\.g\. encoder\.layer\.0\.attention\.output\.dense\.weight"):
        analyse_checkpoints(folder / "base.safetensors", adapter_path=tmp_path / "other_names")
    shapes = r"different base model .*intermediate\.dense\.weight: adapter B A is 24x8, base is 24x16"
    with pytest.raises(InputError, match=shapes):
        analyse_checkpoints(folder / "base.safetensors", adapter_path=tmp_path / "other_shapes")
    with pytest.raises(InputError, match=r"adapter_config\.json"):
        analyse_checkpoints(folder / "base.safetensors", adapter_path=folder)


def test_bad_inputs_get_clear_messages(files, tmp_path, monkeypatch):
    folder, _base, tuned = files
    b = folder / "base.safetensors"
    wrong = dict(tuned)
    wrong["encoder.layer.1.output.dense.weight"] = torch.randn(24, 8)
    save_file(wrong, str(tmp_path / "wrong.safetensors"))
    with pytest.raises(InputError, match=r"encoder\.layer\.1\.output\.dense\.weight \(base 24x16, tuned 24x8\)"):
        analyse_checkpoints(b, tmp_path / "wrong.safetensors", pattern=PATTERN)

    partial = {k: v for k, v in tuned.items() if "layer.1" not in k}
    save_file(partial, str(tmp_path / "partial.safetensors"))
    spectra, notes = analyse_checkpoints(b, tmp_path / "partial.safetensors", pattern=r"layer")
    assert len(spectra) == 2
    assert any("missing from the tuned" in n for n in notes) and any("not 2-D" in n for n in notes)

    (tmp_path / "broken.safetensors").write_bytes(b.read_bytes()[:200])
    with pytest.raises(InputError, match="truncated or corrupted"):
        analyse_checkpoints(b, tmp_path / "broken.safetensors")
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(InputError, match=r"only \.safetensors"):
        analyse_checkpoints(b, tmp_path / "model.bin")
    with pytest.raises(InputError, match="regular expression"):
        analyse_checkpoints(b, folder / "tuned.safetensors", pattern="(")
    with pytest.raises(InputError, match="No tensor"):
        analyse_checkpoints(b, folder / "tuned.safetensors", pattern="attention")
    with pytest.raises(InputError, match="exactly one"):
        analyse_checkpoints(b)
    monkeypatch.setattr(sources, "MAX_MATRIX_ENTRIES", 100)
    with pytest.raises(InputError, match="cap"):
        analyse_checkpoints(b, folder / "tuned.safetensors", pattern=PATTERN)
